import AutoResearchCore
import Foundation
import SearchResearcher
import SubjectKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening a tag, recovering what a killed harness left, the best so far and the noise, and the baseline.
extension ResearchLoop {
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

    // MARK: - Baseline

    /// The baseline's record as it will be saved, for the σ it gives before it is.
    func baselineRecord(_ experiment: Experiment, runs: [Double]) -> ExperimentRecord {
        var record = experiment.record
        record.status = ExperimentStatus.baseline.rawValue
        if let data = try? JSONEncoder().encode(DecisionEvidence(runs: runs, mean: 0, threshold: 0, verdict: "baseline", reason: "")) {
            record.evidence = String(decoding: data, as: UTF8.self)
        }
        return record
    }

    /// Runs the unchanged baseline K times: its mean is the first best, its spread the first σ.
    /// Returns false when it was interrupted; throws when it crashed.
    func runBaseline() async throws -> Bool {
        guard let tagRecord = try ledger.tag(tag) else { return false }
        return try await measureCommit(tagRecord.baselineCommit, as: .baseline)
    }

    /// Measures a human reference configuration (`--reference COMMIT`) once per tag and commit: the baseline's
    /// protocol (as many runs, the same trusted evaluation, the hidden test split), recorded with status
    /// `reference` for the parity milestone. Its fixed files must hash as the manifest says.
    func runReferenceIfNeeded() async throws -> Bool {
        guard let reference = options.reference else { return true }
        guard let commit = workspace.git.resolve("\(reference)^{commit}") else {
            throw HarnessError.other("the reference commit '\(reference)' is not in this workspace's repository; commit the human configuration (e.g. on a branch) and pass its hash or branch to --reference")
        }
        if try ledger.experiments(tag: tag).contains(where: { $0.experimentStatus == .reference && $0.commit == commit }) { return true }
        return try await measureCommit(commit, as: .reference)
    }

    /// Runs `commit` K times (disturbed runs replaced) and records it as the tag's baseline or a human reference.
    private func measureCommit(_ commit: String, as status: ExperimentStatus) async throws -> Bool {
        let k = max(1, options.baselineRuns ?? manifest.noise.baselineRuns)
        let name = status == .baseline ? "baseline" : "reference"
        var record = try ledger.start(ExperimentRecord(tag: tag, number: -1, parentCommit: nil,
                                                       description: status == .baseline ? "baseline" : "human reference \(commit.prefix(12))",
                                                       researcher: status == .baseline ? "harness" : "human"))
        record.commit = commit
        try ledger.save(record)
        await display.show(.experiment(number: record.number, description: "\(record.description) (\(k) runs)"))
        var experiment = Experiment(record: record, log: logURL(record.number), worker: workers[0])
        do {
            try workspace.git.prepareWorktree(at: experiment.worktree, commit: commit)
            try workspace.verifyFixed(in: experiment.worktree)
            try await acquireSlot(&experiment)
            try await build(&experiment)
            let measured = try await measuredRuns(&experiment, labels: { "\(name) run \($0 + 1)/\(k)" }, enough: { $0.count >= k })
            let runs = measured.filter { $0.disturbed == nil }.map(\.metric)
            try await measureTest(&experiment)
            experiment.run?.remove()
            await releaseSlot(&experiment)
            let noise = try noiseEstimate(kind: experiment.record.slotKind, records: try history() + [baselineRecord(experiment, runs: runs)])
            let evidence = Decision.baselineEvidence(runs: runs, sigma: noise, settings: manifest.noise)
            experiment.record.metric = evidence.mean
            try await finish(&experiment, status: status, evidence: evidence, reason: evidence.reason)
            if status == .baseline {
                try ledger.setNoiseSigma(evidence.sigma, tag: tag)
                if let noise { await note("noise σ \(noise.summary)") }
            }
            await showStanding()
            return true
        } catch let stop as ExperimentStop {
            await releaseSlot(&experiment)
            try await finish(&experiment, status: stop.status, evidence: nil, reason: stop.message)
            if stop.status == .crash || (status == .reference && stop.status == .invalid) {
                throw HarnessError.other("the \(name) crashed (\(stop.message)); see \(experiment.log.path). Fix the \(status == .baseline ? "subject" : "reference commit"), commit, and run again.")
            }
            return false
        }
    }
}
