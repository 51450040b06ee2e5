import Foundation

/// Anthropic's Messages API with tool use (`POST {base}/v1/messages`, `anthropic-version: 2023-06-01`).
///
/// Wire format (docs.anthropic.com, "Messages" and "Tool use"): `system` is a top-level string; assistant turns
/// carry `text` and `tool_use` blocks (`id`, `name`, `input` object); tool results go back in a *user* turn as
/// `tool_result` blocks (`tool_use_id`, `content`, `is_error`); `stop_reason` is `end_turn`, `tool_use`,
/// `max_tokens`, …; `usage` has `input_tokens` and `output_tokens`, and with prompt caching
/// `cache_creation_input_tokens` and `cache_read_input_tokens` (not counted in `input_tokens`).
public struct AnthropicProvider: ChatProvider {
    public let name = "anthropic"
    public var model: String
    /// Default `https://api.anthropic.com`.
    public var baseURL: URL
    var apiKey: String
    var transport: HTTPTransport
    public static let version = "2023-06-01"

    public init(model: String, baseURL: URL, apiKey: String, transport: HTTPTransport) {
        self.model = model; self.baseURL = baseURL; self.apiKey = apiKey; self.transport = transport
    }

    /// Whether requests mark the prompt cache's breakpoints (`cache_control`); on by default.
    public var promptCaching = true

    /// The request body for a conversation (public so tests can check the wire format).
    ///
    /// Every branch of a conversation yields a request the API accepts: a text block that is empty or only
    /// whitespace is left out (the API answers 400 "text content blocks must contain non-whitespace text"),
    /// an assistant turn with nothing left says so in words, a tool call whose arguments were not a JSON object
    /// goes back with `{}` as its input, and consecutive user turns are merged (the roles must alternate).
    ///
    /// Prompt caching (docs.anthropic.com, "Prompt caching"): the cache prefix runs tools → system → messages.
    /// Breakpoints (`cache_control: {"type": "ephemeral"}`) on the last tool, on the system prompt and on the
    /// last block of the last message let every turn read what the turn before wrote; 3 of the 4 allowed.
    public func requestBody(system: String, messages: [ChatMessage], tools: [ToolSpec], maxTokens: Int) -> JSONValue {
        func hasText(_ text: String) -> Bool { !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        var wire: [JSONValue] = []
        for message in messages {
            switch message {
            case .user(let text):
                wire.append(["role": "user", "content": [["type": "text", "text": .string(hasText(text) ? text : "(empty message)")]]])
            case .assistant(let text, let calls):
                var blocks: [JSONValue] = []
                if hasText(text) { blocks.append(["type": "text", "text": .string(text)]) }
                for call in calls {
                    blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name),
                                   "input": .object(call.arguments ?? [:])])
                }
                if blocks.isEmpty { blocks.append(["type": "text", "text": "(no reply)"]) }
                wire.append(["role": "assistant", "content": .array(blocks)])
            case .toolResults(let results):
                wire.append(["role": "user", "content": .array(results.map {
                    ["type": "tool_result", "tool_use_id": .string($0.callID),
                     "content": .string(hasText($0.content) ? $0.content : "(no output)"), "is_error": .bool($0.isError)]
                })])
            }
        }
        // The API alternates roles: tool results and a following user text go in one user turn.
        var merged: [JSONValue] = []
        for message in wire {
            if let last = merged.last, last["role"] == "user", message["role"] == "user",
               let a = last["content"]?.array, let b = message["content"]?.array {
                merged[merged.count - 1] = ["role": "user", "content": .array(a + b)]
            } else {
                merged.append(message)
            }
        }
        let breakpoint: JSONValue = ["type": "ephemeral"]
        if promptCaching, var last = merged.last?.object, var blocks = last["content"]?.array, var block = blocks.last?.object {
            block["cache_control"] = breakpoint
            blocks[blocks.count - 1] = .object(block)
            last["content"] = .array(blocks)
            merged[merged.count - 1] = .object(last)
        }
        var systemBlock: [String: JSONValue] = ["type": "text", "text": .string(system)]
        if promptCaching { systemBlock["cache_control"] = breakpoint }
        var body: [String: JSONValue] = [
            "model": .string(model), "max_tokens": .number(Double(maxTokens)), "system": [.object(systemBlock)],
            "messages": .array(merged),
        ]
        if !tools.isEmpty {
            body["tools"] = .array(tools.enumerated().map { i, tool in
                var spec: [String: JSONValue] = ["name": .string(tool.name), "description": .string(tool.description), "input_schema": tool.inputSchema]
                if promptCaching, i == tools.count - 1 { spec["cache_control"] = breakpoint }
                return .object(spec)
            })
        }
        return .object(body)
    }

    /// Reads a Messages API response body.
    public static func parseResponse(_ body: JSONValue) throws -> AssistantTurn {
        guard let content = body["content"]?.array else {
            throw ProviderError.malformedResponse("no `content` array in \(body.text.prefix(200))")
        }
        var text: [String] = []
        var calls: [ToolCall] = []
        for block in content {
            switch block["type"]?.string {
            case "text": text.append(block["text"]?.string ?? "")
            case "tool_use":
                guard let id = block["id"]?.string, let name = block["name"]?.string else {
                    throw ProviderError.malformedResponse("a tool_use block without id or name")
                }
                calls.append(ToolCall(id: id, name: name, rawArguments: (block["input"] ?? .object([:])).text))
            default: continue  // thinking and other block kinds carry nothing the loop needs
            }
        }
        let stop: StopReason
        switch body["stop_reason"]?.string {
        case "end_turn", "stop_sequence": stop = .endTurn
        case "tool_use": stop = .toolUse
        case "max_tokens": stop = .maxTokens
        default: stop = calls.isEmpty ? .other : .toolUse
        }
        let usage = body["usage"]
        return AssistantTurn(text: text.joined(separator: "\n"), toolCalls: calls, stopReason: stop,
                             inputTokens: usage?["input_tokens"]?.int ?? 0,
                             outputTokens: usage?["output_tokens"]?.int ?? 0,
                             cacheWriteTokens: usage?["cache_creation_input_tokens"]?.int ?? 0,
                             cacheReadTokens: usage?["cache_read_input_tokens"]?.int ?? 0)
    }

    public func complete(system: String, messages: [ChatMessage], tools: [ToolSpec], maxTokens: Int,
                         deadline: Date, log: TranscriptLog) async throws -> AssistantTurn {
        let body = requestBody(system: system, messages: messages, tools: tools, maxTokens: maxTokens)
        let json = try await transport.postJSON(
            baseURL.appendingPathComponent("v1/messages"),
            headers: ["x-api-key": apiKey, "anthropic-version": AnthropicProvider.version],
            body: body, deadline: deadline, log: log)
        return try AnthropicProvider.parseResponse(json)
    }
}
