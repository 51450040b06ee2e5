import Foundation

/// OpenAI's Chat Completions API with function tools (`POST {base}/chat/completions`, `Authorization: Bearer`),
/// which OpenAI, OpenRouter, Ollama, vLLM, llama.cpp's server and LM Studio all speak.
///
/// Wire format (platform.openai.com, "Chat Completions" and "Function calling"): a `system` message first;
/// assistant messages carry `tool_calls` (`id`, `type: "function"`, `function.name`, `function.arguments` as a
/// JSON *string*); each result is a `tool` message with `tool_call_id`; `finish_reason` is `stop`, `tool_calls`,
/// `length`, …; `usage` has `prompt_tokens` and `completion_tokens`.
public struct OpenAIProvider: ChatProvider {
    public let name = "openai"
    public var model: String
    /// Default `https://api.openai.com/v1`; e.g. `http://localhost:11434/v1` for Ollama.
    public var baseURL: URL
    /// nil for local servers that need no key.
    var apiKey: String?
    /// `max_tokens` (most servers) or `max_completion_tokens` (OpenAI's newer models).
    public var maxTokensField: String
    var transport: HTTPTransport

    public init(model: String, baseURL: URL, apiKey: String?, maxTokensField: String = "max_tokens", transport: HTTPTransport) {
        self.model = model; self.baseURL = baseURL; self.apiKey = apiKey
        self.maxTokensField = maxTokensField; self.transport = transport
    }

    public func requestBody(system: String, messages: [ChatMessage], tools: [ToolSpec], maxTokens: Int) -> JSONValue {
        var wire: [JSONValue] = [["role": "system", "content": .string(system)]]
        for message in messages {
            switch message {
            case .user(let text):
                wire.append(["role": "user", "content": .string(text)])
            case .assistant(let text, let calls):
                var m: [String: JSONValue] = ["role": "assistant", "content": text.isEmpty ? .null : .string(text)]
                if !calls.isEmpty {
                    m["tool_calls"] = .array(calls.map {
                        ["id": .string($0.id), "type": "function",
                         "function": ["name": .string($0.name), "arguments": .string($0.rawArguments)]]
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
                                         maxTokensField: .number(Double(maxTokens))]
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
            calls.append(ToolCall(id: call["id"]?.string ?? "call_\(i)", name: name, rawArguments: arguments))
        }
        let stop: StopReason
        switch choice["finish_reason"]?.string {
        case "stop": stop = calls.isEmpty ? .endTurn : .toolUse
        case "tool_calls", "function_call": stop = .toolUse
        case "length": stop = .maxTokens
        default: stop = calls.isEmpty ? .other : .toolUse
        }
        return AssistantTurn(text: message["content"]?.string ?? "", toolCalls: calls, stopReason: stop,
                             inputTokens: body["usage"]?["prompt_tokens"]?.int ?? 0,
                             outputTokens: body["usage"]?["completion_tokens"]?.int ?? 0)
    }

    public func complete(system: String, messages: [ChatMessage], tools: [ToolSpec], maxTokens: Int,
                         timeout: TimeInterval, log: TranscriptLog) async throws -> AssistantTurn {
        let body = requestBody(system: system, messages: messages, tools: tools, maxTokens: maxTokens)
        var headers: [String: String] = [:]
        if let apiKey, !apiKey.isEmpty { headers["authorization"] = "Bearer \(apiKey)" }
        let json = try await transport.postJSON(baseURL.appendingPathComponent("chat/completions"), headers: headers,
                                                body: body, timeout: timeout, log: log)
        return try OpenAIProvider.parseResponse(json)
    }
}
