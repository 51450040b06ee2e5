import AutoResearchCore
import Foundation
import SearchResearcher
import SubjectKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One experiment from start to decision: its slot, its runs, the noise-aware decision against the best *now*,
/// and the rebase of a candidate whose base moved.
extension ResearchLoop {
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
        /// Its training runs so far (disturbed ones included) and its configuration's throughput signature.
        var measurements: [RunMeasurement] = []
        var signature: String?
        /// Set when the best could not be re-measured beside a would-be keep: it is then not kept.
        var unverified: String?
        /// Whether its proposal came from the inbox (`ProposalInbox`): a failed build then does not go to a researcher for a fix.
        var queued = false
        var worktree: URL { worker.worktree }
    }

    /// Waits for a free slot and records it with the experiment. A cancelled wait is an interruption.
    func acquireSlot(_ experiment: inout Experiment) async throws {
        guard experiment.slotIndex == nil else { return }
        try await setStage(&experiment, .queued, limit: nil)
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
            let runs = try await runCandidate(&experiment, against: bestMetric, bestRuns: try runsOfBest(best.commit))
            let status = try await decide(&experiment, runs: runs)
            if status == .keep {
                // The hidden test split, for the ledger and the report only.
                try await acquireSlot(&experiment)
                try await measureTest(&experiment)
                await releaseSlot(&experiment)
                experiment.run?.remove()
                experiment.record.phase = nil  // it was decided before the test split was scored
                experiment.record.pid = nil
                try ledger.save(experiment.record)
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

    /// Builds the candidate in a slot (sending a failed build back to its researcher) and trains it until the rule
    /// decides: a promising first run is confirmed on a new seed, a borderline mean run again, a disturbed run
    /// replaced. Returns every run. The slot is released before it returns.
    func runCandidate(_ experiment: inout Experiment, against bestMetric: Double, bestRuns: Int) async throws -> [RunMeasurement] {
        try await buildWithRepairs(&experiment, parent: experiment.record.parentCommit ?? "HEAD")
        let confirm = manifest.noise.confirmationRuns
        let kind = experiment.record.slotKind
        var verdict = Verdict.discard
        let runs = try await measuredRuns(&experiment, labels: { valid in
            valid == 0 ? "run 1" : "run \(valid + 1) (\(valid < confirm ? "confirmation" : "borderline"))"
        }, enough: { [self] valid in
            let sigma = try noiseEstimate(including: valid, kind: kind)?.sigma
            verdict = Decision.judge(runs: valid, best: bestMetric, bestRuns: bestRuns, sigma: sigma,
                                     settings: manifest.noise, direction: manifest.direction).verdict
            return verdict != .rerun
        })
        // Not in the meta-loop: its arms run side by side in the same windows (drift reaches both alike), and a
        // re-measure of their shared base would break the pairing.
        if verdict == .keep, manifest.noise.remeasureBest, options.meta == nil, let parent = experiment.record.parentCommit {
            try await remeasureBest(&experiment, commit: parent, runs: runs.filter { $0.disturbed == nil }.count)
        }
        await releaseSlot(&experiment)
        return runs
    }

    /// Decides against the best *now*. When the best has moved since the candidate began (another worker kept
    /// something), a candidate that would still be kept is rebased onto the new best and run again there — it is
    /// never kept on the strength of the old comparison — or recorded `stale` when it no longer applies.
    /// The keep and the branch's compare-and-swap happen with no suspension between reading the best and moving it.
    func decide(_ experiment: inout Experiment, runs measured: [RunMeasurement]) async throws -> ExperimentStatus {
        var runs = measured.filter { $0.disturbed == nil }.map(\.metric)
        var rebases = 0
        while true {
            let best = try base(for: experiment.worker)
            guard let bestMetric = best.metric else { throw HarnessError.other("tag \(tag) has no baseline metric") }
            let bestRuns = try runsOfBest(best.commit)
            let noise = try noiseEstimate(including: runs, kind: experiment.record.slotKind)
            var decision = Decision.judge(runs: runs, best: bestMetric, bestRuns: bestRuns, sigma: noise?.sigma,
                                          settings: manifest.noise, direction: manifest.direction)
            decision.evidence.sigmaRuns = noise?.runs
            experiment.record.metric = decision.evidence.mean
            if decision.verdict == .keep, let why = try experiment.unverified ?? (manifest.budget.mode == .time ? confoundedByThroughput(experiment, best: best.commit) : nil) {
                decision.verdict = .discard
                decision.evidence.verdict = "discard"
                decision.evidence.reason += "; not kept: " + why
            }
            if decision.verdict == .rerun {
                // Only when the best was re-measured beside it, or moved: no run follows here.
                decision.evidence.reason = decision.evidence.reason.replacingOccurrences(of: "; running again", with: "") + ": not kept"
            }
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
                if runs.count > 1 { try ledger.setNoiseSigma(try noiseEstimate()?.sigma, tag: tag) }
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
            runs = try await runCandidate(&experiment, against: bestMetric, bestRuns: bestRuns)
                .filter { $0.disturbed == nil }.map(\.metric)
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
}
