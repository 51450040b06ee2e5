import AutoResearchCore
import Foundation
import SearchResearcher

/// Optuna as a researcher (`run --researcher optuna --sampler tpe|cmaes|random|gp`): each experiment is one trial of an
/// Optuna study in a Python sidecar (`OptunaSidecar`). The harness keeps the loop, the ledger, the keep decisions and
/// the checks; the study only chooses configurations.
///
/// Before each proposal every finished experiment of the history that the study has not been told is told — other
/// researchers' in a swarm and past ones on resume too — keyed by experiment number, so each is told once: keeps,
/// discards, stale ones and the baseline as complete trials with their metric, crashes and invalid ones as failed trials.
/// An experiment's configuration is read from its commit (`OptunaSpace.params(of:)`); the result of a trial this study
/// asked for is told to that trial. Then it asks for a trial, writes it into the best commit's files
/// (`OptunaSpace.apply`) and proposes them; a configuration already tried or in flight is told back (with its known
/// metric, else as failed) and asked again, so no trial runs twice.
///
/// A sidecar that died is a researcher error with its stderr's tail; the next proposal starts a new one and tells it
/// the whole history again. (CMA-ES learns only from trials it asked for itself, so after a restart its state starts
/// over; TPE, random and GP use every trial in the study.)
public final class OptunaResearcher: Researcher, @unchecked Sendable {
    public let name = "optuna"
    public static let samplers = ["tpe", "cmaes", "random", "gp"]
    public let sampler: String
    public let seed: UInt64
    let ideas: [Idea]
    let maximize: Bool
    let python: String
    let script: URL
    /// How often one proposal asks again after configurations already tried, before it gives up.
    var maxAsks = 40

    private let queue = DispatchQueue(label: "autoresearch.optuna")
    private var sidecar: OptunaSidecar?
    private var space: OptunaSpace?
    private var told: Set<String> = []
    private var pending: [String: Int] = [:]
    private var configurations: [String: [String: Any]] = [:]

    /// - Throws: `HarnessError.other` for an unknown sampler.
    public init(sampler: String = "tpe", seed: UInt64, ideas: [Idea] = [], maximize: Bool = false, python: String, script: URL) throws {
        guard Self.samplers.contains(sampler) else {
            throw HarnessError.other("unknown Optuna sampler '\(sampler)'; use one of \(Self.samplers.joined(separator: ", ")) (--sampler).")
        }
        self.sampler = sampler; self.seed = seed; self.ideas = ideas; self.maximize = maximize
        self.python = python; self.script = script
    }

    deinit { sidecar?.stop() }

    /// The running sidecar's process id, if one runs.
    public var sidecarPID: Int32? { queue.sync { sidecar.map(\.pid) } }

    /// The study's counts (trials, complete, fail, running, keys told), from the running sidecar.
    public func stats() async throws -> [String: Int] {
        try await onQueue {
            guard let sidecar = self.sidecar else { throw ResearcherError.failed("no Optuna sidecar runs") }
            return try sidecar.request(["op": "stats"]).compactMapValues { $0 as? Int }
        }
    }

    public func propose(_ context: ResearchContext) async throws -> Proposal {
        try await onQueue { try self.proposeNow(context) }
    }

    private func onQueue<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    func proposeNow(_ context: ResearchContext) throws -> Proposal {
        var files: [String: String] = [:]
        for path in context.editableFiles {
            do { files[path] = try String(contentsOf: context.worktree.appendingPathComponent(path), encoding: .utf8) } catch {
                throw ResearcherError.failed("cannot read the editable file \(path): \(error.localizedDescription)")
            }
        }
        let space = try OptunaSpace.make(files: files, paths: context.editableFiles, ideas: ideas)
        if let dead = sidecar, !dead.isRunning {
            sidecar = nil
            throw ResearcherError.failed(dead.deathReport())
        }
        if space != self.space { sidecar?.stop(); sidecar = nil }
        do {
            let sidecar = try started(space, restart: context.history.count)
            try tellHistory(context, sidecar, space)
            return try ask(context, sidecar, space, files)
        } catch {
            if let s = sidecar, !s.isRunning { sidecar = nil }
            throw error
        }
    }

    /// The running sidecar, or a new one with an empty study. A new one's sampler is seeded with the seed and the
    /// history's length: a restarted sidecar with the first one's seed would draw the first one's trials again.
    private func started(_ space: OptunaSpace, restart: Int) throws -> OptunaSidecar {
        if let sidecar { return sidecar }
        let seed = self.seed ^ (UInt64(restart) &* 0x9E37_79B9_7F4A_7C15)
        let s = try OptunaSidecar(python: python, script: script)
        sidecar = s
        told = []; pending = [:]; self.space = space
        _ = try s.request(["op": "init", "space": space.json, "sampler": sampler, "seed": Int(seed % (1 << 32)),
                           "direction": maximize ? "maximize" : "minimize"], timeout: 120)
        return s
    }

    /// Tells the study every finished experiment it has not been told.
    private func tellHistory(_ context: ResearchContext, _ sidecar: OptunaSidecar, _ space: OptunaSpace) throws {
        for outcome in context.history {
            let key = "experiment-\(outcome.number)"
            guard !told.contains(key), let commit = outcome.commit else { continue }
            let state: String
            switch outcome.status {
            case .keep, .discard, .baseline, .stale:
                guard outcome.metric != nil else { continue }
                state = "complete"
            case .crash, .invalid: state = "fail"
            default: continue
            }
            var request: [String: Any] = ["op": "tell", "key": key, "state": state,
                                          "value": state == "complete" ? outcome.metric! : NSNull()]
            if let hash = outcome.filesHash, let trial = pending.removeValue(forKey: hash) {
                request["trial"] = trial
            } else {
                request["params"] = try configuration(commit, context, space)
            }
            _ = try sidecar.request(request)
            told.insert(key)
        }
    }

    /// The configuration of the editable files at `commit`.
    private func configuration(_ commit: String, _ context: ResearchContext, _ space: OptunaSpace) throws -> [String: Any] {
        if let known = configurations[commit] { return known }
        let git = Git(context.worktree)
        var files: [String: String] = [:]
        for path in context.editableFiles { files[path] = git.attempt(["show", "\(commit):\(path)"]) ?? "" }
        let params = space.params(of: files)
        configurations[commit] = params
        return params
    }

    private func ask(_ context: ResearchContext, _ sidecar: OptunaSidecar, _ space: OptunaSpace,
                     _ files: [String: String]) throws -> Proposal {
        for _ in 0..<maxAsks {
            let answer = try sidecar.request(["op": "ask"])
            guard let trial = answer["trial"] as? Int, let params = answer["params"] as? [String: Any] else {
                throw ResearcherError.failed("the Optuna sidecar's answer to ask has no trial and params: \(answer)")
            }
            let (after, changes) = space.apply(params, to: files)
            let hash = filesFingerprint(after)
            if changes.isEmpty || context.triedFilesHashes.contains(hash) || pending[hash] != nil {
                // Tried or in flight: told back, with the metric when it is known, and asked again.
                let known = changes.isEmpty ? context.bestMetric : context.history.last { $0.filesHash == hash }?.metric
                _ = try sidecar.request(["op": "tell", "key": "repeat-\(trial)", "trial": trial,
                                         "state": known == nil ? "fail" : "complete", "value": known ?? NSNull()])
                continue
            }
            pending[hash] = trial
            let changed = after.filter { files[$0.key] != $0.value }
            let shown = changes.count > 6 ? changes.prefix(6).joined(separator: ", ") + ", +\(changes.count - 6) more" : changes.joined(separator: ", ")
            return Proposal(files: changed, description: "optuna \(sampler): \(shown)",
                            hypothesis: "Optuna's \(sampler) sampler chose trial \(trial) from the \(told.count) experiments it was told: "
                                + changes.joined(separator: ", ") + ".",
                            move: "optuna:\(sampler)")
        }
        throw ResearcherError.nothingLeftToTry("Optuna's \(sampler) sampler proposed \(maxAsks) configurations in a row that were already tried")
    }
}
