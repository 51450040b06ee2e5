import AutoResearchCore
import Foundation

/// The noise side of a decision: σ pooled over the workspace's history (`NoiseEstimate`), the throughput norm of a
/// configuration and the disturbed runs (`Disturbance`), and the training runs of one commit until the rule decides.
extension ResearchLoop {
    /// Every decided experiment of the tags that share this workspace's manifest (this tag's included).
    func history() throws -> [ExperimentRecord] {
        try ledger.tags().filter { $0.manifestHash == workspace.manifestHash }.flatMap { try ledger.experiments(tag: $0.tag) }
    }

    /// One run's σ: every commit run more than once in `history()` on slots of `kind` (of any kind when none has
    /// repeats), plus `runs` (the candidate's so far). Weights: 1 for the best commit and the candidates built on it
    /// (and `runs`), ½ for the rest of this tag, ¼ for other tags.
    func noiseEstimate(including runs: [Double] = [], kind: String? = nil, records: [ExperimentRecord]? = nil) throws -> NoiseEstimate? {
        let records = try records ?? history()
        var pooled = NoiseEstimate.groups(records, tag: tag, best: try bestSoFar().commit, kind: kind)
        if runs.count >= 2 { pooled.append(NoiseEstimate.Group(runs: runs, weight: 1)) }
        return NoiseEstimate.estimate(pooled, settings: manifest.noise)
    }

    /// How many runs the best commit's mean rests on (m in the threshold).
    func runsOfBest(_ commit: String) throws -> Int {
        let record = try ledger.experiments(tag: tag).last {
            $0.commit == commit && ($0.experimentStatus == .keep || $0.experimentStatus == .baseline)
        }
        return max(1, record?.decisionEvidence?.runs.count ?? 1)
    }

    /// The throughput signature of the configuration in `worktree`.
    func throughputSignature(_ worktree: URL) -> String {
        var files: [String: String] = [:]
        for path in manifest.editable {
            files[path] = (try? String(contentsOf: worktree.appendingPathComponent(path), encoding: .utf8)) ?? ""
        }
        return Disturbance.signature(files: files, seedParameter: manifest.noise.seedParameter)
    }

    /// Steps/s of the earlier runs with `signature` on slots of `kind`, latest first.
    func throughputHistory(signature: String, kind: String?) throws -> [Double] {
        try history().filter { $0.slotKind == kind && $0.decisionEvidence?.signature == signature }
            .sorted { ($0.finishedAt ?? .distantPast) > ($1.finishedAt ?? .distantPast) }
            .flatMap { ($0.decisionEvidence?.measurements ?? []).reversed().compactMap(\.stepsPerSecond) }
    }

    /// Trains the commit in the worktree until `enough` says its undisturbed runs suffice: after each run the
    /// disturbed ones are marked (`Disturbance.mark`) and a newly disturbed run is replaced by another. More than
    /// `maxDisturbed` disturbed runs end the experiment unjudged (a discard that says so).
    func measuredRuns(_ experiment: inout Experiment, labels: (_ valid: Int) -> String,
                      enough: ([Double]) throws -> Bool) async throws -> [RunMeasurement] {
        let signature = throughputSignature(experiment.worktree)
        experiment.signature = signature
        let judged = manifest.budget.mode == .time
        let past = judged ? try throughputHistory(signature: signature, kind: experiment.record.slotKind) : []
        var runs: [RunMeasurement] = []
        while true {
            let valid = runs.filter { $0.disturbed == nil }.count
            var label = labels(valid)
            if let last = runs.last, last.disturbed != nil { label += " (again: run \(runs.count) was disturbed)" }
            runs.append(try await train(&experiment, label: label, phase: runs.isEmpty ? .train : .rerun, run: runs.count))
            let before = runs.map(\.disturbed)
            if judged { Disturbance.mark(&runs, history: past, settings: manifest.noise) }
            var fresh = false
            for i in runs.indices where before[i] == nil && runs[i].disturbed != nil {
                fresh = true
                LogFile.append(experiment.log, "# run \(i + 1) was disturbed: \(runs[i].disturbed!); it is left out and run again\n")
                await note("\(experiment.worker.label)experiment \(experiment.record.number): run \(i + 1) was disturbed by load (\(runs[i].disturbed!)); running again")
            }
            experiment.measurements = runs
            let disturbed = runs.filter { $0.disturbed != nil }.count
            if disturbed > manifest.noise.maxDisturbed {
                throw ExperimentStop(status: .discard, message: "not judged: \(disturbed) of its \(runs.count) runs were disturbed by machine load "
                                     + "(more than noise.max_disturbed = \(manifest.noise.maxDisturbed)); the machine was too busy to measure it")
            }
            if fresh { continue }
            if try enough(runs.filter { $0.disturbed == nil }.map(\.metric)) { return runs }
        }
    }
}
