import AutoResearchCore
import Foundation
import Testing
@testable import Harness

/// The noise rules through the real loop on the stand-in subject: a disturbed run is left out and run again, σ pools
/// the workspace's history, and a lucky single run is not kept once it is confirmed.
@Suite struct TrustedKeepTests {
    /// A stand-in workspace whose runs take `sleep` seconds, judged for disturbance from 1 s on, unsandboxed (so the
    /// stand-in's load process runs outside the run, as another user's job would).
    func workspace(_ standIn: StandIn, disturbRun: Int? = nil, luckyRun: Int? = nil, slowUntil: Int = 0) throws -> Workspace {
        let judge = disturbRun != nil
        try standIn.makeWorkspace()
        let url = standIn.workspaceURL.appendingPathComponent("train.py")
        var source = try String(contentsOf: url, encoding: .utf8)
        source = StandIn.setting([("DISTURB_RUN", String(disturbRun ?? -1)), ("LUCKY_RUN", String(luckyRun ?? -1)),
                                  ("SLOW_UNTIL", String(slowUntil))], in: source)
        try source.write(to: url, atomically: true, encoding: .utf8)
        try Git(standIn.workspaceURL).run(["commit", "-q", "-a", "-m", "stand-in settings"])
        return try standIn.editManifest { m in
            if judge {
                m.noise.disturbedMinSeconds = 1
                m.noise.disturbedRatio = 0.7  // the tests run beside each other: only a run 30 % slower than its norm counts
            }
            m.sandbox.mode = .none
        }
    }

    @Test func aDisturbedBaselineRunIsLeftOutAndRunAgain() async throws {
        let standIn = try StandIn(noise: 0.002, sleep: 2)
        defer { standIn.remove() }
        let ws = try workspace(standIn, disturbRun: 1)
        let (_, records) = try await runLoop(ws, ScriptedResearcher([]), experiments: 0)
        let baseline = try #require(records.first)
        let evidence = try #require(baseline.decisionEvidence)
        let measured = try #require(evidence.measurements)
        // Run 2 (index 1) was slow while another process loaded a core: marked, and a fourth run replaced it.
        let why = try #require(measured[1].disturbed, "\(measured)")
        #expect(why.contains("of the norm of this configuration") && why.contains("other processes kept"))
        #expect(try #require(measured[1].foreignLoad) >= 0.25)
        #expect(measured.filter { $0.disturbed == nil }.count == 3)
        // Its bad value (0.5 worse) is in neither the decision nor σ.
        #expect(evidence.runs.count == 3)
        #expect(evidence.runs.allSatisfy { abs($0 - StandIn.quality()) < 0.02 })
        #expect(try #require(evidence.sigma) < 0.01)
        let log = try String(contentsOf: URL(fileURLWithPath: try #require(baseline.logPath)), encoding: .utf8)
        #expect(log.contains("# run 2 was disturbed:") && log.contains("it is left out and run again"))
        // status and show say so.
        let status = try TagReports(workspace: ws, tag: "t1").status()
        #expect(status.disturbedRuns >= 1)
        #expect(status.text.contains("disturbed runs: \(status.disturbedRuns) (left out of σ and of decisions, and run again)"))
        let shown = try TagReports(workspace: ws, tag: "t1").show(number: 0)
        #expect(shown.contains("DISTURBED, left out:"))
    }

    @Test func sigmaPoolsTheRepeatedRunsOfEveryTagOfTheManifest() async throws {
        let standIn = try StandIn(noise: 0.005)
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        _ = try await runLoop(ws, ScriptedResearcher([]), tag: "t1", experiments: 0)
        let (_, records) = try await runLoop(ws, ScriptedResearcher([]), tag: "t2", experiments: 0)
        let evidence = try #require(records.first?.decisionEvidence)
        // Its own 3 runs (2 dof, weight 1) and t1's baseline (2 dof, weight ¼).
        #expect(evidence.sigmaRuns == 2.5)
        #expect(evidence.reason.contains("from 6 runs of 2 commits"))
        let status = try TagReports(workspace: ws, tag: "t2").status()
        #expect(status.text.contains("noise σ: ") && status.text.contains("from 6 runs of 2 commits"))
    }

    @Test func aLuckySingleRunIsNotKeptAfterConfirmation() async throws {
        // σ = 0.01. After the 3 baseline runs (indices 0–2) the candidate's first run (index 3) is 0.08 lucky: more than
        // 3σ of the σ the decision used, which the single-run rule (keep above 2σ + σ) would have kept. Its
        // confirmation runs land on the best.
        let standIn = try StandIn(noise: 0.01)
        defer { standIn.remove() }
        let ws = try workspace(standIn, luckyRun: 3)
        let noOp = ScriptedResearcher.Step.set([("BONUS", "0.0001")], "BONUS 0 → 0.0001 (changes f by 5e-6)")
        let (_, records) = try await runLoop(ws, ScriptedResearcher([noOp]), experiments: 1)
        let candidate = try #require(records.last)
        let evidence = try #require(candidate.decisionEvidence)
        #expect(candidate.experimentStatus == .discard, "\(evidence.reason)")
        let best = try #require(evidence.best), sigma = try #require(records.first?.decisionEvidence?.sigma)
        #expect(best - evidence.runs[0] > 3 * sigma, "against the baseline's σ the first run alone looked like a clear win")
        #expect(evidence.runs.count >= 2)
        #expect(evidence.reason.contains("within noise"))
    }

    @Test func aCandidateThatOnlyBeatsAStaleBestIsNotKept() async throws {
        // The 3 baseline runs (indices 0–2) came from a slower hour: 0.05 worse. A no-op candidate (runs 3, 4) then
        // beats them far beyond the threshold; the best, re-measured beside it (runs 5, 6), disagrees with its recorded
        // runs, which are superseded, and against it the candidate is no better.
        let standIn = try StandIn(noise: 0.002)
        defer { standIn.remove() }
        let ws = try workspace(standIn, slowUntil: 3)
        let noOp = ScriptedResearcher.Step.set([("BONUS", "0.0001")], "BONUS 0 → 0.0001 (changes f by 5e-6)")
        let (_, records) = try await runLoop(ws, ScriptedResearcher([noOp]), experiments: 1)
        let baseline = try #require(records.first?.decisionEvidence), candidate = try #require(records.last)
        let evidence = try #require(candidate.decisionEvidence)
        #expect(candidate.experimentStatus == .discard, "\(evidence.reason)")
        #expect(evidence.runs.count == 2)
        // The baseline's record now holds the two fresh runs; its three slow ones are kept in the ledger, superseded.
        #expect(baseline.runs.count == 2 && baseline.runs.allSatisfy { abs($0 - StandIn.quality()) < 0.01 })
        let superseded = (baseline.measurements ?? []).filter { $0.disturbed?.hasPrefix("superseded: re-measured beside experiment 1") == true }
        #expect(superseded.count == 3)
        #expect(abs(try #require(records.first?.metric) - StandIn.quality()) < 0.01)
        #expect(evidence.bestRuns == 2)
        let log = try String(contentsOf: URL(fileURLWithPath: try #require(candidate.logPath)), encoding: .utf8)
        #expect(log.contains("the candidate cleared the threshold: the best") && log.contains("superseded"))
    }
}
