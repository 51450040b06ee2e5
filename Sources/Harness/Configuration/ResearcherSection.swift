import AgentResearcher
import Foundation

/// The manifest's `[researcher]` table: which researcher runs, and the settings of LLM and command researchers.
///
/// It is not part of the evaluation, so it is left out of the manifest hash a tag records: switching the
/// researcher or its limits resumes the same tag. Command-line options (`--researcher`, `--model`,
/// `--base-url`, `--agent-command`) override it for one run.
public struct ResearcherSection: Sendable, Equatable {
    /// search, optuna, anthropic, openai or command.
    public var kind = "search"
    public var model: String?
    public var baseURL: String?
    public var apiKeyVariable: String?
    public var maxTokensField: String?
    public var command: String?
    public var commandTimeout: Double?
    /// `agent_read_only`, `agent_writable`, `agent_environment`: what a confined agent command may reach.
    public var access = AgentAccess()
    public var limits = AgentLimits()
    public var prices: Prices?
    public var retry = RetryPolicy()
    /// The search researcher's settings (`[researcher.search]`, e.g. `step_size = 2`), as a JSON object of
    /// `SearchSettings` keys; nil for the defaults. The meta-loop's original program starts from them.
    public var search: String?

    public init() {}

    /// The kinds `--researcher` and `researcher.kind` accept.
    public static let kinds = ["search", "optuna"] + AgentSettings.Backend.allCases.map(\.rawValue)

    /// Settings for `backend`: its defaults, then this table's values.
    public func settings(for backend: AgentSettings.Backend) -> AgentSettings {
        var s = AgentSettings(backend: backend)
        if let model { s.model = model }
        if let baseURL { s.baseURL = baseURL }
        if let apiKeyVariable { s.apiKeyVariable = apiKeyVariable }
        if let maxTokensField { s.maxTokensField = maxTokensField }
        if let command { s.command = command }
        if let commandTimeout { s.commandTimeout = commandTimeout }
        s.access = access
        if let prices { s.prices = prices }
        s.limits = limits
        s.retry = retry
        return s
    }

    /// Removes the `[researcher]` tables (and their sub-tables), `[swarm]` and `[meta]` from manifest text, for the tag's hash.
    static func strip(from text: String) -> String {
        var out: [Substring] = []
        var skipping = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("[") {
                skipping = t.hasPrefix("[researcher]") || t.hasPrefix("[researcher.") || t.hasPrefix("[swarm]") || t.hasPrefix("[meta]")
            }
            if !skipping { out.append(line) }
        }
        return out.joined(separator: "\n")
    }
}

extension ResearcherSection {
    /// The `[researcher]` table's own keys (`ManifestSchema`); its sub-tables have theirs.
    static var keys: [ManifestKey<ResearcherSection>] {
        let absolute: (String) -> String? = { $0.hasPrefix("/") ? nil : "names '\($0)'; the folders an agent may reach are absolute paths, e.g. \"/opt/agent\"." }
        return [
            .oneOf("kind", \.kind, kinds, "Who proposes the changes: \"search\" (built in, no LLM), \"optuna\", \"anthropic\", \"openai\" (any OpenAI-compatible server: set base_url, e.g. \"http://localhost:11434/v1\" for Ollama) or \"command\" (an external agent, e.g. command = \"claude -p\").",
                   problem: { "is '\($0)'; use one of \(kinds.joined(separator: ", "))." }),
            .optionalString("model", \.model, "The LLM's model name."),
            .optionalString("base_url", \.baseURL, "The API's base URL (an OpenAI-compatible server).", problem: { url in
                URL(string: url)?.scheme.map({ ["http", "https"].contains($0) }) == true ? nil
                    : "is '\(url)', which is not an http(s) URL; e.g. \"http://localhost:11434/v1\"." }),
            .optionalString("api_key_env", \.apiKeyVariable, "The environment variable that holds the API key (never the key itself)."),
            .optionalString("max_tokens_field", \.maxTokensField, "The request field that limits a reply: \"max_tokens\" or \"max_completion_tokens\".", problem: { field in
                ["max_tokens", "max_completion_tokens"].contains(field) ? nil : "is '\(field)'; use \"max_tokens\" or \"max_completion_tokens\"." }),
            .optionalString("command", \.command, "The command researcher's agent command; {prompt_file} or {prompt} is replaced, else it reads the prompt on standard input."),
            .optionalNumber("command_timeout_seconds", \.commandTimeout, "Seconds the agent command may take."),
            .strings("agent_read_only", \.access.readOnly, "Absolute folders the confined agent reads (its own installation).", problem: absolute),
            .strings("agent_writable", \.access.writable, "Absolute folders the confined agent writes (its own state).", problem: absolute),
            .strings("agent_environment", \.access.environment, "Variables of the harness's environment the agent gets (its API key's), beside PATH, LANG and TERM."),
        ]
    }

    /// The `[researcher.limits]` table's keys (`ManifestSchema`).
    static var limitKeys: [ManifestKey<AgentLimits>] {
        [.int("max_turns", \.maxTurns, "Model calls per experiment, repairs included.", check: { $0 > 0 }, problem: "must be positive."),
         .int("max_output_tokens", \.maxOutputTokens, "Output tokens per experiment, over all turns.", check: { $0 > 0 }, problem: "must be positive."),
         .int("max_tokens_per_reply", \.maxTokensPerReply, "Output tokens one reply may have.", check: { $0 > 0 }, problem: "must be positive."),
         .number("max_seconds", \.maxSeconds, "Seconds an experiment's researcher may take.", check: { $0 > 0 }, problem: "must be positive."),
         .number("max_cost_per_experiment", \.maxCostPerExperiment, "USD per experiment, at the prices of [researcher.prices].", check: { $0 >= 0 }, problem: "must not be negative."),
         .number("max_cost_per_session", \.maxCostPerSession, "USD per `autoresearch run` session.", check: { $0 >= 0 }, problem: "must not be negative."),
         .int("build_fix_attempts", \.buildFixAttempts, "Times a failed build goes back to the researcher for a fix.", check: { $0 >= 0 }, problem: "must not be negative.")]
    }

    /// The `[researcher.retry]` table's keys (`ManifestSchema`).
    static var retryKeys: [ManifestKey<RetryPolicy>] {
        [.int("max_attempts", \.maxAttempts, "Attempts of an API call in all, the first included.", check: { $0 >= 1 }, problem: "must be at least 1."),
         .number("base_delay_seconds", \.baseDelay, "The wait before the second attempt; it doubles each time (with ±50 % jitter)."),
         .number("max_delay_seconds", \.maxDelay, "The longest wait between attempts.")]
    }
}
