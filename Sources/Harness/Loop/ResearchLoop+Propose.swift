import AutoResearchCore
import Foundation
import SearchResearcher
import SubjectKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Asking the researcher for a change, checking and committing it, sending a failed build back, and the
/// integrity checks before anything is built.
extension ResearchLoop {
    func propose(_ experiment: inout Experiment, bestMetric: Double) async throws {
        try await setStage(&experiment, .propose, limit: nil)
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
        // A proposal queued from outside (the MCP server) goes first, through the same checks as the researcher's.
        if options.meta == nil, let queued = ProposalInbox(workspace: workspace).take() {
            experiment.record.researcher = queued.researcher
            experiment.queued = true
            await note("experiment \(experiment.record.number): the proposal queued by \(queued.source): \(queued.description)")
            var proposal = queued.proposal
            do {
                proposal.files = try queued.rebased(onto: experiment.record.parentCommit ?? "HEAD", git: Git(experiment.worktree))
            } catch {
                experiment.record.description = queued.description
                throw ExperimentStop(status: .researcherError, message: "\(error)")
            }
            try commitProposal(proposal, &experiment,
                               records: try visible(ledger.experiments(tag: tag), for: experiment), status: .researcherError)
            return
        }
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
    /// A human reference (`--reference`) is never visible: the loop must get where it gets with no human.
    func visible(_ records: [ExperimentRecord], for experiment: Experiment) -> [ExperimentRecord] {
        let records = records.filter { $0.experimentStatus != .reference }
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
        if let refusal = manifest.refusal(changing: Array(proposal.files.keys)) {
            throw ExperimentStop(status: status, message: refusal)
        }
        // The files as the parent commit has them (researchers that edit the worktree have already changed it).
        var before: [String: String] = [:]
        for path in manifest.editable { before[path] = git.attempt(["show", "\(parent):\(path)"]) ?? "" }
        var after = before
        for (path, content) in proposal.files { after[path] = content }
        guard after != before else { throw ExperimentStop(status: status, message: "the proposal changes nothing") }
        if let index = heldOutIndex() {
            for path in manifest.editable.sorted() where after[path] != before[path] {
                let copied = index.copiedStretches(in: after[path] ?? "", allowed: before[path] ?? "")
                if copied > 0 {
                    throw ExperimentStop(status: status, message: "the proposal carries the held-out text verbatim: \(copied) stretches of \(SplitLeakIndex.window) letters of the validation or test split in \(path); a program may learn only from the training split")
                }
            }
        }
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

    /// The validation and test splits' index, for a harness-scored subject with a prepared corpus; nil otherwise.
    func heldOutIndex() -> SplitLeakIndex? {
        if let splitLeakIndex { return splitLeakIndex }
        guard manifest.evaluation.scoring == .harness, let data = dataDirectory,
              let corpus = try? Corpus.open(directory: URL(fileURLWithPath: data)),
              let validation = try? Corpus.readSplit(corpus.validation, of: corpus),
              let test = try? Corpus.readSplit(corpus.test, of: corpus) else { return nil }
        let index = SplitLeakIndex([validation, test])
        splitLeakIndex = index
        return index
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
                guard let output = stop.compilerOutput, !experiment.queued, fixes < researcher.buildFixAttempts, var context = experiment.worker.lastContext,
                      context.experimentNumber == experiment.record.number else { throw stop }
                await releaseSlot(&experiment)  // the slot is free while the researcher fixes the build
                fixes += 1
                experiment.record.buildFixes = fixes
                await note("build failed; asking the researcher for a fix (\(fixes) of \(researcher.buildFixAttempts))")
                appendLog(experiment.log, "# build failed; the researcher gets the compiler output for fix \(fixes) of \(researcher.buildFixAttempts)\n")
                try await setStage(&experiment, .propose, limit: nil)
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
}
