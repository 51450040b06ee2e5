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
