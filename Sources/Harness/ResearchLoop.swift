import AutoResearchCore
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
    /// Let LLM and command researchers (which edit code) run where the numbers cannot be trusted: no sandbox,
    /// or a subject that scores itself (`--allow-untrusted`).
    public var allowUntrusted = false
    /// Extra environment for every build and run of the subject, over the harness's own (simulations and benchmarks
    /// set the quadratic subject's run length, `AUTORESEARCH_SIM_SECONDS`, here rather than in the process's environment).
    public var subjectEnvironment: [String: String] = [:]

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

    /// A tag must be usable in a branch name and a directory name.
    public static func isValidTag(_ tag: String) -> Bool {
        !tag.isEmpty && tag.count <= 64 && !tag.hasPrefix(".") && !tag.hasPrefix("-") && !tag.contains("..")
            && tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}

/// How a session of the loop ended.
public struct RunSummary: Sendable, Equatable {
    public enum StopReason: String, Sendable {
        case experimentLimit, timeLimit, targetReached, interrupted, researcherExhausted, researcherFailing

        /// In words, for the end of `autoresearch run`.
        public var text: String {
            switch self {
            case .experimentLimit: return "reached --experiments"
            case .timeLimit: return "reached --hours"
            case .targetReached: return "reached the --until target"
            case .interrupted: return "interrupted"
            case .researcherExhausted: return "the researcher has nothing left to try"
            case .researcherFailing: return "the researcher failed too many times in a row"
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
        try workspace.verifyFixed(in: workspace.root)
        try workspace.validateEditable()
        (self.sandbox, self.trust) = try Trust.establish(manifest: workspace.manifest, researchers: researchers.map(\.name),
                                                          allowUntrusted: options.allowUntrusted)
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
        let git = workspace.git
        _ = git.attempt(["worktree", "prune"])
        try await openTag()
        try await recover()
        if try ledger.experiments(tag: tag).first(where: { $0.experimentStatus == .baseline }) == nil {
            guard try await runBaseline() else { return try await summary(.interrupted, started: 0) }
        }
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
        for reason in [RunSummary.StopReason.interrupted, .experimentLimit, .timeLimit, .targetReached, .researcherExhausted, .researcherFailing]
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
        !(Task.isCancelled || stopReasons.contains(.interrupted)
          || options.experiments.map { started >= $0 } == true || deadline.map { Date() >= $0 } == true || targetReached || metaHalted)
    }

    /// Starts the next experiment of the session, or says why not (the limits are shared by every worker).
    func nextExperiment() -> RunSummary.StopReason? {
        if Task.isCancelled || stopReasons.contains(.interrupted) { return .interrupted }
        if let limit = options.experiments, started >= limit { return .experimentLimit }
        if let deadline, Date() >= deadline { return .timeLimit }
        if targetReached { return .targetReached }
        if metaHalted { return .researcherFailing }
        started += 1
        return nil
    }

    /// One worker: experiment after experiment until a limit, an interruption, or its researcher gives up.
    func workerLoop(_ worker: Worker) async throws {
        defer { stoppedWorkers.insert(worker.index) }
        while true {
            try await metaGate(worker)
            if let reason = nextExperiment() { stopReasons.append(reason); finishedWorkers += 1; return }
            let status = try await runExperiment(worker)
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

    private func summary(_ reason: RunSummary.StopReason, started: Int) async throws -> RunSummary {
        try await endMeta()
        await display.finish()
        let records = try ledger.experiments(tag: tag)
        let best = try bestSoFar()
        return RunSummary(stopReason: reason, experimentsRun: started,
                          baseline: records.first { $0.experimentStatus == .baseline }?.metric,
                          best: best.metric, bestCommit: best.commit)
    }


    // MARK: - Tag and recovery

    /// Creates the tag (branch at the workspace's HEAD) or checks that an existing one used the same manifest.
    func openTag() async throws {
        let git = workspace.git
        if let existing = try ledger.tag(tag) {
            guard existing.manifestHash == workspace.manifestHash else {
                throw HarnessError.tagManifestMismatch(tag: tag, recorded: existing.manifestHash, current: workspace.manifestHash)
            }
            if git.resolve(branchRef) == nil { try git.updateRef(branchRef, to: existing.baselineCommit, from: nil) }
            await note("resuming tag \(tag) on branch \(branch)")
            return
        }
        if git.resolve(branchRef) != nil { throw HarnessError.branchWithoutLedger(tag: tag, branch: branch) }
        let head = try git.revParse("HEAD")
        try git.updateRef(branchRef, to: head, from: nil)
        try ledger.insert(TagRecord(tag: tag, branch: branch, manifestHash: workspace.manifestHash, createdAt: Date(),
                                    baselineCommit: head, noiseSigma: nil))
        await note("new tag \(tag): branch \(branch) at \(head.prefix(7))")
    }

    /// After a harness died: mark what was running `interrupted` (killing its leftover process group),
    /// point the branch at the last kept commit, and queue the interrupted change to run again.
    func recover() async throws {
        let interrupted = try ledger.interruptRunning(tag: tag, reason: "the harness stopped while this experiment ran; it is run again")
        for record in interrupted {
            if let pid = record.pid { killStaleGroup(pid_t(pid)) }
            await note("experiment \(record.number) was left running by an earlier harness: marked interrupted")
        }
        let best = try bestSoFar()
        let git = workspace.git
        if let current = git.resolve(branchRef), current != best.commit {
            try git.updateRef(branchRef, to: best.commit, from: current)
            await note("moved \(branch) from \(current.prefix(7)) to the last kept commit \(best.commit.prefix(7))")
        }
        if let last = interrupted.last, last.experimentStatus != .baseline, let commit = last.commit,
           last.parentCommit == best.commit, last.description != "baseline", git.resolve(commit) != nil {
            redo = [last]
        }
    }

    /// Kills the process group a dead harness left behind, if it still exists and is ours
    /// (on Linux: its working directory is one of this workspace's worktrees).
    nonisolated func killStaleGroup(_ pid: pid_t) {
        guard pid > 1, kill(-pid, 0) == 0 else { return }
        #if os(Linux)
        let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? ""
        guard cwd.hasPrefix(workspace.worktreesDirectory.path) else { return }
        #endif
        killpg(pid, SIGKILL)
    }

    /// The best commit so far and its metric: the last kept experiment's, else the baseline's.
    func bestSoFar() throws -> (commit: String, metric: Double?) {
        let records = try ledger.experiments(tag: tag)
        // The latest keep in time (in a swarm, numbers are not the order in which experiments were decided);
        // with islands, the keep with the best metric (islands keep against their own bests).
        let keeps = records.filter { $0.experimentStatus == .keep }
        let chosen = islandsMode
            ? keeps.filter { $0.metric != nil }.min { better($0.metric!, than: $1.metric!) }
            : keeps.max(by: { ($0.finishedAt ?? .distantPast, $0.number) < ($1.finishedAt ?? .distantPast, $1.number) })
        if let keep = chosen, let commit = keep.commit {
            return (commit, keep.metric)
        }
        guard let tagRecord = try ledger.tag(tag) else { throw HarnessError.unknownTag(tag: tag, known: []) }
        return (tagRecord.baselineCommit, records.first { $0.experimentStatus == .baseline }?.metric)
    }

    /// Whether metric `a` is better than `b` in the manifest's direction.
    nonisolated func better(_ a: Double, than b: Double) -> Bool {
        workspace.manifest.direction == .lower ? a < b : a > b
    }

    /// What `worker` builds on: the global best, or its island's best.
    func base(for worker: Worker) throws -> (commit: String, metric: Double?) {
        guard islandsMode else { return try bestSoFar() }
        if let best = islandBests[worker.island] { return best }
        let records = try ledger.experiments(tag: tag)
        let keeps = records.filter { $0.experimentStatus == .keep && $0.island == worker.island }
        if let keep = keeps.max(by: { ($0.finishedAt ?? .distantPast) < ($1.finishedAt ?? .distantPast) }), let commit = keep.commit {
            islandBests[worker.island] = (commit, keep.metric)
        } else if let tagRecord = try ledger.tag(tag) {
            islandBests[worker.island] = (tagRecord.baselineCommit, records.first { $0.experimentStatus == .baseline }?.metric)
        }
        if let best = islandBests[worker.island] { return best }
        return try bestSoFar()
    }

    /// Islands: every `exchange_every` decided experiments, each island whose best is worse than the global best adopts it.
    func exchangeIfDue() async throws {
        guard islandsMode, options.meta == nil else { return }
        decidedInSession += 1
        guard decidedInSession % manifest.swarm.exchangeEvery == 0 else { return }
        let global = try bestSoFar()
        guard let globalMetric = global.metric else { return }
        for island in 0..<manifest.swarm.islands {
            let own = islandBests[island]
            if own == nil || own!.metric.map({ better(globalMetric, than: $0) }) ?? true, own?.commit != global.commit {
                islandBests[island] = global
                await note("islands exchange: island \(island) adopts the global best \(global.commit.prefix(7)) (\(String(format: "%.6f", globalMetric)))")
            }
        }
    }

    /// σ of one run, pooled over every commit of this tag that ran more than once.
    /// With `kind`, σ comes from runs on slots of that kind when they have enough repeats, else from every run.
    func pooledSigma(including runs: [Double] = [], kind: String? = nil) throws -> Double? {
        let records = try ledger.experiments(tag: tag)
        if let kind, let sigma = Decision.pooledSigma(records.filter { $0.slotKind == kind }.compactMap { $0.decisionEvidence?.runs } + [runs]) {
            return sigma
        }
        return Decision.pooledSigma(records.compactMap { $0.decisionEvidence?.runs } + [runs])
    }

    // MARK: - Baseline

    /// Runs the unchanged baseline K times: its mean is the first best, its spread the first σ.
    /// Returns false when it was interrupted; throws when it crashed.
    func runBaseline() async throws -> Bool {
        guard let tagRecord = try ledger.tag(tag) else { return false }
        let k = max(1, options.baselineRuns ?? manifest.noise.baselineRuns)
        var record = try ledger.start(ExperimentRecord(tag: tag, number: -1, parentCommit: nil, description: "baseline",
                                                       researcher: "harness"))
        record.commit = tagRecord.baselineCommit
        try ledger.save(record)
        await display.show(.experiment(number: record.number, description: "baseline (\(k) runs)"))
        var experiment = Experiment(record: record, log: logURL(record.number), worker: workers[0])
        do {
            try workspace.git.prepareWorktree(at: experiment.worktree, commit: tagRecord.baselineCommit)
            try workspace.verifyFixed(in: experiment.worktree)
            try await acquireSlot(&experiment)
            try await build(&experiment)
            var runs: [Double] = []
            for i in 1...k {
                runs.append(try await train(&experiment, label: "baseline run \(i)/\(k)", phase: i == 1 ? .train : .rerun, run: i - 1))
            }
            try await measureTest(&experiment)
            experiment.run?.remove()
            await releaseSlot(&experiment)
            let evidence = Decision.baselineEvidence(runs: runs, settings: manifest.noise)
            experiment.record.metric = evidence.mean
            try await finish(&experiment, status: .baseline, evidence: evidence, reason: evidence.reason)
            try ledger.setNoiseSigma(evidence.sigma, tag: tag)
            await showStanding()
            return true
        } catch let stop as ExperimentStop {
            await releaseSlot(&experiment)
            try await finish(&experiment, status: stop.status, evidence: nil, reason: stop.message)
            if stop.status == .crash {
                throw HarnessError.other("the baseline crashed (\(stop.message)); see \(experiment.log.path). Fix the subject, commit, and run again.")
            }
            return false
        }
    }

    // MARK: - One experiment

    /// Why an experiment ended early; becomes its status and error message.
    struct ExperimentStop: Error {
        var status: ExperimentStatus
        var message: String
        /// For a failed build: the compiler's last lines, which may go back to the researcher.
        var compilerOutput: String?
    }

    /// An experiment in flight: its ledger row, its log, its worker, and the slot it holds (if any).
    struct Experiment {
        var record: ExperimentRecord
        var log: URL
        let worker: Worker
        var slotIndex: Int?
        /// The folder of its last run (the checkpoint the test split is scored on), until it is recorded.
        var run: RunFolder?
        var worktree: URL { worker.worktree }
    }

    /// Waits for a free slot and records it with the experiment. A cancelled wait is an interruption.
    func acquireSlot(_ experiment: inout Experiment) async throws {
        guard experiment.slotIndex == nil else { return }
        try await setPhase(&experiment, .queued, limit: nil)
        do {
            experiment.slotIndex = try await slotPool.acquire()
        } catch {
            throw ExperimentStop(status: .interrupted, message: "interrupted while waiting for a slot")
        }
        let slot = slots[experiment.slotIndex!]
        experiment.record.slot = slot.name
        experiment.record.slotKind = slot.kind
        try ledger.save(experiment.record)
    }

    /// Gives the experiment's slot back (if it holds one).
    func releaseSlot(_ experiment: inout Experiment) async {
        guard let index = experiment.slotIndex else { return }
        experiment.slotIndex = nil
        await slotPool.release(index)
    }

    func logURL(_ number: Int) -> URL {
        workspace.logsDirectory(tag: tag).appendingPathComponent("\(number).log")
    }

    /// Runs one experiment of `worker` to its end and returns its status.
    func runExperiment(_ worker: Worker) async throws -> ExperimentStatus {
        let best = try base(for: worker)
        guard let bestMetric = best.metric else { throw HarnessError.other("tag \(tag) has no baseline metric; run again to measure it") }
        var record = ExperimentRecord(tag: tag, number: -1, parentCommit: best.commit,
                                      description: "(proposing)", researcher: worker.researcher.name)
        record.worker = worker.index
        if islandsMode { record.island = worker.island }
        record.program = worker.program?.number
        record.window = metaState?.window.number
        record = try ledger.start(record)
        var experiment = Experiment(record: record, log: logURL(record.number), worker: worker)
        await display.show(.experiment(number: record.number, description: "(proposing)"))
        do {
            if let again = redo.popLast(), let commit = again.commit {
                record = experiment.record
                record.description = again.description; record.hypothesis = again.hypothesis
                record.researcher = again.researcher; record.move = again.move
                record.filesHash = again.filesHash; record.diff = again.diff; record.commit = commit
                experiment.record = record
                try ledger.save(record)
                try workspace.git.prepareWorktree(at: experiment.worktree, commit: commit)
                await display.show(.note("experiment \(record.number) runs the change interrupted in experiment \(again.number) again"))
            } else {
                try workspace.git.prepareWorktree(at: experiment.worktree, commit: best.commit)
                try await propose(&experiment, bestMetric: bestMetric)
            }
            await display.show(.experiment(number: experiment.record.number, description: experiment.record.description))
            try checkIntegrity(experiment, parent: best.commit)
            let runs = try await runCandidate(&experiment, against: bestMetric)
            let status = try await decide(&experiment, runs: runs)
            if status == .keep {
                // The hidden test split, for the ledger and the report only.
                try await acquireSlot(&experiment)
                try await measureTest(&experiment)
                await releaseSlot(&experiment)
                experiment.run?.remove()
                keepsDecided += 1
                if let target = options.target, let metric = experiment.record.metric, !better(target, than: metric) { targetReached = true }
            }
            try await exchangeIfDue()
            await showStanding()
            return status
        } catch let stop as ExperimentStop {
            await releaseSlot(&experiment)
            try await finish(&experiment, status: stop.status, evidence: nil, reason: stop.message)
            await showStanding()
            return stop.status
        }
    }

    /// Builds the candidate in a slot (sending a failed build back to its researcher) and trains it, re-running a
    /// borderline result; returns the metric of every run. The slot is released before it returns.
    func runCandidate(_ experiment: inout Experiment, against bestMetric: Double) async throws -> [Double] {
        try await buildWithRepairs(&experiment, parent: experiment.record.parentCommit ?? "HEAD")
        var runs: [Double] = []
        var decision: (verdict: Verdict, evidence: DecisionEvidence)
        repeat {
            let label = runs.isEmpty ? "run 1" : "re-run \(runs.count + 1) (borderline)"
            runs.append(try await train(&experiment, label: label, phase: runs.isEmpty ? .train : .rerun, run: runs.count))
            decision = Decision.judge(runs: runs, best: bestMetric, sigma: try pooledSigma(including: runs, kind: experiment.record.slotKind),
                                      settings: manifest.noise, direction: manifest.direction)
        } while decision.verdict == .rerun
        await releaseSlot(&experiment)
        return runs
    }

    /// Decides against the best *now*. When the best has moved since the candidate began (another worker kept
    /// something), a candidate that would still be kept is rebased onto the new best and run again there — it is
    /// never kept on the strength of the old comparison — or recorded `stale` when it no longer applies.
    /// The keep and the branch's compare-and-swap happen with no suspension between reading the best and moving it.
    func decide(_ experiment: inout Experiment, runs: [Double]) async throws -> ExperimentStatus {
        var runs = runs
        var rebases = 0
        while true {
            let best = try base(for: experiment.worker)
            guard let bestMetric = best.metric else { throw HarnessError.other("tag \(tag) has no baseline metric") }
            let decision = Decision.judge(runs: runs, best: bestMetric, sigma: try pooledSigma(including: runs, kind: experiment.record.slotKind),
                                          settings: manifest.noise, direction: manifest.direction)
            experiment.record.metric = decision.evidence.mean
            let current = experiment.record.parentCommit == best.commit
            if current || decision.verdict != .keep {
                let status: ExperimentStatus = current && decision.verdict == .keep ? .keep : .discard
                let reason = decision.evidence.reason + (current ? "" : " (against the best \(best.commit.prefix(7)), which another researcher kept meanwhile)")
                try record(&experiment, status: status, evidence: decision.evidence, reason: reason)
                if status == .keep, let commit = experiment.record.commit {
                    if islandsMode {
                        // The island moves; the branch (the global best) only when this beats every island.
                        islandBests[experiment.worker.island] = (commit, experiment.record.metric)
                        let head = workspace.git.resolve(branchRef)
                        if commit == (try bestSoFar()).commit, let head, head != commit {
                            try workspace.git.updateRef(branchRef, to: commit, from: head)
                        }
                    } else {
                        // The ledger says keep first; a crash between the two is repaired by `recover`.
                        try workspace.git.updateRef(branchRef, to: commit, from: best.commit)
                    }
                }
                if runs.count > 1 { try ledger.setNoiseSigma(try pooledSigma(), tag: tag) }
                await announce(experiment, status: status, reason: reason)
                return status
            }
            rebases += 1
            let refused = rebases > 3 ? "the best moved 3 times while this candidate was re-validated" : try rebase(&experiment, onto: best.commit)
            if let reason = refused {
                try record(&experiment, status: .stale, evidence: decision.evidence, reason: reason)
                await announce(experiment, status: .stale, reason: reason)
                return .stale
            }
            await note("\(experiment.worker.label)experiment \(experiment.record.number) beat its base; re-validating it on the new best \(best.commit.prefix(7))")
            runs = try await runCandidate(&experiment, against: bestMetric)
        }
    }

    /// Replays the candidate's change on `base` in its worktree (a git cherry-pick, else its hyperparameter values);
    /// returns why not when it does not apply or gives files already tried, nil on success. On success the experiment's parent, commit, diff and files hash describe the rebased change.
    func rebase(_ experiment: inout Experiment, onto base: String) throws -> String? {
        let noLongerApplies = "it beat its base, but the best moved to \(base.prefix(7)) and the change no longer applies there"
        guard let commit = experiment.record.commit else { return noLongerApplies }
        let git = Git(experiment.worktree)
        let parent = experiment.record.parentCommit ?? "HEAD"
        try git.run(["checkout", "-q", "--detach", "--force", base])
        if git.attempt(["cherry-pick", "--no-commit", commit]) == nil {
            // Neighbouring lines of a hyperparameter block always conflict for git; replay the values instead.
            _ = git.attempt(["cherry-pick", "--abort"])
            _ = git.attempt(["reset", "-q", "--hard", base])
            for path in manifest.editable {
                guard let before = git.attempt(["show", "\(parent):\(path)"]), let after = git.attempt(["show", "\(commit):\(path)"]),
                      let now = git.attempt(["show", "\(base):\(path)"]) else { return noLongerApplies }
                if before == after { continue }
                guard let replayed = SubjectBridge.replayHyperparameters(parent: before, candidate: after, onto: now, path: path) else { return noLongerApplies }
                try replayed.write(to: experiment.worktree.appendingPathComponent(path), atomically: true, encoding: .utf8)
            }
            try git.run(["add", "--"] + manifest.editable.sorted())
        }
        var files: [String: String] = [:]
        for path in manifest.editable {
            files[path] = (try? String(contentsOf: experiment.worktree.appendingPathComponent(path), encoding: .utf8)) ?? ""
        }
        let hash = filesFingerprint(files)
        if try visible(ledger.experiments(tag: tag), for: experiment).contains(where: { $0.filesHash == hash && $0.id != experiment.record.id }) {
            return "it beat its base, but on the new best \(base.prefix(7)) it gives files already tried"
        }
        let rebased = try git.commit(experiment.record.description + "\n\nRebased onto \(base.prefix(7)) for re-validation.")
        experiment.record.parentCommit = base
        experiment.record.commit = rebased
        experiment.record.filesHash = hash
        experiment.record.diff = try git.diff(from: base, to: rebased)
        experiment.record.rebases = (experiment.record.rebases ?? 0) + 1
        try ledger.save(experiment.record)
        try checkIntegrity(experiment, parent: base)
        return nil
    }

    /// Asks the researcher for a change, checks it, writes it into the worktree and commits it (detached).
    func propose(_ experiment: inout Experiment, bestMetric: Double) async throws {
        try await setPhase(&experiment, .propose, limit: nil)
        let records = try visible(ledger.experiments(tag: tag), for: experiment)
        var context = ResearchContext(
            worktree: experiment.worktree, editableFiles: manifest.editable,
            history: history(records, for: experiment),
            bestMetric: bestMetric,
            noiseSigma: try ledger.tag(tag)?.noiseSigma,
            triedFilesHashes: Set(records.compactMap(\.filesHash)),
            seed: experiment.worker.pairedSeed ?? options.seed &+ UInt64(experiment.record.number))
        context.experimentNumber = experiment.record.number
        context.program = experiment.worker.program?.text ?? programText()

        context.metricName = manifest.metric
        context.keepMargin = Decision.threshold(sigma: context.noiseSigma, settings: manifest.noise)
        context.lastCrash = lastCrash(records.filter { $0.id != experiment.record.id })
        context.records = LedgerRecords(ledger: ledger, tag: tag)
        // In a swarm another worker may claim the same files while this researcher thinks: ask again (up to
        // 3 times, with the claims as they are now) before recording the experiment as a researcher error.
        for attempt in 1...3 {
            experiment.worker.lastContext = context
            let proposal: Proposal
            do {
                defer { recordSession(&experiment) }
                proposal = try await experiment.worker.researcher.propose(context)
            } catch is CancellationError {
                throw ExperimentStop(status: .interrupted, message: "interrupted while the researcher was proposing")
            } catch let error as ResearcherError {
                if case .nothingLeftToTry = error { experiment.worker.exhausted = true }
                throw ExperimentStop(status: .researcherError, message: error.description)
            } catch {
                throw ExperimentStop(status: .researcherError, message: "the researcher failed: \(error)")
            }
            if Task.isCancelled { throw ExperimentStop(status: .interrupted, message: "interrupted") }
            // Read the ledger again: other workers may have claimed files while this researcher was thinking.
            let now = try visible(ledger.experiments(tag: tag), for: experiment)
            do {
                try commitProposal(proposal, &experiment, records: now, status: .researcherError)
                return
            } catch let stop as ExperimentStop where stop.message.hasPrefix("the proposal repeats files") && attempt < 3 && workers.count > 1 {
                context.triedFilesHashes = Set(now.compactMap(\.filesHash))
                context.history = history(now, for: experiment)
            }
        }
    }

    /// The experiments a researcher sees, and whose files count as tried for it: all of them; in the meta-loop, the
    /// experiments from before it (the baseline among them) and its own arm's experiments of this window. Both arms
    /// start each window equally informed, so a program is judged on how fast it makes progress by itself — not on
    /// statistics the other arm gathered, nor on a control's history piled up over earlier windows — and an arm may
    /// try what the other arm tried (the arms are independent replicates, paired by seed: see `metaGate`).
    func visible(_ records: [ExperimentRecord], for experiment: Experiment) -> [ExperimentRecord] {
        guard options.meta != nil else { return records }
        let window = experiment.record.window, island = experiment.worker.island
        return records.filter { r in r.window == nil || (r.window == window && r.island == island) }
    }

    /// A researcher's history: the records it sees (already `visible`), its own experiment left out.
    func history(_ visibleRecords: [ExperimentRecord], for experiment: Experiment) -> [ExperimentOutcome] {
        visibleRecords.filter { $0.id != experiment.record.id }.map(\.outcome)
    }

    /// Checks a proposal (only editable files, a real change, never files already tried), writes it into the
    /// worktree and commits it on the parent (replacing an earlier commit of the same experiment). A problem
    /// ends the experiment with `status`.
    func commitProposal(_ proposal: Proposal, _ experiment: inout Experiment, records: [ExperimentRecord],
                        status: ExperimentStatus) throws {
        experiment.record.description = proposal.description.isEmpty ? "(no description)" : proposal.description
        experiment.record.hypothesis = proposal.hypothesis
        experiment.record.move = proposal.move
        let parent = experiment.record.parentCommit ?? "HEAD"
        let git = Git(experiment.worktree)

        // Only editable files, only real changes, never a change already tried.
        let editable = Set(manifest.editable)
        let outside = proposal.files.keys.filter { !editable.contains($0) }.sorted()
        guard outside.isEmpty else {
            throw ExperimentStop(status: status,
                                 message: "the proposal changes \(outside.joined(separator: ", ")), which autoresearch.toml does not list as editable (editable: \(manifest.editable.joined(separator: ", ")))")
        }
        // The files as the parent commit has them (researchers that edit the worktree have already changed it).
        var before: [String: String] = [:]
        for path in manifest.editable { before[path] = git.attempt(["show", "\(parent):\(path)"]) ?? "" }
        var after = before
        for (path, content) in proposal.files { after[path] = content }
        guard after != before else { throw ExperimentStop(status: status, message: "the proposal changes nothing") }
        let hash = filesFingerprint(after)
        experiment.record.filesHash = hash
        if records.contains(where: { $0.filesHash == hash && $0.id != experiment.record.id }) {
            throw ExperimentStop(status: status, message: "the proposal repeats files already tried (files hash \(hash.prefix(12)))")
        }
        for path in manifest.editable {
            try after[path]!.write(to: experiment.worktree.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }
        try git.run(["reset", "-q", "--soft", parent])
        try git.run(["add", "--"] + manifest.editable.sorted())
        let commit = try git.commit(experiment.record.description + (proposal.hypothesis.isEmpty ? "" : "\n\n" + proposal.hypothesis))
        experiment.record.commit = commit
        experiment.record.diff = try git.diff(from: experiment.record.parentCommit ?? "HEAD~1", to: commit)
        try ledger.save(experiment.record)
    }

    /// Builds; a failed build goes back to the researcher for a fix up to `buildFixAttempts` times (the same
    /// conversation, with the compiler's output fenced as untrusted data), then the experiment is a crash.
    func buildWithRepairs(_ experiment: inout Experiment, parent: String) async throws {
        var fixes = 0
        let researcher = experiment.worker.researcher
        while true {
            do {
                try await acquireSlot(&experiment)
                try await build(&experiment)
                return
            } catch let stop as ExperimentStop {
                guard let output = stop.compilerOutput, fixes < researcher.buildFixAttempts, var context = experiment.worker.lastContext,
                      context.experimentNumber == experiment.record.number else { throw stop }
                await releaseSlot(&experiment)  // the slot is free while the researcher fixes the build
                fixes += 1
                experiment.record.buildFixes = fixes
                await note("build failed; asking the researcher for a fix (\(fixes) of \(researcher.buildFixAttempts))")
                appendLog(experiment.log, "# build failed; the researcher gets the compiler output for fix \(fixes) of \(researcher.buildFixAttempts)\n")
                try await setPhase(&experiment, .propose, limit: nil)
                context.triedFilesHashes.remove(experiment.record.filesHash ?? "")
                let proposal: Proposal
                do {
                    defer { recordSession(&experiment) }
                    proposal = try await researcher.repair(context, compilerOutput: output)
                } catch is CancellationError {
                    throw ExperimentStop(status: .interrupted, message: "interrupted while the researcher was fixing the build")
                } catch {
                    throw ExperimentStop(status: .crash, message: stop.message + "\n(the researcher's fix \(fixes) failed: \(error))")
                }
                let records = try visible(ledger.experiments(tag: tag), for: experiment)
                try commitProposal(proposal, &experiment, records: records, status: .crash)
                await display.show(.experiment(number: experiment.record.number, description: experiment.record.description))
                try checkIntegrity(experiment, parent: parent)
            }
        }
    }

    /// Stores what the researcher spent and said (its transcript) with the experiment.
    func recordSession(_ experiment: inout Experiment) {
        guard let session = experiment.worker.researcher.lastSession() else { return }
        experiment.record.inputTokens = session.inputTokens
        experiment.record.cacheWriteTokens = session.cacheWriteTokens
        experiment.record.cacheReadTokens = session.cacheReadTokens
        experiment.record.outputTokens = session.outputTokens
        experiment.record.costUSD = session.costUSD
        experiment.record.transcript = session.transcript
        try? ledger.save(experiment.record)
    }

    /// The research program: the workspace's program.md (read from the workspace, so edits apply at the next experiment).
    func programText() -> String {
        for path in manifest.notes where path.hasSuffix("program.md") {
            if let text = try? String(contentsOf: workspace.root.appendingPathComponent(path), encoding: .utf8) { return text }
        }
        return ""
    }

    /// The most recent crash among the last five experiments, with the tail of its log.
    func lastCrash(_ records: [ExperimentRecord]) -> CrashReport? {
        guard let crash = records.suffix(5).last(where: { $0.experimentStatus == .crash }) else { return nil }
        let log = crash.logPath.map { tail(of: URL(fileURLWithPath: $0), since: nil, lines: 30) } ?? ""
        return CrashReport(number: crash.number, description: crash.description, error: crash.error ?? "", logTail: log)
    }

    /// Before building: the commit changes only editable files, and every protected file has its recorded hash.
    func checkIntegrity(_ experiment: Experiment, parent: String) throws {
        guard let commit = experiment.record.commit else { return }
        let changed = try Git(experiment.worktree).changedFiles(from: parent, to: commit)
        let outside = changed.filter { !manifest.editable.contains($0) }
        guard outside.isEmpty else {
            throw ExperimentStop(status: .crash, message: "integrity: the commit changes protected files (\(outside.joined(separator: ", ")))")
        }
        do { try workspace.verifyFixed(in: experiment.worktree) } catch let error as HarnessError {
            throw ExperimentStop(status: .crash, message: "integrity: \(error.description)")
        }
    }

    /// Records the end of an experiment in one transaction and shows it.
    func finish(_ experiment: inout Experiment, status: ExperimentStatus, evidence: DecisionEvidence?, reason: String) async throws {
        try record(&experiment, status: status, evidence: evidence, reason: reason)
        await announce(experiment, status: status, reason: reason)
    }

    /// Records the end of an experiment in one ledger transaction (no suspension point).
    func record(_ experiment: inout Experiment, status: ExperimentStatus, evidence: DecisionEvidence?, reason: String) throws {
        experiment.record.status = status.rawValue
        experiment.record.phase = nil
        experiment.record.pid = nil
        experiment.record.finishedAt = Date()
        experiment.record.logPath = experiment.log.path
        if let evidence, let data = try? JSONEncoder().encode(evidence) {
            experiment.record.evidence = String(decoding: data, as: UTF8.self)
        }
        if [.crash, .invalid, .interrupted, .researcherError, .stale].contains(status) {
            experiment.record.error = reason
            experiment.record.metric = nil
        }
        if status != .keep && status != .baseline { experiment.run?.remove(); experiment.run = nil }
        try ledger.save(experiment.record)
        appendLog(experiment.log, "# \(status.rawValue): \(reason)\n")
    }

    func announce(_ experiment: Experiment, status: ExperimentStatus, reason: String) async {
        await display.show(.decided(number: experiment.record.number, status: status, metric: experiment.record.metric,
                                    description: experiment.record.description, reason: reason))
    }

    func setPhase(_ experiment: inout Experiment, _ phase: Phase, limit: Double?) async throws {
        if Task.isCancelled { throw ExperimentStop(status: .interrupted, message: "interrupted before \(phase.rawValue)") }
        experiment.record.phase = phase.rawValue
        experiment.record.logPath = experiment.log.path
        try ledger.save(experiment.record)
        await display.show(.phase(number: experiment.record.number, phase, limit: limit))
    }

    func showStanding() async {
        guard let records = try? ledger.experiments(tag: tag) else { return }
        let baseline = records.first { $0.experimentStatus == .baseline }?.metric
        let best = (try? bestSoFar())?.metric
        await display.show(.standing(baseline: baseline, best: best,
                                     keeps: records.filter { $0.experimentStatus == .keep }.count,
                                     experiments: records.filter { $0.experimentStatus != .baseline }.count))
    }

    func note(_ text: String) async { await display.show(.note(text)) }

}

/// One `autoresearch run` per workspace at a time: an exclusive `flock` on `.autoresearch/run.lock`,
/// which the kernel releases when the holder exits, even by SIGKILL (so a resume never waits on a dead harness).
final class RunLock {
    private var fd: Int32

    init(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)  // CLOEXEC: children must not hold the lock
        guard fd >= 0 else { throw HarnessError.other("cannot open \(url.path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw HarnessError.other("another `autoresearch run` is active in this workspace (pid \(holder)); "
                                     + "stop it (Ctrl-C) or wait for it, then run again. `autoresearch status` shows what it does.")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
