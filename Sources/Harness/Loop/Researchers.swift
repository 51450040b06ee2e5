import AgentResearcher
import AutoResearchCore
import Foundation
import SearchResearcher

/// Builds the researcher `autoresearch run` asked for, from the manifest's `[researcher]` table and the
/// command line's overrides; a missing key, a bad URL or an empty command is a clear error here, before anything runs.
public enum Researchers {
    /// Overrides from the command line.
    public struct Overrides: Sendable {
        public var kind: String?
        public var model: String?
        public var baseURL: String?
        public var command: String?
        /// The Optuna researcher's sampler (`--sampler`): tpe, cmaes, random or gp.
        public var sampler: String?
        public init(kind: String? = nil, model: String? = nil, baseURL: String? = nil, command: String? = nil, sampler: String? = nil) {
            self.kind = kind; self.model = model; self.baseURL = baseURL; self.command = command; self.sampler = sampler
        }
    }

    /// The researcher for `workspace`, `tag` and `seed`.
    /// - Parameters:
    ///   - environment: where API keys are read from (the process environment by default).
    ///   - worker: which worker of a swarm it is for; only worker 0's search researcher keeps the learned policy file.
    public static func make(workspace: Workspace, overrides: Overrides, seed: UInt64, worker: Int = 0,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any Researcher {
        let section = workspace.manifest.researcher
        let kind = overrides.kind ?? section.kind
        guard ResearcherSection.kinds.contains(kind) else {
            throw HarnessError.other("unknown researcher '\(kind)'; use one of \(ResearcherSection.kinds.joined(separator: ", ")) (--researcher or [researcher] kind).")
        }
        if kind == "optuna" {
            return try OptunaResearcher(sampler: overrides.sampler ?? "tpe", seed: seed, ideas: try SubjectBridge.ideas(of: workspace),
                                        maximize: workspace.manifest.direction == .higher,
                                        python: try OptunaEnvironment.python(environment: environment), script: try OptunaEnvironment.script())
        }
        guard let backend = AgentSettings.Backend(rawValue: kind) else {
            return try SubjectBridge.searchResearcher(workspace: workspace, seed: seed, keepsPolicy: worker == 0)
        }
        var settings = section.settings(for: backend)
        if let model = overrides.model { settings.model = model }
        if let url = overrides.baseURL { settings.baseURL = url }
        if let command = overrides.command { settings.command = command }
        return try make(settings, environment: environment)
    }

    /// The researchers of a swarm from `--workers`: a count ("3": three of the chosen kind) or a mix
    /// ("anthropic:2,search:1"). Each gets its own seed (seed + worker index).
    public static func makeSwarm(workspace: Workspace, workers: String, overrides: Overrides, seed: UInt64,
                                 environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [any Researcher] {
        var kinds: [String?] = []
        let spec = workers.trimmingCharacters(in: .whitespaces)
        if let count = Int(spec) {
            guard count >= 1 else { throw HarnessError.other("--workers must be at least 1 (got \(count))") }
            kinds = Array(repeating: overrides.kind, count: count)
        } else {
            for part in spec.split(separator: ",") {
                let pieces = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
                guard pieces.count <= 2, let kind = pieces.first, ResearcherSection.kinds.contains(kind),
                      let count = pieces.count == 2 ? Int(pieces[1]) : 1, count >= 1 else {
                    throw HarnessError.other("--workers '\(workers)' is not a count or a mix like 'anthropic:2,search:1' (researchers: \(ResearcherSection.kinds.joined(separator: ", ")))")
                }
                kinds += Array(repeating: kind, count: count)
            }
        }
        return try kinds.enumerated().map { i, kind in
            var o = overrides
            o.kind = kind
            return try make(workspace: workspace, overrides: o, seed: seed &+ UInt64(i), worker: i, environment: environment)
        }
    }

    /// An LLM or command researcher from complete settings.
    public static func make(_ settings: AgentSettings, environment: [String: String],
                            transport: HTTPTransport? = nil) throws -> any Researcher {
        let secrets = TranscriptLog.environmentSecrets(environment)
        switch settings.backend {
        case .command:
            guard !settings.command.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HarnessError.other("the command researcher needs a command: set [researcher] command = \"claude -p\" in autoresearch.toml or pass --agent-command.")
            }
            return CommandResearcher(template: settings.command, timeout: settings.commandTimeout,
                                     buildFixAttempts: settings.limits.buildFixAttempts, secrets: secrets, access: settings.access)
        case .anthropic, .openai:
            let (provider, key) = try chatProvider(settings, environment: environment, transport: transport)
            return LLMResearcher(provider: provider, limits: settings.limits, prices: settings.prices,
                                 secrets: secrets + [key].compactMap { $0 })
        }
    }

    /// The chat provider of an anthropic or openai `settings`, and the API key it uses (a secret never to store).
    static func chatProvider(_ settings: AgentSettings, environment: [String: String],
                             transport: HTTPTransport? = nil) throws -> (provider: any ChatProvider, key: String?) {
        guard let url = URL(string: settings.baseURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw HarnessError.other("'\(settings.baseURL)' is not an http(s) base URL for the \(settings.backend.rawValue) researcher; e.g. \(AgentSettings(backend: settings.backend).baseURL).")
        }
        guard !settings.model.isEmpty else {
            throw HarnessError.other("the \(settings.backend.rawValue) researcher needs a model: set [researcher] model or pass --model.")
        }
        let key = environment[settings.apiKeyVariable].flatMap { $0.isEmpty ? nil : $0 }
        if key == nil, settings.requiresKey {
            throw HarnessError.other(ProviderError.missingKey(variable: settings.apiKeyVariable, provider: settings.backend.rawValue).description)
        }
        let http = transport ?? HTTPTransport(retry: settings.retry)
        let provider: any ChatProvider = settings.backend == .anthropic
            ? AnthropicProvider(model: settings.model, baseURL: url, apiKey: key ?? "", transport: http)
            : OpenAIProvider(model: settings.model, baseURL: url, apiKey: key, maxTokensField: settings.maxTokensField, transport: http)
        return (provider, key)
    }

    /// The meta-loop's proposer of programs: `kind` "mutation" (offline), "anthropic" or "openai" (an LLM rewrites
    /// program.md, with the `[researcher]` table's model, URL, limits and prices, and the command line's overrides).
    public static func makeProgramResearcher(kind: String, workspace: Workspace, overrides: Overrides,
                                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any ProgramResearcher {
        guard MetaSettings.researchers.contains(kind) else {
            throw HarnessError.other("unknown meta-researcher '\(kind)'; use one of \(MetaSettings.researchers.joined(separator: ", ")) (--meta-researcher or [meta] researcher).")
        }
        guard let backend = AgentSettings.Backend(rawValue: kind), backend != .command else { return SettingsMutator() }
        var settings = workspace.manifest.researcher.settings(for: backend)
        if let model = overrides.model { settings.model = model }
        if let url = overrides.baseURL { settings.baseURL = url }
        let (provider, key) = try chatProvider(settings, environment: environment)
        return LLMProgramWriter(provider: provider, limits: settings.limits, prices: settings.prices,
                                secrets: TranscriptLog.environmentSecrets(environment) + [key].compactMap { $0 })
    }
}