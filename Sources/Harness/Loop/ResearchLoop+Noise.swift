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

    /// Why the candidate's comparison with the best is confounded by the machine's speed (`Disturbance.confounded`),
    /// when both have the same throughput signature; nil otherwise.
    func confoundedByThroughput(_ experiment: Experiment, best: String) throws -> String? {
        guard let signature = experiment.signature,
              let record = try ledger.experiments(tag: tag).last(where: {
                  $0.commit == best && ($0.experimentStatus == .keep || $0.experimentStatus == .baseline) }),
              let evidence = record.decisionEvidence, evidence.signature == signature, let measured = evidence.measurements else { return nil }
        return Disturbance.confounded(candidate: experiment.measurements, best: measured, tolerance: manifest.noise.throughputTolerance,
                                      minSeconds: manifest.noise.disturbedMinSeconds)
    }

    /// The throughput signature of the configuration in `worktree`.
    func throughputSignature(_ worktree: URL) -> String {
        var files: [String: String] = [:]
        for path in manifest.editable {
            files[path] = (try? String(contentsOf: worktree.appendingPathComponent(path), encoding: .utf8)) ?? ""
        }
        return Disturbance.signature(files: files, seedParameter: manifest.noise.seedParameter)
    }

    /// Steps/s of the earlier runs with `signature` on slots of `kind`, latest first; and the probe timings of every
    /// earlier run on slots of `kind`, latest first.
    func throughputHistory(signature: String, kind: String?) throws -> (steps: [Double], probes: [Double]) {
        let runs = try history().filter { $0.slotKind == kind }
            .sorted { ($0.finishedAt ?? .distantPast) > ($1.finishedAt ?? .distantPast) }
        let steps = runs.filter { $0.decisionEvidence?.signature == signature }
            .flatMap { ($0.decisionEvidence?.measurements ?? []).reversed().compactMap(\.stepsPerSecond) }
        let probes = runs.flatMap { ($0.decisionEvidence?.measurements ?? []).reversed().compactMap(\.probeMilliseconds) }
        return (steps, probes)
    }

    /// Trains the commit in the worktree until `enough` says its undisturbed runs suffice: after each run the
    /// disturbed ones are marked (`Disturbance.mark`) and a newly disturbed run is replaced by another. After
    /// `maxDisturbed` disturbed runs the machine has stayed slower than the norm (which is then out of date), and the
    /// further runs are judged as they are: a slow run makes a candidate look worse, and a keep is checked against the
    /// best re-measured beside it.
    /// `strict` (the best's re-measure, where a slow run would favour the candidate): past `maxDisturbed` it stops with
    /// a discard instead.
    func measuredRuns(_ experiment: inout Experiment, seedOffset: Int = 0, strict: Bool = false, labels: (_ valid: Int) -> String,
                      enough: ([Double]) throws -> Bool) async throws -> [RunMeasurement] {
        let signature = throughputSignature(experiment.worktree)
        experiment.signature = signature
        let judged = manifest.budget.mode == .time
        let past = judged ? try throughputHistory(signature: signature, kind: experiment.record.slotKind) : (steps: [], probes: [])
        var runs: [RunMeasurement] = []
        while true {
            let valid = runs.filter { $0.disturbed == nil }.count
            var label = labels(valid)
            if let last = runs.last, last.disturbed != nil { label += " (again: run \(runs.count) was disturbed)" }
            runs.append(try await train(&experiment, label: label, phase: runs.isEmpty && seedOffset == 0 ? .train : .rerun, run: seedOffset + runs.count))
            let before = runs.map(\.disturbed)
            let replaced = before.filter { $0 != nil }.count
            if judged && strict && replaced >= manifest.noise.maxDisturbed {
                throw ExperimentStop(status: .discard, message: "\(replaced) of its runs were disturbed by machine load")
            }
            if judged && replaced < manifest.noise.maxDisturbed {
                Disturbance.mark(&runs, history: past.steps, probeHistory: past.probes, settings: manifest.noise)
            } else if judged && replaced == manifest.noise.maxDisturbed && runs.count == replaced + 1 {
                LogFile.append(experiment.log, "# \(replaced) runs were disturbed: the machine has stayed slower than this configuration's norm, "
                               + "which is out of date; the runs are judged as they are\n")
            }
            var fresh = false
            for i in runs.indices where before[i] == nil && runs[i].disturbed != nil {
                fresh = true
                LogFile.append(experiment.log, "# run \(i + 1) was disturbed: \(runs[i].disturbed!); it is left out and run again\n")
                await note("\(experiment.worker.label)experiment \(experiment.record.number): run \(i + 1) was disturbed by load (\(runs[i].disturbed!)); running again")
            }
            experiment.measurements = runs
            if fresh { continue }
            if try enough(runs.filter { $0.disturbed == nil }.map(\.metric)) { return runs }
        }
    }
}

extension ResearchLoop {
    /// Before a keep, the best runs again beside the candidate, as many times as the candidate ran (new seeds, the same
    /// slot, the same minutes of the machine): its recorded runs may come from another state of the machine (a
    /// slower hour makes every run of the baseline worse under a time budget, and then every no-op candidate looks
    /// better). When the fresh runs agree with the recorded ones (their means differ by at most 2σ·√(1/k + 1/m)) they
    /// join them; when they do not, they replace them (the old ones are marked superseded). Either way the best's
    /// record (its runs and its mean) is updated, and the decision that follows compares against it.
    func remeasureBest(_ experiment: inout Experiment, commit best: String, runs k: Int) async throws {
        guard let candidate = experiment.record.commit,
              let recorded = try ledger.experiments(tag: tag).last(where: {
                  $0.commit == best && ($0.experimentStatus == .keep || $0.experimentStatus == .baseline) }),
              let before = recorded.decisionEvidence else { return }
        let saved = experiment
        func restore(_ experiment: inout Experiment) async throws {
            let (built, ran, total) = (experiment.record.buildSeconds, experiment.record.runSeconds, experiment.record.totalSeconds)
            experiment.run?.remove()
            experiment.record = saved.record
            experiment.record.buildSeconds = built; experiment.record.runSeconds = ran; experiment.record.totalSeconds = total
            experiment.run = saved.run; experiment.measurements = saved.measurements; experiment.signature = saved.signature
            try workspace.git.prepareWorktree(at: experiment.worktree, commit: candidate)
            try await build(&experiment)
            try ledger.save(experiment.record)
        }
        experiment.run = nil
        let offset = before.measurements?.count ?? before.runs.count
        LogFile.append(experiment.log, "# the candidate cleared the threshold: the best \(best.prefix(7)) runs \(k) time(s) beside it, on new seeds\n")
        let fresh: [Double]
        do {
            try workspace.git.prepareWorktree(at: experiment.worktree, commit: best)
            try await build(&experiment)
            fresh = try await measuredRuns(&experiment, seedOffset: offset, strict: true, labels: { "the best \(best.prefix(7)) beside it, run \($0 + 1)/\(k)" },
                                           enough: { $0.count >= k }).filter { $0.disturbed == nil }.map(\.metric)
        } catch let stop as ExperimentStop where stop.status != .interrupted {
            try await restore(&experiment)
            experiment.unverified = "the best could not be re-measured beside it (\(stop.message))"
            LogFile.append(experiment.log, "# \(experiment.unverified!); it is not kept now\n")
            return
        }
        let freshMeasurements = experiment.measurements
        try await restore(&experiment)

        // No suspension from here to the save: the best's record is read and written in one step.
        guard var record = try ledger.experiments(tag: tag).first(where: { $0.id == recorded.id }),
              var evidence = record.decisionEvidence, !fresh.isEmpty else { return }
        let old = evidence.runs
        let sigma = try noiseEstimate(kind: experiment.record.slotKind)?.sigma ?? 0
        let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(xs.count) }
        let gap = abs(mean(fresh) - mean(old)), tolerance = 2 * sigma * (1 / Double(fresh.count) + 1 / Double(old.count)).squareRoot()
        let agree = gap <= max(tolerance, manifest.noise.minDelta)
        var measurements = evidence.measurements ?? old.map { RunMeasurement(metric: $0) }
        if !agree {
            for i in measurements.indices where measurements[i].disturbed == nil {
                measurements[i].disturbed = "superseded: re-measured beside experiment \(experiment.record.number), its runs then differed from these by "
                    + String(format: "%.4f (more than %.4f)", gap, tolerance)
            }
        }
        evidence.measurements = measurements + freshMeasurements
        evidence.runs = agree ? old + fresh : fresh
        evidence.mean = mean(evidence.runs)
        record.metric = evidence.mean
        if let data = try? JSONEncoder().encode(evidence) { record.evidence = String(decoding: data, as: UTF8.self) }
        try ledger.save(record)
        for (island, entry) in islandBests where entry.commit == best { islandBests[island] = (best, evidence.mean) }
        let text = String(format: "the best %@ re-measured beside experiment %d: %@ → mean %.6f over %d runs (%@)", String(best.prefix(7)),
                          experiment.record.number, fresh.map { String(format: "%.4f", $0) }.joined(separator: ", "), evidence.mean,
                          evidence.runs.count, agree ? "they agree with its recorded runs" : String(format: "its recorded runs were %.4f off: superseded", gap))
        LogFile.append(experiment.log, "# \(text)\n")
        await note(text)
    }
}
