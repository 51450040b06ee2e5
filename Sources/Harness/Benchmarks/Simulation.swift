import AutoResearchCore
import Foundation
import SearchResearcher
import SubjectKit

/// A swarm simulation: many researchers over many slots on the quadratic subject, whose runs sleep a
/// random time instead of training. It measures what the scheduler and the ledger must guarantee: slots stay
/// busy while work waits (utilisation), no experiment is lost or duplicated, no keep skipped re-validation.
public enum Simulation {
    public struct Settings: Sendable {
        public var researchers: Int
        public var slots: Int
        /// How long the swarm starts new experiments.
        public var seconds: Double
        /// The length of one run, drawn uniformly from this range (seconds).
        public var runSeconds: ClosedRange<Double>
        public var seed: UInt64 = 1
        /// Stop starting experiments after this many as well (nil: only `seconds` limits the swarm). Tests use it so
        /// that a loaded machine changes how long the swarm takes, not how much of it there is.
        public var experiments: Int?
        public init(researchers: Int, slots: Int, seconds: Double, runSeconds: ClosedRange<Double>) {
            self.researchers = researchers; self.slots = slots; self.seconds = seconds; self.runSeconds = runSeconds
        }
    }

    public struct Report: Sendable {
        public var settings: Settings
        public var experiments: Int
        public var byStatus: [String: Int]
        /// Busy slot-seconds / (slots × seconds) while the swarm was starting experiments (the drain excluded).
        public var utilisation: Double
        /// The most slots in use at one moment (all of them, unless the scheduler serialises work).
        public var peakSlotsInUse: Int
        public var experimentsPerHour: Double
        /// slots × 3600 / (mean run length + the subject's start-up), the rate with zero overhead.
        public var idealPerHour: Double
        public var problems: [String]
        public var wallSeconds: Double
        /// Why experiments ended stale or as researcher errors, with counts.
        public var reasons: [String: Int] = [:]

        public var text: String {
            var lines = [String(format: "%d researchers over %d slots, runs of %.0f–%.0f s, %.0f s of starting experiments (%.0f s wall)",
                                settings.researchers, settings.slots, settings.runSeconds.lowerBound, settings.runSeconds.upperBound,
                                settings.seconds, wallSeconds)]
            lines.append("experiments: \(experiments) (" + byStatus.keys.sorted().map { "\($0) \(byStatus[$0]!)" }.joined(separator: ", ") + ")")
            for reason in reasons.keys.sorted(by: { reasons[$0]! > reasons[$1]! }) { lines.append("  \(reasons[reason]!) × \(reason)") }
            lines.append(String(format: "slot utilisation: %.1f %% (at most %d of %d slots in use at once)", utilisation * 100, peakSlotsInUse, settings.slots))
            lines.append(String(format: "experiments per hour: %.0f (ideal %.0f: %.0f %%)", experimentsPerHour, idealPerHour, 100 * experimentsPerHour / idealPerHour))
            lines.append(problems.isEmpty ? "ledger consistent: every number once, nothing left running, every keep judged against the best of its time"
                                          : "PROBLEMS:\n  " + problems.joined(separator: "\n  "))
            return lines.joined(separator: "\n")
        }
    }

    /// Runs one simulation in a fresh temporary workspace (removed afterwards).
    public static func run(_ settings: Settings, sourceRoot: URL? = nil, display: any Display = LineDisplay()) async throws -> Report {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("autoresearch-sim-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: base) }
        let root = base.appendingPathComponent("ws")
        _ = try Workspace.create(at: root, options: WorkspaceOptions(template: "quadratic", timeBudget: settings.runSeconds.upperBound,
                                                                    dataDirectory: "", sourceRoot: sourceRoot))
        // Simulated slots: each stands for one machine's worth of compute (no pinning).
        var manifest = try Manifest.load(workspace: root)
        manifest.slots = (0..<settings.slots).map { Slot(name: "sim\($0)") }
        try manifest.render().write(to: root.appendingPathComponent(Manifest.fileName), atomically: true, encoding: .utf8)
        try Git(root).run(["commit", "-q", "-a", "-m", "simulated slots"])
        let workspace = try Workspace.open(root)

        let researchers: [any Researcher] = (0..<settings.researchers).map {
            PerturbationResearcher(seed: settings.seed &* 1_000_003 &+ UInt64($0))
        }
        var options = RunOptions(tag: "sim", experiments: settings.experiments, hours: settings.seconds / 3600, baselineRuns: 2, seed: settings.seed)
        // The simulated researchers only move hyperparameter values of the quadratic benchmark, which scores itself.
        options.allowUntrusted = true
        options.researcherFailurePause = 1
        options.subjectEnvironment["AUTORESEARCH_SIM_SECONDS"] = "\(settings.runSeconds.lowerBound),\(settings.runSeconds.upperBound)"
        options.maxResearcherFailures = 1000
        let loop = try ResearchLoop(workspace: workspace, researchers: researchers, options: options, display: display)
        let started = Date()
        // Utilisation is sampled when the swarm stops starting experiments (the drain afterwards is not idle time).
        // The sampler never gives up on its own: on a loaded machine, creating the workers' worktrees and building
        // the first candidates can take longer than the whole window, so it waits for the first experiment in a
        // slot (or the end of the loop), and the peak counts from the moment the swarm started.
        let sampler = Task { () -> (Double, Int) in
            while await !loop.swarmStarted { try? await Task.sleep(nanoseconds: 100_000_000); if Task.isCancelled { break } }
            await loop.slotPool.resetStatistics()
            while await loop.slotPool.held == 0, !Task.isCancelled { try? await Task.sleep(nanoseconds: 20_000_000) }
            let early = await loop.slotPool.peakHeld
            await loop.slotPool.resetStatistics()
            try? await Task.sleep(nanoseconds: UInt64(settings.seconds * 1e9))
            return (await loop.slotPool.utilisation(), max(early, await loop.slotPool.peakHeld))
        }
        _ = try await loop.run()
        // A loop that ended before the sampling window did ends the window (the figures up to now count).
        sampler.cancel()
        let (utilisation, peak) = await sampler.value
        let records = try loop.ledger.experiments(tag: "sim")
        let ran = records.filter { $0.experimentStatus != .baseline }
        var byStatus: [String: Int] = [:]
        for r in ran { byStatus[r.status, default: 0] += 1 }
        var reasons: [String: Int] = [:]
        for r in ran where [.stale, .researcherError].contains(r.experimentStatus) {
            let reason = (r.error ?? "?").replacingOccurrences(of: #"[0-9a-f]{7,}"#, with: "…", options: .regularExpression)
            reasons[reason, default: 0] += 1
        }
        let trained = ran.filter { [.keep, .discard, .crash, .stale].contains($0.experimentStatus) }
        let meanRun = trained.compactMap(\.runSeconds).reduce(0, +) / Double(max(1, trained.count))
        return Report(settings: settings, experiments: ran.count, byStatus: byStatus, utilisation: utilisation, peakSlotsInUse: peak,
                      experimentsPerHour: Double(trained.count) / (Date().timeIntervalSince(started) / 3600),
                      idealPerHour: Double(settings.slots) * 3600 / max(0.001, meanRun),
                      problems: try check(records, branch: Git(root).revParse("refs/heads/autoresearch/sim")),
                      wallSeconds: Date().timeIntervalSince(started), reasons: reasons)
    }

    /// The ledger's invariants after a swarm: numbers 0…n once each, nothing running, and the keeps form one
    /// chain from the baseline (each judged against the best of its time) that ends where the branch points.
    public static func check(_ records: [ExperimentRecord], branch: String) -> [String] {
        var problems: [String] = []
        if records.map(\.number) != Array(0..<records.count) { problems.append("experiment numbers are not 0…\(records.count - 1) once each") }
        let running = records.filter { $0.experimentStatus == .running }
        if !running.isEmpty { problems.append("\(running.count) experiment(s) left running") }
        var best = records.first?.commit
        for r in records.sorted(by: { ($0.finishedAt ?? .distantFuture) < ($1.finishedAt ?? .distantFuture) }) where r.experimentStatus == .keep {
            if r.parentCommit != best { problems.append("keep \(r.number) was judged against \(r.parentCommit?.prefix(7) ?? "-"), not the best of its time") }
            best = r.commit
        }
        if best != branch { problems.append("the branch is at \(branch.prefix(7)), not at the last keep") }
        return problems
    }
}

/// The simulation's researcher: moves one numeric hyperparameter by a random Gaussian step (a quarter of its
/// range) within its range. Its proposals are practically never the same twice, so a large swarm always has
/// distinct work for every slot (the search researcher has only a handful of moves from one best).
final class PerturbationResearcher: Researcher, @unchecked Sendable {
    let name = "perturb"
    private let lock = NSLock()
    private var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    func propose(_ context: ResearchContext) async throws -> Proposal {
        guard let path = context.editableFiles.first,
              let source = try? String(contentsOf: context.worktree.appendingPathComponent(path), encoding: .utf8),
              let block = try? HyperparameterBlock.parse(source, path: path) else {
            throw ResearcherError.failed("no hyperparameter block to perturb")
        }
        let numeric = block.parameters.filter { $0.range != nil && $0.value.number != nil }
        guard !numeric.isEmpty else { throw ResearcherError.nothingLeftToTry("no numeric hyperparameter with a range") }
        let (index, step) = lock.withLock { () -> (Int, Double) in
            let i = Int(rng.next() % UInt64(numeric.count))
            // Box–Muller from two uniforms in (0, 1].
            let u1 = Double(rng.next() >> 11 | 1) / Double(1 << 53), u2 = Double(rng.next() >> 11) / Double(1 << 53)
            return (i, (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
        let parameter = numeric[index]
        let range = parameter.range!, old = parameter.value.number!
        let new = min(range.upperBound, max(range.lowerBound, old + step * (range.upperBound - range.lowerBound) / 4))
        let rounded = (new * 1e4).rounded() / 1e4
        let value: HyperparameterValue = { if case .int = parameter.value { return .int(Int(rounded.rounded())) }; return .double(rounded) }()
        return Proposal(files: [path: block.replacing(parameter.name, with: value, in: source)],
                        description: "\(parameter.name) \(parameter.value) → \(value)", hypothesis: "a random step", move: "perturb:\(parameter.name)")
    }
}
