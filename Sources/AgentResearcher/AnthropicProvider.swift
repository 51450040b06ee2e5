import Foundation

/// Anthropic's Messages API with tool use (`POST {base}/v1/messages`, `anthropic-version: 2023-06-01`).
///
/// Wire format (docs.anthropic.com, "Messages" and "Tool use"): `system` is a top-level string; assistant turns
/// carry `text` and `tool_use` blocks (`id`, `name`, `input` object); tool results go back in a *user* turn as
/// `tool_result` blocks (`tool_use_id`, `content`, `is_error`); `stop_reason` is `end_turn`, `tool_use`,
/// `max_tokens`, …; `usage` has `input_tokens` and `output_tokens`.
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

    /// The request body for a conversation (public so tests can check the wire format).
    public func requestBody(system: String, messages: [ChatMessage], tools: [ToolSpec], maxTokens: Int) -> JSONValue {
        var wire: [JSONValue] = []
        for message in messages {
            switch message {
            case .user(let text):
                wire.append(["role": "user", "content": [["type": "text", "text": .string(text)]]])
            case .assistant(let text, let calls):
                var blocks: [JSONValue] = []
                if !text.isEmpty { blocks.append(["type": "text", "text": .string(text)]) }
                for call in calls {
                    blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name),
                                   "input": .object(call.arguments ?? [:])])
                }
                if blocks.isEmpty { blocks.append(["type": "text", "text": "(no reply)"]) }
                wire.append(["role": "assistant", "content": .array(blocks)])
            case .toolResults(let results):
                wire.append(["role": "user", "content": .array(results.map {
                    ["type": "tool_result", "tool_use_id": .string($0.callID), "content": .string($0.content), "is_error": .bool($0.isError)]
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
        var body: [String: JSONValue] = [
            "model": .string(model), "max_tokens": .number(Double(maxTokens)), "system": .string(system),
            "messages": .array(merged),
        ]
        if !tools.isEmpty {
            body["tools"] = .array(tools.map { ["name": .string($0.name), "description": .string($0.description), "input_schema": $0.inputSchema] })
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
        return AssistantTurn(text: text.joined(separator: "\n"), toolCalls: calls, stopReason: stop,
                             inputTokens: body["usage"]?["input_tokens"]?.int ?? 0,
                             outputTokens: body["usage"]?["output_tokens"]?.int ?? 0)
    }

    public func complete(system: String, messages: [ChatMessage], tools: [ToolSpec], maxTokens: Int,
                         timeout: TimeInterval, log: TranscriptLog) async throws -> AssistantTurn {
        let body = requestBody(system: system, messages: messages, tools: tools, maxTokens: maxTokens)
        let json = try await transport.postJSON(
            baseURL.appendingPathComponent("v1/messages"),
            headers: ["x-api-key": apiKey, "anthropic-version": AnthropicProvider.version],
            body: body, timeout: timeout, log: log)
        return try AnthropicProvider.parseResponse(json)
    }
}
