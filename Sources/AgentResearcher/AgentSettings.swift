import Foundation

/// Prices of a hosted model in US dollars per million tokens, which the spending caps are measured in.
/// Set them in autoresearch.toml `[researcher.prices]`; 0 for a local server.
///
/// Prompt caching has prices of its own: Anthropic bills a 5-minute cache write at 1.25× and a cache read at
/// 0.1× the input price; OpenAI bills cached input at 0.25× (GPT-4.1) to 0.1× (GPT-5) and writes nothing extra
/// (docs.anthropic.com "Prompt caching", platform.openai.com "Prompt caching" and "Pricing").
public struct Prices: Sendable, Equatable {
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    public var cacheWritePerMillion: Double
    public var cacheReadPerMillion: Double

    /// Without cache prices, a cache write costs 1.25× and a read 0.1× the input price (Anthropic's multipliers).
    public init(inputPerMillion: Double, outputPerMillion: Double, cacheWritePerMillion: Double? = nil, cacheReadPerMillion: Double? = nil) {
        self.inputPerMillion = inputPerMillion; self.outputPerMillion = outputPerMillion
        self.cacheWritePerMillion = cacheWritePerMillion ?? inputPerMillion * 1.25
        self.cacheReadPerMillion = cacheReadPerMillion ?? inputPerMillion * 0.1
    }

    /// The cost in USD of `input` uncached prompt tokens, `output` completion tokens, and the prompt tokens
    /// written to (`cacheWrite`) and read from (`cacheRead`) the provider's prompt cache.
    public func cost(input: Int, output: Int, cacheWrite: Int = 0, cacheRead: Int = 0) -> Double {
        (Double(input) * inputPerMillion + Double(output) * outputPerMillion
         + Double(cacheWrite) * cacheWritePerMillion + Double(cacheRead) * cacheReadPerMillion) / 1_000_000
    }

    /// The cost of one assistant turn.
    public func cost(of turn: AssistantTurn) -> Double {
        cost(input: turn.inputTokens, output: turn.outputTokens, cacheWrite: turn.cacheWriteTokens, cacheRead: turn.cacheReadTokens)
    }
}

/// Limits of one LLM researcher: per experiment (turns, output tokens, wall time, dollars) and per session.
public struct AgentLimits: Sendable, Equatable {
    /// Model calls per experiment, repairs included.
    public var maxTurns = 30
    /// Output tokens per experiment, over all turns.
    public var maxOutputTokens = 60_000
    /// `max_tokens` of one request.
    public var maxTokensPerReply = 8192
    /// Wall-clock seconds per experiment for the researcher's part (not the training).
    public var maxSeconds: Double = 900
    /// USD per experiment and per `autoresearch run` session, at `Prices`.
    public var maxCostPerExperiment: Double = 2
    public var maxCostPerSession: Double = 50
    /// How many times a failed build goes back to the researcher before the experiment is a crash.
    public var buildFixAttempts = 2

    public init() {}
}

/// Which backend drives an LLM or command researcher, and how.
public struct AgentSettings: Sendable, Equatable {
    public enum Backend: String, Sendable, CaseIterable { case anthropic, openai, command }

    public var backend: Backend
    public var model: String
    /// Anthropic: `https://api.anthropic.com`; OpenAI-compatible: `https://api.openai.com/v1`, or a local server.
    public var baseURL: String
    /// The environment variable holding the API key (never written anywhere).
    public var apiKeyVariable: String
    /// OpenAI-compatible only: `max_tokens` or `max_completion_tokens`; nil: start with `max_tokens` and switch
    /// once, for the run, when the server rejects it as unsupported (OpenAI's reasoning models do).
    public var maxTokensField: String?
    public var prices: Prices
    public var limits = AgentLimits()
    public var retry = RetryPolicy()
    /// Command backend: a shell command run in the worktree; `{prompt_file}` is replaced by the path of a file
    /// holding the prompt, `{prompt}` by the prompt itself (shell-quoted); without either it reads standard input.
    public var command = ""
    public var commandTimeout: Double = 1800
    /// Command backend: what the confined agent may reach beyond its worktree.
    public var access = AgentAccess()

    public init(backend: Backend) {
        self.backend = backend
        switch backend {
        case .anthropic:
            model = "claude-sonnet-4-5"; baseURL = "https://api.anthropic.com"; apiKeyVariable = "ANTHROPIC_API_KEY"
            prices = Prices(inputPerMillion: 3, outputPerMillion: 15)
        case .openai:
            model = "gpt-4.1"; baseURL = "https://api.openai.com/v1"; apiKeyVariable = "OPENAI_API_KEY"
            prices = Prices(inputPerMillion: 2, outputPerMillion: 8, cacheWritePerMillion: 2, cacheReadPerMillion: 0.5)
        case .command:
            model = ""; baseURL = ""; apiKeyVariable = ""; prices = Prices(inputPerMillion: 0, outputPerMillion: 0)
        }
    }

    /// Whether the OpenAI-compatible backend needs a key: only for hosted endpoints (not localhost / LAN servers).
    public var requiresKey: Bool {
        switch backend {
        case .anthropic: return true
        case .command: return false
        case .openai:
            let host = URL(string: baseURL)?.host ?? ""
            return !(host == "localhost" || host == "127.0.0.1" || host == "::1" || host.hasPrefix("192.168.") || host.hasPrefix("10.") || host.hasSuffix(".local"))
        }
    }
}
