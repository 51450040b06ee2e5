import Foundation

/// A tool the model may call: its name, what it does, and a JSON Schema for its input.
public struct ToolSpec: Sendable, Equatable {
    public var name: String
    public var description: String
    /// JSON Schema of the input object (`{"type": "object", "properties": …, "required": […]}`).
    public var inputSchema: JSONValue

    public init(name: String, description: String, inputSchema: JSONValue) {
        self.name = name; self.description = description; self.inputSchema = inputSchema
    }
}

/// One tool call in an assistant turn.
public struct ToolCall: Sendable, Equatable {
    /// The provider's id, echoed back with the result (`tool_use.id`, `tool_calls[].id`).
    public var id: String
    public var name: String
    /// The arguments as the model sent them (OpenAI sends a JSON string, Anthropic an object).
    public var rawArguments: String
    /// The arguments parsed as a JSON object; nil when they are not one (a malformed call).
    public var arguments: [String: JSONValue]? { JSONValue.parse(rawArguments)?.object }

    public init(id: String, name: String, rawArguments: String) {
        self.id = id; self.name = name; self.rawArguments = rawArguments
    }
}

/// The result of one tool call, sent back on the next turn.
public struct ToolResult: Sendable, Equatable {
    public var callID: String
    public var name: String
    public var content: String
    public var isError: Bool

    public init(callID: String, name: String, content: String, isError: Bool = false) {
        self.callID = callID; self.name = name; self.content = content; self.isError = isError
    }
}

/// A provider-neutral chat message; each provider maps it onto its own wire format.
public enum ChatMessage: Sendable, Equatable {
    case user(String)
    case assistant(text: String, toolCalls: [ToolCall])
    case toolResults([ToolResult])
}

/// Why the model stopped.
public enum StopReason: String, Sendable, Equatable {
    /// It finished its turn (`end_turn`, `stop`).
    case endTurn
    /// It wants tool results (`tool_use`, `tool_calls`).
    case toolUse
    /// It hit the max-tokens limit of the request (`max_tokens`, `length`); the reply is cut off.
    case maxTokens
    /// Anything else the provider reports (e.g. a content filter).
    case other
}

/// One assistant turn as the agent loop sees it.
public struct AssistantTurn: Sendable, Equatable {
    public var text: String
    public var toolCalls: [ToolCall]
    public var stopReason: StopReason
    /// Input tokens billed at the plain input price (neither written to nor read from the prompt cache).
    public var inputTokens: Int
    public var outputTokens: Int
    /// Input tokens written to the prompt cache (Anthropic's `cache_creation_input_tokens`; 0 for OpenAI).
    public var cacheWriteTokens: Int
    /// Input tokens read from the prompt cache (Anthropic's `cache_read_input_tokens`, OpenAI's
    /// `prompt_tokens_details.cached_tokens`).
    public var cacheReadTokens: Int

    public init(text: String, toolCalls: [ToolCall], stopReason: StopReason, inputTokens: Int, outputTokens: Int,
                cacheWriteTokens: Int = 0, cacheReadTokens: Int = 0) {
        self.text = text; self.toolCalls = toolCalls; self.stopReason = stopReason
        self.inputTokens = inputTokens; self.outputTokens = outputTokens
        self.cacheWriteTokens = cacheWriteTokens; self.cacheReadTokens = cacheReadTokens
    }
}

/// A chat model behind an HTTP API that supports tool use.
public protocol ChatProvider: Sendable {
    /// "anthropic" or "openai", recorded in the ledger as the researcher's name.
    var name: String { get }
    var model: String { get }
    /// Sends the conversation and returns the model's next turn. Every HTTP attempt, and every wait between
    /// attempts, ends by `deadline` (the experiment's time limit for the researcher).
    /// Throws `ProviderError` when the provider refuses, stays unavailable after retries, or the deadline comes first.
    func complete(system: String, messages: [ChatMessage], tools: [ToolSpec], maxTokens: Int,
                  deadline: Date, log: TranscriptLog) async throws -> AssistantTurn
}

/// Why a provider call failed, in words that say what to do.
public enum ProviderError: Error, Equatable, CustomStringConvertible {
    /// A key the backend needs is not in the environment.
    case missingKey(variable: String, provider: String)
    /// The provider answered with an error that retrying will not fix (400, 401, 403, 404, …).
    case rejected(status: Int, message: String)
    /// 429 / 5xx / timeouts / dropped connections, still failing after every retry.
    case unavailable(attempts: Int, lastError: String)
    /// The response was not the provider's documented format.
    case malformedResponse(String)
    /// The researcher's time limit came before an answer: a call that hung, or a wait (back-off or the server's
    /// `retry-after`) longer than the time left.
    case outOfTime(String)

    public var description: String {
        switch self {
        case .missingKey(let variable, let provider):
            return "\(variable) is not set; export it for the \(provider) researcher (or choose another with --researcher)"
        case .rejected(let status, let message):
            let hint: String
            switch status {
            case 401, 403: hint = " (check the API key)"
            case 404: hint = " (check the model name and base URL)"
            default: hint = ""
            }
            return "the provider rejected the request: HTTP \(status)\(hint): \(message)"
        case .unavailable(let attempts, let lastError):
            return "the provider is unavailable after \(attempts) attempts: \(lastError)"
        case .malformedResponse(let why):
            return "the provider's response is not in the expected format: \(why)"
        case .outOfTime(let why):
            return "\(why) (raise [researcher.limits] max_seconds to allow longer calls)"
        }
    }
}
