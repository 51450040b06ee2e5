import AutoResearchCore
import Foundation
import SearchResearcher
import Testing
@testable import Harness
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ResearchLoopTests {
    @Test func baselineKeepDiscardAndTheBranchOnlyMovesOnKeep() async throws {
        let standIn = try StandIn(noise: 0.002)
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let researcher = ScriptedResearcher([
            .set([("LEARNING_RATE", "0.003")], "LEARNING_RATE 0.01 → 0.003"),   // f improves by 0.025: keep
            .set([("WIDTH", "16")], "WIDTH 64 → 16"),                          // f worsens by 0.085: discard
        ])
        let (summary, records) = try await runLoop(ws, researcher, experiments: 2)
        #expect(summary.stopReason == .experimentLimit)
        #expect(records.map(\.experimentStatus) == [.baseline, .keep, .discard])
        #expect(records.map(\.number) == [0, 1, 2])

        let baseline = records[0]
        let evidence = try #require(baseline.decisionEvidence)
        // 3 baseline runs, then 2 more beside the keep (the best re-measured before it was kept); on a loaded machine a
        // disturbed run is run again, so count the undisturbed ones.
        #expect(evidence.measurements?.filter { $0.disturbed == nil }.count == 5)
        #expect(evidence.runs.count == 5 || evidence.runs.count == 2)
        #expect(abs(evidence.mean - StandIn.quality()) < 0.01)
        let sigma = try #require(evidence.sigma)
        #expect(sigma > 0 && sigma < 0.01)
        #expect(try #require(try ws.ledgerTag("t1")).noiseSigma ?? 0 > 0)

        let keep = records[1]
        // Every keep is confirmed: it rests on two runs with different seeds, both measured.
        #expect(keep.decisionEvidence?.runs.count == 2)
        #expect(keep.decisionEvidence?.measurements?.count == 2)
        #expect(keep.decisionEvidence?.bestRuns == evidence.runs.count)
        #expect(keep.decisionEvidence?.signature != nil)
        #expect(abs(try #require(keep.metric) - StandIn.quality(learningRate: 0.003)) < 0.01)
        #expect(keep.valBPB != nil && keep.peakMemoryMB == 2048 && keep.numSteps == 10 && keep.depth == 2)
        #expect(keep.buildSeconds != nil && keep.runSeconds != nil && keep.finishedAt != nil)
        #expect(keep.diff?.contains("+LEARNING_RATE = 0.003") == true)
        #expect(keep.parentCommit == baseline.commit)
        #expect(keep.filesHash != nil && keep.move == "hp:LEARNING_RATE")
        #expect(keep.decisionEvidence?.verdict == "keep")
        #expect(keep.outcome.memoryGB == 2.0)

        let discard = records[2]
        #expect(discard.parentCommit == keep.commit, "experiment 2 starts from the kept commit")
        #expect(discard.decisionEvidence?.verdict == "discard")

        // The branch is at the kept commit, never at the discarded one.
        let branch = try Git(standIn.workspaceURL).revParse("refs/heads/autoresearch/t1")
        #expect(branch == keep.commit)
        #expect(summary.bestCommit == keep.commit)
        // The researcher saw the history and the tried files.
        #expect(researcher.contexts.count == 2)
        #expect(researcher.contexts[1].history.map(\.status) == [.baseline, .keep])
        #expect(researcher.contexts[1].triedFilesHashes.contains(keep.filesHash!))
        #expect(researcher.contexts[1].bestMetric == keep.metric)
        // Logs exist per experiment, with the subject's environment.
        let log = try String(contentsOf: URL(fileURLWithPath: try #require(keep.logPath)), encoding: .utf8)
        #expect(log.contains("env time_budget=1 token_budget=0 data_dir=\(standIn.base.path)/data eval_test=None"))
        // The workspace itself is untouched.
        #expect(try Git(standIn.workspaceURL).dirtyTrackedFiles().isEmpty)
    }

    @Test func aSeedOnlyChangeIsNotKept() async throws {
        // Noise σ = 0.01 around f; the seed only changes which noise a run gets.
        let standIn = try StandIn(noise: 0.01)
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let seeds = (2...7).map { ScriptedResearcher.Step.set([("SEED", "\($0)")], "SEED 1 → \($0)") }
        let real = ScriptedResearcher.Step.set([("WIDTH", "128")], "WIDTH 64 → 128")  // f improves by 0.041 ≈ 4σ
        let (_, records) = try await runLoop(ws, ScriptedResearcher(seeds + [real]), experiments: 7, baselineRuns: 5)
        let seedOnly = records.filter { $0.description.hasPrefix("SEED") }
        #expect(seedOnly.count == 6)
        for record in seedOnly {
            #expect(record.experimentStatus == .discard, "seed-only change kept: \(record.description) \(record.evidence ?? "")")
            let evidence = try #require(record.decisionEvidence)
            #expect(evidence.threshold >= 2 * (evidence.sigma ?? 0))
            #expect(evidence.threshold >= 0.002)
        }
        #expect(records.last?.description == "WIDTH 64 → 128")
        #expect(records.last?.experimentStatus == .keep)
    }

    @Test func noiseRunsVaryTheSeedSoALuckySeedIsNotKept() async throws {
        // A deterministic subject: its noise (σ = 0.01) comes from SEED alone, so repeating the baseline with
        // one seed would measure σ = 0 and keep any lucky seed. The harness runs the baseline with SEED + 1000·r.
        let standIn = try StandIn(noise: 0.01, seedOnlyNoise: true)
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let seeds = (2...9).map { ScriptedResearcher.Step.set([("SEED", "\($0)")], "SEED 1 → \($0)") }
        let (_, records) = try await runLoop(ws, ScriptedResearcher(seeds), experiments: 8, baselineRuns: 4)
        let baseline = try #require(records.first { $0.experimentStatus == .baseline }?.decisionEvidence)
        #expect(Set(baseline.runs).count == 4, "each noise run must use its own seed: \(baseline.runs)")
        #expect((baseline.sigma ?? 0) > 0.004, "σ must reflect the seed-to-seed noise: \(baseline)")
        let log = try String(contentsOf: URL(fileURLWithPath: try #require(records.first?.logPath)), encoding: .utf8)
        #expect(log.contains("uses another seed: SEED 1 → 1001 (not committed)"))
        #expect(log.contains("SEED 1 → 3001"))
        for record in records where record.description.hasPrefix("SEED") {
            #expect(record.experimentStatus == .discard, "seed-only change kept: \(record.description) \(record.evidence ?? "")")
        }
        // The noise runs' seed edits are never committed: the branch still has SEED = 1.
        let branchFile = try Git(ws.root).run(["show", "autoresearch/t1:train.py"])
        #expect(branchFile.contains("SEED = 1\n"))
    }

    @Test func borderlineCandidateIsRerunAndJudgedOnItsMean() async throws {
        let standIn = try StandIn(noise: 0.01)
        defer { standIn.remove() }
        var ws = try standIn.makeWorkspace()
        // Force σ to be known and the threshold wide: min_delta 0.03 ⇒ a 0.025 improvement is borderline.
        ws = try standIn.editManifest { $0.noise.minDelta = 0.03 }
        let (_, records) = try await runLoop(ws, ScriptedResearcher([.set([("LEARNING_RATE", "0.003")], "LR")]), experiments: 1)
        let evidence = try #require(records.last?.decisionEvidence)
        #expect(evidence.runs.count > 1, "a borderline candidate must be re-run: \(evidence)")
        #expect(abs(evidence.mean - evidence.runs.reduce(0, +) / Double(evidence.runs.count)) < 1e-12)
        #expect(records.last?.metric == evidence.mean)
    }

    @Test func crashesRecordTheirReason() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let researcher = ScriptedResearcher([
            .set([("LEARNING_RATE", "0.01 +")], "syntax error"),
            .set([("BEHAVIOR", "\"nosummary\"")], "no summary"),
            .set([("BEHAVIOR", "\"nan\"")], "nan"),
            .set([("BEHAVIOR", "\"fail\"")], "fail"),
        ])
        let (_, records) = try await runLoop(ws, researcher, experiments: 4)
        let byName = Dictionary(uniqueKeysWithValues: records.map { ($0.description, $0) })
        let syntax = try #require(byName["syntax error"])
        #expect(syntax.experimentStatus == .crash)
        #expect(syntax.error?.contains("build failed") == true)
        #expect(syntax.error?.contains("SyntaxError") == true, "the compiler's message is kept: \(syntax.error ?? "")")
        let noSummary = try #require(byName["no summary"])
        #expect(noSummary.experimentStatus == .crash)
        #expect(noSummary.error?.contains("no usable summary block") == true)
        let nan = try #require(byName["nan"])
        #expect(nan.experimentStatus == .crash)
        #expect(nan.error?.contains("val_bpb") == true, "\(nan.error ?? "")")
        #expect(nan.metric == nil)
        let fail = try #require(byName["fail"])
        #expect(fail.experimentStatus == .crash)
        #expect(fail.error?.contains("FAIL: loss is NaN at step 3") == true)
        // No crash ever moves the branch.
        #expect(try Git(standIn.workspaceURL).revParse("refs/heads/autoresearch/t1") == records[0].commit)
    }

    @Test func proposalsOutsideTheEditableFilesAreRejected() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let researcher = ScriptedResearcher([
            .files(["data.txt": "sneaky\n"], "edit protected data"),
            .files(["train.py": try String(contentsOf: standIn.workspaceURL.appendingPathComponent("train.py"), encoding: .utf8)], "no change"),
            .fail(.failed("model unavailable")),
        ])
        let (summary, records) = try await runLoop(ws, researcher, experiments: 3)
        #expect(records.dropFirst().map(\.experimentStatus) == [.researcherError, .researcherError, .researcherError])
        #expect(records[1].error?.contains("data.txt") == true)
        #expect(records[1].error?.contains("not list as editable") == true)
        #expect(records[2].error == "the proposal changes nothing")
        #expect(records[3].error == "the researcher failed: model unavailable")
        #expect(records[1].commit == nil, "a rejected proposal is never committed")
        #expect(summary.stopReason == .experimentLimit, "researcher errors pause the loop; they do not end it")
    }

    @Test func theLoopStopsAfterTooManyResearcherErrorsInARow() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        var options = RunOptions(tag: "t1", experiments: 10, baselineRuns: 1)
        options.allowUntrusted = true  // the stand-in subject scores itself
        options.researcherFailurePause = 0
        options.maxResearcherFailures = 3
        let loop = try ResearchLoop(workspace: ws, researcher: ScriptedResearcher(Array(repeating: .fail(.failed("down")), count: 5)),
                                    options: options, display: RecordingDisplay())
        let summary = try await loop.run()
        #expect(summary.stopReason == .researcherFailing)
        #expect(summary.experimentsRun == 3)
        #expect(summary.stopReason.text == "the researcher failed too many times in a row")
    }

    @Test func theLoopStopsWhenTheResearcherHasNothingLeft() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let (summary, records) = try await runLoop(ws, ScriptedResearcher([]))
        #expect(summary.stopReason == .researcherExhausted)
        #expect(records.last?.experimentStatus == .researcherError)
    }

    @Test func overrunningRunIsKilledAtTheHardLimit() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        _ = try standIn.makeWorkspace()
        // A 6 s limit: long enough for a loaded machine to start Python for the baseline, far short of the hang.
        let ws = try standIn.editManifest { $0.budget.hardLimitFactor = 1; $0.budget.hardLimitGraceSeconds = 5 }
        let start = Date()
        let (_, records) = try await runLoop(ws, ScriptedResearcher([.set([("BEHAVIOR", "\"hang\"")], "hang")]), experiments: 1, baselineRuns: 1)
        // The hang sleeps an hour: ending within minutes proves the kill (a loaded machine needs time to start Python).
        #expect(Date().timeIntervalSince(start) < 300)
        let hang = try #require(records.last)
        #expect(hang.experimentStatus == .crash)
        #expect(hang.error?.contains("hard limit of 6 s") == true)
        let pids = try String(contentsOf: standIn.pids, encoding: .utf8).split(separator: " ").compactMap { pid_t($0) }
        #expect(pids.count == 2)
        for pid in pids { #expect(!processIsRunning(pid), "pid \(pid) outlived the hard limit") }
    }

    @Test func cancellingAbandonsTheExperimentCleanly() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let loop = try ResearchLoop(workspace: ws, researcher: ScriptedResearcher([.set([("BEHAVIOR", "\"hang\"")], "hang")]),
                                    options: { var o = RunOptions(tag: "c", baselineRuns: 1); o.allowUntrusted = true; return o }(), display: RecordingDisplay())
        let task = Task { try await loop.run() }
        var pids: [pid_t] = []
        for _ in 0..<500 where pids.count < 2 {
            try await Task.sleep(nanoseconds: 20_000_000)
            pids = ((try? String(contentsOf: standIn.pids, encoding: .utf8)) ?? "").split(separator: " ").compactMap { pid_t($0) }
        }
        #expect(pids.count == 2)
        task.cancel()
        let summary = try await task.value
        #expect(summary.stopReason == .interrupted)
        let records = try loop.ledger.experiments(tag: "c")
        #expect(records.last?.experimentStatus == .interrupted)
        #expect(records.last?.error?.contains("interrupted") == true)
        #expect(!records.contains { $0.experimentStatus == .running })
        for pid in pids { #expect(!processIsRunning(pid), "pid \(pid) survived Ctrl-C") }
        #expect(try Git(standIn.workspaceURL).revParse("refs/heads/autoresearch/c") == records[0].commit)
    }

    @Test func resumingMarksRunningAsInterruptedAndRedoesIt() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let (_, first) = try await runLoop(ws, ScriptedResearcher([.set([("LEARNING_RATE", "0.003")], "LR 0.003")]), experiments: 1)
        #expect(first.map(\.experimentStatus) == [.baseline, .keep])
        // Simulate a harness killed mid-experiment: a committed change left `running`.
        let ledger = try Ledger(url: ws.ledgerURL)
        let wt = standIn.base.appendingPathComponent("scratch-wt")
        let git = Git(standIn.workspaceURL)
        try git.prepareWorktree(at: wt, commit: first[1].commit!)
        let source = try String(contentsOf: wt.appendingPathComponent("train.py"), encoding: .utf8)
        try StandIn.setting([("WIDTH", "128")], in: source).write(to: wt.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
        try Git(wt).run(["add", "train.py"])
        let commit = try Git(wt).commit("WIDTH 128")
        var stale = ExperimentRecord(tag: "t1", number: -1, parentCommit: first[1].commit, description: "WIDTH 128", researcher: "scripted")
        stale.commit = commit
        stale.phase = ExperimentStage.train.rawValue
        stale = try ledger.start(stale)

        let (summary, records) = try await runLoop(ws, ScriptedResearcher([]), experiments: 1)
        #expect(records.count == 4)
        // Nothing recorded is lost (the best's runs may grow: it is re-measured beside a candidate about to be kept).
        let identity = { (r: ExperimentRecord) in [String(r.number), r.status, r.commit ?? "", r.description, r.diff ?? ""] }
        #expect(records.prefix(2).map(identity) == first.map(identity), "nothing recorded is lost")
        #expect(records[1].decisionEvidence?.runs.starts(with: first[1].decisionEvidence?.runs ?? []) == true
                || records[1].decisionEvidence?.measurements?.count ?? 0 > 2)
        #expect(records[2].experimentStatus == .interrupted)
        #expect(records[2].error?.contains("harness stopped") == true)
        #expect(records[3].description == "WIDTH 128", "the interrupted change runs again")
        #expect(records[3].commit == commit)
        #expect(records[3].experimentStatus == .keep)
        #expect(summary.bestCommit == commit)
    }

    @Test func aTagWithADifferentManifestIsAnError() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        _ = try await runLoop(ws, ScriptedResearcher([]), tag: "m", experiments: 0, baselineRuns: 1)
        let changed = try standIn.editManifest { $0.budget.seconds = 2 }
        do {
            _ = try await runLoop(changed, ScriptedResearcher([]), tag: "m", experiments: 0)
            Issue.record("resumed a tag under a different manifest")
        } catch let error as HarnessError {
            guard case .tagManifestMismatch(let tag, _, _) = error else { Issue.record("wrong error: \(error)"); return }
            #expect(tag == "m")
            #expect(error.description.contains("--tag"))
        }
        // A new tag under the new manifest is fine.
        let (_, records) = try await runLoop(changed, ScriptedResearcher([]), tag: "m2", experiments: 0, baselineRuns: 1)
        #expect(records.map(\.experimentStatus) == [.baseline])
    }

    @Test func tokenBudgetIsPassedToTheSubject() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace(tokenBudget: 4096)
        let (_, records) = try await runLoop(ws, ScriptedResearcher([]), experiments: 0, baselineRuns: 1)
        let log = try String(contentsOf: URL(fileURLWithPath: try #require(records[0].logPath)), encoding: .utf8)
        #expect(log.contains("env time_budget=1 token_budget=4096"))
    }

    @Test func statusAndResultsReadTheLedger() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        _ = try await runLoop(ws, ScriptedResearcher([.set([("LEARNING_RATE", "0.003")], "LR 0.003"),
                                                      .set([("WIDTH", "16")], "WIDTH 16")]), experiments: 2)
        let reports = try TagReports(workspace: ws, tag: nil)
        #expect(reports.tag == "t1")
        let status = try reports.status()
        #expect(status.experiments == 2 && status.keeps == 1 && status.crashes == 0)
        #expect(status.keepRate == 0.5)
        #expect(status.running == nil)
        #expect(status.best! < status.baseline!)
        #expect(status.text.contains("keep rate 50%"))
        let results = try reports.writeResults()
        #expect(results.text.contains("LR 0.003"))
        #expect(FileManager.default.fileExists(atPath: standIn.workspaceURL.appendingPathComponent("results.tsv").path))
        let report = try reports.writeReport()
        #expect(FileManager.default.fileExists(atPath: report.markdown.path))
        #expect(FileManager.default.fileExists(atPath: report.chart.path))
        #expect(throws: HarnessError.unknownTag(tag: "zzz", known: ["t1"])) { try TagReports(workspace: ws, tag: "zzz") }
    }
}

extension Workspace {
    func ledgerTag(_ tag: String) throws -> TagRecord? { try Ledger(url: ledgerURL).tag(tag) }
}

@Suite struct SearchResearcherLoopTests {
    @Test func theSearchResearcherDrivesTheLoop() async throws {
        let standIn = try StandIn(noise: 0.002)
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let researcher = try SubjectBridge.searchResearcher(workspace: ws, seed: 3)
        let (summary, records) = try await runLoop(ws, researcher, tag: "s", experiments: 4)
        #expect(summary.experimentsRun == 4)
        #expect(records.count == 5)
        let experiments = records.dropFirst()
        #expect(experiments.allSatisfy { $0.researcher == "search" })
        // Every proposal changed only train.py, and no files were tried twice.
        #expect(experiments.allSatisfy { $0.experimentStatus != .researcherError || $0.commit == nil })
        let hashes = experiments.compactMap(\.filesHash)
        #expect(Set(hashes).count == hashes.count)
        #expect(experiments.contains { $0.experimentStatus == .keep || $0.experimentStatus == .discard })
        for record in experiments where record.commit != nil {
            #expect(try Git(standIn.workspaceURL).changedFiles(from: record.parentCommit!, to: record.commit!) == ["train.py"])
        }
        // What it learned is kept for the whole workspace, so the next session (a new tag) starts from it.
        let learned = try SearchPolicy.load(from: ws.policyFile)
        #expect(learned.moves.values.reduce(0) { $0 + $1.trials } >= 1)
    }
}

@Suite struct RunLockTests {
    @Test func aSecondRunInTheSameWorkspaceIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("run.lock")
        let first = try RunLock(url)
        do {
            _ = try RunLock(url)
            Issue.record("two runs held the lock")
        } catch let error as HarnessError {
            #expect(error.description.contains("another `autoresearch run` is active"))
            #expect(error.description.contains("pid \(getpid())"))
        }
        first.release()
        _ = try RunLock(url) // free again
    }
}
