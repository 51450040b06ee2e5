import AutoResearchCore
import Foundation
import Testing
@testable import Harness

/// Cotra's milestones (adequacy, parity, supremacy) as measured facts, and the human reference run behind parity.
@Suite struct MilestoneTests {
    func record(_ number: Int, _ status: ExperimentStatus, val: Double, test: Double?, researcher: String = "search") -> ExperimentRecord {
        var r = ExperimentRecord(tag: "t", number: number, parentCommit: nil, description: "e\(number)", researcher: researcher, status: status)
        r.metric = val; r.testBPB = test; r.commit = String(repeating: "\(number)", count: 40)
        return r
    }

    let settings = NoiseSettings()  // z 3, min_delta 0.002

    @Test func adequacyNeedsAnUnaidedKeepThatImprovesTheTestBeyondNoise() {
        // σ 0.01: the margin of two single test scores is 3·0.01·√2 = 0.0424.
        let base = record(0, .baseline, val: 2.60, test: 2.70)
        let small = Milestone.measure([base, record(1, .keep, val: 2.55, test: 2.67)], sigma: 0.01, settings: settings)
        #expect(small[0].name == .adequacy && small[0].reached == false)
        #expect(small[0].evidence == "1 keep(s) by researchers; none improved the test split (baseline 2.7000) by more than 0.0424 (σ 0.0100, z 3.0)")
        let queued = Milestone.measure([base, record(1, .keep, val: 2.50, test: 2.60, researcher: "mcp (queued)")], sigma: 0.01, settings: settings)
        #expect(queued[0].reached == false)  // a person's proposal does not count
        let reached = Milestone.measure([base, record(1, .keep, val: 2.55, test: 2.67), record(2, .keep, val: 2.50, test: 2.62)],
                                        sigma: 0.01, settings: settings)
        #expect(reached[0].reached == true)
        #expect(reached[0].evidence == "keep #2 by search (e2): test 2.6200 vs baseline 2.7000, beyond the noise margin 0.0424 (σ 0.0100, z 3.0)")
        let selfScored = Milestone.measure([record(0, .baseline, val: 2.6, test: nil)], sigma: 0.01, settings: settings)
        #expect(selfScored[0].reached == nil)
    }

    @Test func parityComparesTheBestWithTheHumanReferenceOnValAndTest() {
        let base = record(0, .baseline, val: 2.60, test: 2.70)
        let none = Milestone.measure([base], sigma: 0.01, settings: settings)
        #expect(none[1].name == .parity && none[1].reached == nil)
        #expect(none[1].evidence == "no human reference measured: run with --reference COMMIT (a configuration a person tuned)")
        // One run each: val margin 3·0.01·√2 = 0.0424. The best is 0.03 worse on val and 0.01 worse on test: parity.
        let close = Milestone.measure([base, record(1, .keep, val: 2.53, test: 2.63), record(2, .reference, val: 2.50, test: 2.62, researcher: "human")],
                                      sigma: 0.01, settings: settings)
        #expect(close[1].reached == true)
        #expect(close[1].evidence == "best #1 val 2.5300 (1 run(s)) vs reference 2222222 val 2.5000 (1 run(s)), margin 0.0424; test 2.6300 vs 2.6200, margin 0.0424 (σ 0.0100)")
        let behind = Milestone.measure([base, record(1, .keep, val: 2.58, test: 2.68), record(2, .reference, val: 2.50, test: 2.62, researcher: "human")],
                                       sigma: 0.01, settings: settings)
        #expect(behind[1].reached == false)
        #expect(behind[2].name == .supremacy && behind[2].reached == nil)
        #expect(behind[2].line == "supremacy: not measured — needs a human+AI reference (a configuration people tuned with AI help), measured the same way; not measured here")
    }

    @Test func aHumanReferenceIsMeasuredOncePerTagAndNeverShownToResearchers() async throws {
        let standIn = try StandIn(); defer { standIn.remove() }
        let workspace = try standIn.makeWorkspace()
        // The person's configuration: LEARNING_RATE 0.003, on a branch of the workspace.
        let git = workspace.git
        let trainPy = workspace.root.appendingPathComponent("train.py")
        let source = try String(contentsOf: trainPy, encoding: .utf8)
        try git.run(["checkout", "-q", "-b", "human-ref"])
        try StandIn.setting([("LEARNING_RATE", "0.003")], in: source).write(to: trainPy, atomically: true, encoding: .utf8)
        try git.run(["add", "train.py"])
        let reference = try git.commit("human: LEARNING_RATE 0.003")
        try git.run(["checkout", "-q", "main"])

        func run(_ researcher: ScriptedResearcher, reference: String?) async throws -> (RunSummary, [ExperimentRecord]) {
            var options = RunOptions(tag: "t1", experiments: 1, baselineRuns: 2)
            options.allowUntrusted = true
            options.reference = reference
            let loop = try ResearchLoop(workspace: workspace, researcher: researcher, options: options, display: RecordingDisplay())
            return (try await loop.run(), try loop.ledger.experiments(tag: "t1"))
        }
        let researcher = ScriptedResearcher([.set([("WIDTH", "128")], "WIDTH 64 → 128")])
        let (_, records) = try await run(researcher, reference: "human-ref")
        let measured = records.filter { $0.experimentStatus == .reference }
        #expect(measured.count == 1)
        #expect(measured.first?.commit == reference)
        #expect(measured.first?.researcher == "human")
        #expect(measured.first?.decisionEvidence?.runs.count == 2)
        #expect(abs((measured.first?.metric ?? 0) - StandIn.quality(learningRate: 0.003)) < 0.01)
        #expect(researcher.contexts.allSatisfy { context in !context.history.contains { $0.status == .reference } })
        #expect(try LedgerRecords(ledger: Ledger(url: workspace.ledgerURL), tag: "t1").experiment(number: measured[0].number) == nil)

        // A second session with the same reference does not measure it again; the standing names parity.
        let (_, again) = try await run(ScriptedResearcher([.set([("WIDTH", "96")], "WIDTH 64 → 96")]), reference: reference)
        #expect(again.filter { $0.experimentStatus == .reference }.count == 1)
        let status = try TagReports(workspace: workspace, tag: "t1").status()
        #expect(status.milestones.map(\.name) == [.adequacy, .parity, .supremacy])
        #expect(status.text.contains("  parity: not yet — best #"))
        #expect(try TagReports(workspace: workspace, tag: "t1").report().markdown.contains("## Milestones (Cotra)"))

        await #expect(throws: HarnessError.self) { _ = try await run(ScriptedResearcher([]), reference: "no-such-branch") }
        do { _ = try await run(ScriptedResearcher([]), reference: "no-such-branch") } catch {
            #expect("\(error)" == "the reference commit 'no-such-branch' is not in this workspace's repository; commit the human configuration (e.g. on a branch) and pass its hash or branch to --reference")
        }
    }
}
