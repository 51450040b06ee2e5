import Foundation
import Synchronization

/// OpenAI's Chat Completions API with function tools (`POST {base}/chat/completions`, `Authorization: Bearer`),
/// which OpenAI, OpenRouter, Ollama, vLLM, llama.cpp's server and LM Studio all speak.
///
/// Wire format (platform.openai.com, "Chat Completions" and "Function calling"): a `system` message first;
/// assistant messages carry `tool_calls` (`id`, `type: "function"`, `function.name`, `function.arguments` as a
/// JSON *string*); each result is a `tool` message with `tool_call_id`; `finish_reason` is `stop`, `tool_calls`,
/// `length`, …; `usage` has `prompt_tokens` and `completion_tokens`, with the cached part of the prompt in
/// `prompt_tokens_details.cached_tokens` (OpenAI caches prompts of 1,024 tokens or more by itself).
public struct OpenAIProvider: ChatProvider {
    public let name = "openai"
    public var model: String
    /// Default `https://api.openai.com/v1`; e.g. `http://localhost:11434/v1` for Ollama.
    public var baseURL: URL
    /// nil for local servers that need no key.
    var apiKey: String?
    /// The field that carries the reply's token limit: `max_tokens` (most servers) or `max_completion_tokens`
    /// (OpenAI's reasoning models, which reject `max_tokens`). Shared by copies of this provider, so a switch
    /// lasts for the run.
    let tokenField: TokenLimitField
    var transport: HTTPTransport

    /// - Parameter maxTokensField: the field to send, fixed; nil: `max_tokens`, switched once to
    ///   `max_completion_tokens` (or back) when the server rejects it as unsupported.
    public init(model: String, baseURL: URL, apiKey: String?, maxTokensField: String? = nil, transport: HTTPTransport) {
        self.model = model; self.baseURL = baseURL; self.apiKey = apiKey
        self.tokenField = TokenLimitField(fixed: maxTokensField); self.transport = transport
    }

    /// The field the next request uses for its token limit.
    public var maxTokensField: String { tokenField.current }

    /// The request body for a conversation (public so tests can check the wire format).
    ///
    /// Every branch of a conversation yields a request the servers accept: an assistant message with neither
    /// text nor tool calls says so in words instead of `content: null` (OpenAI requires content unless there are
    /// tool calls), and a tool call whose arguments were not a JSON object goes back with `"{}"` (vLLM and
    /// llama.cpp's server parse the arguments of earlier calls and answer 400 on every later turn otherwise).
    public func requestBody(system: String, messages: [ChatMessage], tools: [ToolSpec], maxTokens: Int) -> JSONValue {
        var wire: [JSONValue] = [["role": "system", "content": .string(system)]]
        for message in messages {
            switch message {
            case .user(let text):
                wire.append(["role": "user", "content": .string(text)])
            case .assistant(let text, let calls):
                let blank = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                var m: [String: JSONValue] = ["role": "assistant", "content": !blank ? .string(text) : calls.isEmpty ? "(no reply)" : .null]
                if !calls.isEmpty {
                    m["tool_calls"] = .array(calls.map {
                        ["id": .string($0.id), "type": "function",
                         "function": ["name": .string($0.name), "arguments": .string($0.arguments == nil ? "{}" : $0.rawArguments)]]
                    })
                }
                wire.append(.object(m))
            case .toolResults(let results):
                for r in results {
                    wire.append(["role": "tool", "tool_call_id": .string(r.callID),
                                 "content": .string(r.isError ? "ERROR: " + r.content : r.content)])
                }
            }
        }
        var body: [String: JSONValue] = ["model": .string(model), "messages": .array(wire),
                                         tokenField.current: .number(Double(maxTokens))]
        if !tools.isEmpty {
            body["tools"] = .array(tools.map {
                ["type": "function",
                 "function": ["name": .string($0.name), "description": .string($0.description), "parameters": $0.inputSchema]]
            })
        }
        return .object(body)
    }

    public static func parseResponse(_ body: JSONValue) throws -> AssistantTurn {
        guard let choice = body["choices"]?.array?.first, let message = choice["message"] else {
            throw ProviderError.malformedResponse("no `choices[0].message` in \(body.text.prefix(200))")
        }
        var calls: [ToolCall] = []
        for (i, call) in (message["tool_calls"]?.array ?? []).enumerated() {
            guard let name = call["function"]?["name"]?.string else {
                throw ProviderError.malformedResponse("a tool call without function.name")
            }
            let arguments: String
            switch call["function"]?["arguments"] {
            case .string(let s): arguments = s
            case .some(let other): arguments = other.text  // some servers send an object
            case .none: arguments = "{}"
            }
            let id = call["id"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? "call_\(UUID().uuidString.prefix(8).lowercased())_\(i)"
            calls.append(ToolCall(id: id, name: name, rawArguments: arguments))
        }
        let stop: StopReason
        switch choice["finish_reason"]?.string {
        case "stop": stop = calls.isEmpty ? .endTurn : .toolUse
        case "tool_calls", "function_call": stop = .toolUse
        case "length": stop = .maxTokens
        default: stop = calls.isEmpty ? .other : .toolUse
        }
        let usage = body["usage"]
        let prompt = usage?["prompt_tokens"]?.int ?? 0
        let cached = min(prompt, usage?["prompt_tokens_details"]?["cached_tokens"]?.int ?? 0)
        return AssistantTurn(text: message["content"]?.string ?? "", toolCalls: calls, stopReason: stop,
                             inputTokens: prompt - cached,
                             outputTokens: usage?["completion_tokens"]?.int ?? 0,
                             cacheReadTokens: cached)
    }

    public func complete(system: String, messages: [ChatMessage], tools: [ToolSpec], maxTokens: Int,
                         deadline: Date, log: TranscriptLog) async throws -> AssistantTurn {
        var headers: [String: String] = [:]
        if let apiKey, !apiKey.isEmpty { headers["authorization"] = "Bearer \(apiKey)" }
        let url = baseURL.appendingPathComponent("chat/completions")
        do {
            let body = requestBody(system: system, messages: messages, tools: tools, maxTokens: maxTokens)
            return try OpenAIProvider.parseResponse(try await transport.postJSON(url, headers: headers, body: body, deadline: deadline, log: log))
        } catch ProviderError.rejected(let status, let message) where tokenField.shouldSwitch(status: status, message: message) {
            let (from, to) = tokenField.switchField()
            log.append("harness", "the server does not accept `\(from)` (HTTP \(status): \(message)); sending `\(to)` from now on in this run "
                       + "(set [researcher] max_tokens_field to choose the field)")
            let body = requestBody(system: system, messages: messages, tools: tools, maxTokens: maxTokens)
            return try OpenAIProvider.parseResponse(try await transport.postJSON(url, headers: headers, body: body, deadline: deadline, log: log))
        }
    }
}

/// Which field carries an OpenAI-compatible request's token limit, and the one switch allowed when the server
/// rejects it: OpenAI's reasoning models answer 400 "Unsupported parameter: 'max_tokens' is not supported with
/// this model. Use 'max_completion_tokens' instead.", and some older servers reject `max_completion_tokens`.
final class TokenLimitField: Sendable {
    static let fields = ["max_tokens", "max_completion_tokens"]
    /// Set by the manifest: never switched.
    let fixed: String?
    private let state: Mutex<(field: String, switched: Bool)>

    init(fixed: String?) {
        self.fixed = fixed
        state = Mutex((fixed ?? "max_tokens", false))
    }

    var current: String { state.withLock { $0.field } }

    /// Whether a rejection says the current field is unsupported, and a switch is still allowed.
    func shouldSwitch(status: Int, message: String) -> Bool {
        guard fixed == nil, status == 400 || status == 422 else { return false }
        let (field, switched) = state.withLock { ($0.field, $0.switched) }
        let lower = message.lowercased()
        return !switched && lower.contains(field)
            && ["unsupported", "not supported", "unrecognized", "unknown", "not allowed", "extra inputs", "extra_forbidden"].contains { lower.contains($0) }
    }

    /// Switches to the other field; returns (old, new).
    func switchField() -> (String, String) {
        state.withLock { s in
            let old = s.field
            s.field = Self.fields.first { $0 != old }!
            s.switched = true
            return (old, s.field)
        }
    }
}
