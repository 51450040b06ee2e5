import AutoResearchCore
import AgentResearcher
import Foundation
import SearchResearcher
import SubjectKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `autoresearch run` was asked for.
public struct RunOptions: Sendable {
    /// The tag: the research branch is `autoresearch/<tag>`.
    public var tag: String
    /// Stop after this many experiments in this invocation (the baseline does not count); nil = no limit.
    public var experiments: Int?
    /// Start no new experiment after this many hours; nil = no limit.
    public var hours: Double?
    /// Baseline runs for a new tag; nil = the manifest's `noise.baseline_runs`.
    public var baselineRuns: Int?
    /// Seed for the researcher.
    public var seed: UInt64
    /// After a researcher error the loop pauses this many seconds (doubling with each error in a row, at most
    /// 10 minutes), so a provider outage does not burn through experiments; it stops after `maxResearcherFailures` in a row.
    public var researcherFailurePause: Double = 30
    public var maxResearcherFailures = 10
    /// The meta-loop (`run --meta`): programs judged in windows against a control; nil for a plain run.
    public var meta: MetaSettings?
    /// Start no new experiment once the best reaches this metric value (`run --until`); nil = no target.
    public var target: Double?
    /// A plain run's researchers follow this archived program (`run --program N`); nil: the workspace's program.md.
    public var program: Int?
    /// A human reference configuration (a commit or branch in the workspace) to measure once per tag, like the
    /// baseline, for the parity milestone (`run --reference`); never shown to researchers.
    public var reference: String?
    /// Let LLM and command researchers (which edit code) run where the numbers cannot be trusted: no sandbox,
    /// or a subject that scores itself (`--allow-untrusted`).
    public var allowUntrusted = false
    /// Extra environment for every build and run of the subject, over the harness's own (simulations and benchmarks
    /// set the quadratic subject's run length, `AUTORESEARCH_SIM_SECONDS`, here rather than in the process's environment).
    public var subjectEnvironment: [String: String] = [:]
    /// An MLflow tracking server (`run --mlflow URI`): every finished experiment is logged there as it finishes.
    public var mlflow: String?

    public init(tag: String, experiments: Int? = nil, hours: Double? = nil, baselineRuns: Int? = nil, seed: UInt64 = 0) {
        self.tag = tag; self.experiments = experiments; self.hours = hours; self.baselineRuns = baselineRuns; self.seed = seed
    }

    /// Today's default tag, e.g. `nov29` (autoresearch's convention).
    public static func defaultTag(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "MMMd"
        return formatter.string(from: date).lowercased()
    }

    /// A tag must be usable in a branch name and a directory name (`TagRecord.isValidName`).
    public static func isValidTag(_ tag: String) -> Bool { TagRecord.isValidName(tag) }
}

/// How a session of the loop ended.
public struct RunSummary: Sendable, Equatable {
    public enum StopReason: String, Sendable {
        case experimentLimit, timeLimit, targetReached, interrupted, researcherExhausted, researcherFailing, stopRequested

        /// In words, for the end of `autoresearch run`.
        public var text: String {
            switch self {
            case .experimentLimit: return "reached --experiments"
            case .timeLimit: return "reached --hours"
            case .targetReached: return "reached the --until target"
            case .interrupted: return "interrupted"
            case .researcherExhausted: return "the researcher has nothing left to try"
            case .researcherFailing: return "the researcher failed too many times in a row"
            case .stopRequested: return "stopped on request (the dashboard's or the MCP server's stop)"
            }
        }
    }
    public var stopReason: StopReason
    /// Experiments started in this session (not counting the baseline).
    public var experimentsRun: Int
    public var baseline: Double?
    public var best: Double?
    public var bestCommit: String
}

/// The closed research loop for one tag: baseline, then propose → commit → build → run → decide, one experiment
/// at a time in a clean worktree, until told to stop. Every state change is one ledger transaction, and the
/// branch `autoresearch/<tag>` only ever moves (compare-and-swap) to a commit the ledger records as kept.
public actor ResearchLoop {
    public nonisolated let workspace: Workspace
    public nonisolated let ledger: Ledger
    /// Stop, pause and resume requests from outside the loop (dashboard, MCP server).
    nonisolated var control: LoopControl { LoopControl(workspace: workspace) }
    /// Who paused the loop, while it is paused (so the pause and the resume are said once, not by every worker).
    var pausedBy: String?
    /// The first worker's researcher (the only one without `--workers`).
    public nonisolated var researcher: any Researcher { workers[0].researcher }
    public nonisolated let options: RunOptions
    let display: any Display
    /// One worker per researcher; each proposes in its own worktree and trains in whichever slot is free.
    nonisolated let workers: [Worker]
    /// The compute slots (the manifest's, or one slot for the whole machine).
    public nonisolated let slots: [Slot]
    public nonisolated let slotPool: SlotPool
    var redo: [ExperimentRecord] = []
    /// Experiments started in this session, over all workers.
    var started = 0
    var stopReasons: [RunSummary.StopReason] = []
    var deadline: Date?
    /// Islands mode: each island's best so far (filled from the ledger on first use), and decided experiments
    /// since the session began (for the exchange).
    var islandBests: [Int: (commit: String, metric: Double?)] = [:]
    var decidedInSession = 0
    var islandsMode: Bool { manifest.swarm.base == .islands || options.meta != nil }
    /// The meta-loop's proposer of programs, and its current window.
    nonisolated let programResearcher: (any ProgramResearcher)?
    var metaState: MetaState?

    /// True once the baseline is done and the workers run.
    public private(set) var swarmStarted = false
    /// The sandbox every build and run goes through; nil when the workspace runs unsandboxed (see `Trust`).
    public nonisolated let sandbox: Sandbox?
    /// How far the numbers of this run can be trusted, in words for status and the report.
    public nonisolated let trust: Trust
    /// The validation windows, made once per session.
    var validationWindows: EvaluationWindows?
    /// The held-out splits' 64-letter stretches, built on the first admission (`SplitLeakIndex`).
    var splitLeakIndex: SplitLeakIndex?
    /// `options.mlflow`'s exporter, and the experiments it has logged this session (`+MLflow`).
    var mlflow: MLflowExport?
    var mlflowLogged: Set<Int> = []
    var mlflowFailure: String?

    public var branch: String { "autoresearch/\(options.tag)" }
    var branchRef: String { "refs/heads/\(branch)" }
    var tag: String { options.tag }
    var manifest: Manifest { workspace.manifest }

    /// Opens the ledger and checks the workspace and tag are usable (clean work tree, valid manifest and tag,
    /// protected files intact, editable files with hyperparameter blocks).
    public init(workspace: Workspace, researcher: any Researcher, options: RunOptions, display: any Display) throws {
        try self.init(workspace: workspace, researchers: [researcher], options: options, display: display)
    }

    /// A swarm: one worker per researcher (of one kind or mixed), all writing one ledger, sharing the slots.
    /// With `options.meta`, the first half of `researchers` work for the candidate program and the second half for the
    /// control, so their count must be even; `programResearcher` proposes the programs.
    public init(workspace: Workspace, researchers: [any Researcher], options: RunOptions, display: any Display,
                programResearcher: (any ProgramResearcher)? = nil) throws {
        guard !researchers.isEmpty else { throw HarnessError.other("a run needs at least one researcher (--workers 1 or more)") }
        if let meta = options.meta {
            try meta.validate()
            guard researchers.count % 2 == 0 else {
                throw HarnessError.other("the meta-loop runs a candidate and a control arm with as many researchers each; it got \(researchers.count) researchers")
            }
        }
        guard RunOptions.isValidTag(options.tag) else { throw HarnessError.invalidTag(options.tag) }
        guard SubjectBridge.metricNames.contains(workspace.manifest.metric) else {
            throw HarnessError.manifestKey(key: "metric.name", problem: "is '\(workspace.manifest.metric)', which the summary block does not have; use one of \(SubjectBridge.metricNames.joined(separator: ", ")).")
        }
        if let slurm = workspace.manifest.slots.first(where: { $0.slurm != nil })?.slurm {
            try SlurmClient.check(partition: slurm.partition)
        }
        try workspace.ensureClean()
        if let python = workspace.manifest.python { try PythonEnvironment.verify(python, root: workspace.root) }
        if let uri = options.mlflow { mlflow = MLflowExport(client: try MLflowClient(uri: uri), workspace: workspace, tag: options.tag) }
        try workspace.verifyFixed(in: workspace.root)
        try workspace.validateEditable()
        (self.sandbox, self.trust) = try Trust.establish(manifest: workspace.manifest, researchers: researchers.map(\.name),
                                                          allowUntrusted: options.allowUntrusted)
        // Agents that run commands run them confined too (the red team's finding 3); without a sandbox they run as
        // they are, and the trust says so.
        for case let agent as CommandResearcher in researchers { agent.confinement = sandbox?.agentConfinement() }
        self.workspace = workspace
        self.ledger = try Ledger(url: workspace.ledgerURL)
        self.options = options
        self.display = display
        let worktrees = workspace.worktreesDirectory
        // Worker 0 keeps the single-researcher worktree name, so an older workspace resumes in place.
        self.workers = researchers.enumerated().map { i, researcher in
            Worker(index: i, researcher: researcher,
                   worktree: worktrees.appendingPathComponent(i == 0 ? "slot-0" : "worker-\(i)"))
        }
        if options.meta != nil {
            for worker in workers { worker.island = worker.index < researchers.count / 2 ? 0 : 1 }
        } else if workspace.manifest.swarm.base == .islands {
            for worker in workers { worker.island = worker.index % workspace.manifest.swarm.islands }
        }
        self.programResearcher = programResearcher
        let slots = workspace.manifest.slots.isEmpty ? [Slot(name: "local")] : workspace.manifest.slots
        self.slots = slots
        self.slotPool = SlotPool(slots)
    }

    /// Runs the loop until `experiments` or `hours` is reached, the researcher gives up, or the task is cancelled
    /// (Ctrl-C: the experiment in flight is recorded `interrupted` and its process group killed).
    public func run() async throws -> RunSummary {
        let lock = try RunLock(workspace.stateDirectory.appendingPathComponent("run.lock"))
        defer { lock.release() }
        LoopControl(workspace: workspace).clear()  // a request made while no run was active is not for this one
        let git = workspace.git
        _ = git.attempt(["worktree", "prune"])
        try await openTag()
        try await recover()
        if try ledger.experiments(tag: tag).first(where: { $0.experimentStatus == .baseline }) == nil {
            guard try await runBaseline() else { return try await summary(.interrupted, started: 0) }
        }
        guard try await runReferenceIfNeeded() else { return try await summary(.interrupted, started: 0) }
        await noteIdeasThatDoNotApply()
        await logToMLflow()
        if deadline == nil { deadline = options.hours.map { Date().addingTimeInterval($0 * 3600) } }
        if options.meta != nil {
            try await startMeta()
        } else if let program = options.program {
            try await steerAll(withProgram: program)
        }
        if workers.count > 1 {
            await note("\(workers.count) researchers (\(workers.map(\.researcher.name).joined(separator: ", "))) over \(slots.count) slot(s): \(slots.map(\.name).joined(separator: ", "))")
        }
        swarmStarted = true
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask { try await self.workerLoop(worker) }
            }
            try await group.waitForAll()
        }
        return try await summary(finalReason(), started: started)
    }

    /// Why the session ended: an interruption wins, then a limit, then the researchers giving up.
    func finalReason() -> RunSummary.StopReason {
        for reason in [RunSummary.StopReason.interrupted, .stopRequested, .experimentLimit, .timeLimit, .targetReached, .researcherExhausted, .researcherFailing]
        where stopReasons.contains(reason) { return reason }
        return .interrupted
    }

    /// Workers waiting for a new best because their researcher had nothing left; workers that stopped; keeps so far.
    var exhaustedWorkers = 0
    var finishedWorkers = 0
    /// The workers whose loop has returned; and whether the meta-loop stopped because an arm has no researchers left.
    var stoppedWorkers: Set<Int> = []
    var metaHalted = false
    var keepsDecided = 0
    /// Whether a keep reached `options.target`.
    var targetReached = false

    /// Whether the session may still start experiments (not cancelled, no limit reached).
    func nextExperimentAllowed() -> Bool {
        !(Task.isCancelled || stopReasons.contains(.interrupted) || control.state == .stopping
          || options.experiments.map { started >= $0 } == true || deadline.map { Date() >= $0 } == true || targetReached || metaHalted)
    }

    /// Starts the next experiment of the session, or says why not (the limits are shared by every worker).
    func nextExperiment() -> RunSummary.StopReason? {
        if Task.isCancelled || stopReasons.contains(.interrupted) { return .interrupted }
        if let limit = options.experiments, started >= limit { return .experimentLimit }
        if let deadline, Date() >= deadline { return .timeLimit }
        if targetReached { return .targetReached }
        if metaHalted { return .researcherFailing }
        if control.state == .stopping { return .stopRequested }
        started += 1
        return nil
    }

    /// One worker: experiment after experiment until a limit, an interruption, or its researcher gives up.
    func workerLoop(_ worker: Worker) async throws {
        defer { stoppedWorkers.insert(worker.index) }
        while true {
            try await metaGate(worker)
            await waitWhilePaused()
            if let reason = nextExperiment() { stopReasons.append(reason); finishedWorkers += 1; return }
            let status = try await runExperiment(worker)
            await logToMLflow()
            metaExperimentFinished()
            if status == .interrupted { stopReasons.append(.interrupted); finishedWorkers += 1; return }
            if status == .researcherError {
                worker.failures += 1
                if worker.exhausted, options.meta != nil {
                    // In the meta-loop an exhausted researcher spends its arm's experiments (its program made no
                    // progress); waiting for a keep could wait on the other arm, which waits for the window to end.
                    worker.exhausted = false
                    worker.failures = 0
                    continue
                }
                if worker.exhausted {
                    // Alone, an exhausted researcher ends the run. In a swarm it waits for a new best (new moves
                    // open up from there); the run ends when every worker is exhausted at once.
                    exhaustedWorkers += 1
                    if workers.count == 1 || exhaustedWorkers == workers.count - finishedWorkers {
                        stopReasons.append(.researcherExhausted)
                        exhaustedWorkers -= 1
                        finishedWorkers += 1
                        return
                    }
                    let seen = keepsDecided
                    while keepsDecided == seen, exhaustedWorkers < workers.count - finishedWorkers, nextExperimentAllowed() {
                        try? await Task.sleep(nanoseconds: 200_000_000)
                    }
                    exhaustedWorkers -= 1
                    worker.exhausted = false
                    worker.failures = 0
                    continue
                }
                if worker.failures >= options.maxResearcherFailures { stopReasons.append(.researcherFailing); finishedWorkers += 1; return }
                // No back-off when no experiment can follow it (the run's limit is reached), nor past the deadline.
                var pause = min(600, options.researcherFailurePause * pow(2, Double(worker.failures - 1)))
                if !nextExperimentAllowed() { pause = 0 }
                if let deadline { pause = min(pause, max(0, deadline.timeIntervalSinceNow)) }
                if pause > 0 {
                    await note("\(worker.label)the researcher failed \(worker.failures) time(s) in a row; pausing \(Int(pause)) s before the next experiment")
                    try? await Task.sleep(nanoseconds: UInt64(pause * 1e9))
                }
            } else {
                worker.failures = 0
            }
        }
    }

    /// Waits (polling the control file each second) while a pause is on file; says so once per pause.
    func waitWhilePaused() async {
        guard options.meta == nil else { return }  // the meta-loop's arms run in step; pausing one would skew its window
        while !Task.isCancelled, let request = control.request(), request.state == .paused {
            if pausedBy == nil {
                pausedBy = request.by
                await note("paused by \(request.by): no new experiment starts until it is resumed")
            }
            try? await Task.sleep(nanoseconds: 1_000_000_000)
        }
        if let by = pausedBy, !Task.isCancelled {
            pausedBy = nil
            await note("resumed\(control.request().map { " by \($0.by)" } ?? "") (paused by \(by))")
        }
    }

    private func summary(_ reason: RunSummary.StopReason, started: Int) async throws -> RunSummary {
        try await endMeta()
        await display.finish()
        let records = try ledger.experiments(tag: tag)
        let best = try bestSoFar()
        return RunSummary(stopReason: reason, experimentsRun: started,
                          baseline: records.first { $0.experimentStatus == .baseline }?.metric,
                          best: best.metric, bestCommit: best.commit)
    }


}
