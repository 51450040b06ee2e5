import Foundation
import Testing
@testable import Harness

@Suite struct DecisionTests {
    let settings = NoiseSettings()

    @Test func sampleStandardDeviationUsesNMinusOne() throws {
        let sd = try #require(Decision.sampleStandardDeviation([1, 2, 3, 4]))
        #expect(abs(sd - 1.2909944487358056) < 1e-12)
        #expect(Decision.sampleStandardDeviation([1]) == nil)
    }

    @Test func pooledSigmaCombinesGroups() throws {
        // Two groups with within-group variances 1 (dof 1) and 4 (dof 2): pooled = sqrt((1 + 8) / 3).
        let sigma = try #require(Decision.pooledSigma([[0, sqrt(2)], [0, 2, 4], [7]]))
        #expect(abs(sigma - (9.0 / 3).squareRoot()) < 1e-9)
        #expect(Decision.pooledSigma([[1], [2]]) == nil)
    }

    @Test func thresholdIsMaxOfMinDeltaAndTwoSigma() {
        #expect(Decision.threshold(sigma: nil, settings: settings) == 0.002)
        #expect(Decision.threshold(sigma: 0.0005, settings: settings) == 0.002)
        #expect(Decision.threshold(sigma: 0.01, settings: settings) == 0.02)
    }

    @Test func clearImprovementIsKept() {
        let (verdict, evidence) = Decision.judge(runs: [0.95], best: 1.0, sigma: 0.01, settings: settings, direction: .lower)
        #expect(verdict == .keep)
        #expect(evidence.threshold == 0.02)
        #expect(abs(evidence.improvement! - 0.05) < 1e-12)
        #expect(evidence.verdict == "keep")
    }

    @Test func improvementWithinNoiseIsDiscarded() {
        let (verdict, evidence) = Decision.judge(runs: [0.995], best: 1.0, sigma: 0.01, settings: settings, direction: .lower)
        #expect(verdict == .discard)
        #expect(evidence.reason.contains("within noise"))
        let worse = Decision.judge(runs: [1.01], best: 1.0, sigma: 0.01, settings: settings, direction: .lower)
        #expect(worse.verdict == .discard)
    }

    @Test func borderlineIsRerunThenJudgedOnTheMean() {
        // Δ = 0.025 with T = 0.02, σ = 0.01: inside [T/2, T + σ] → re-run.
        #expect(Decision.judge(runs: [0.975], best: 1.0, sigma: 0.01, settings: settings, direction: .lower).verdict == .rerun)
        // Δ = 0.015 (below T, above T/2) → re-run too: a real improvement may have had an unlucky run.
        #expect(Decision.judge(runs: [0.985], best: 1.0, sigma: 0.01, settings: settings, direction: .lower).verdict == .rerun)
        // After 3 runs (1 + maxReruns) the mean decides: mean Δ = 0.021 > T → keep; 0.012 → discard.
        #expect(Decision.judge(runs: [0.975, 0.985, 0.977], best: 1.0, sigma: 0.01, settings: settings, direction: .lower).verdict == .keep)
        let (verdict, evidence) = Decision.judge(runs: [0.975, 0.995, 0.994], best: 1.0, sigma: 0.01, settings: settings, direction: .lower)
        #expect(verdict == .discard)
        #expect(evidence.runs.count == 3)
        #expect(abs(evidence.mean - 0.988) < 1e-12)
    }

    @Test func higherIsBetterFlipsTheSign() {
        #expect(Decision.judge(runs: [1.05], best: 1.0, sigma: 0.01, settings: settings, direction: .higher).verdict == .keep)
        #expect(Decision.judge(runs: [0.95], best: 1.0, sigma: 0.01, settings: settings, direction: .higher).verdict == .discard)
    }

    @Test func withoutSigmaMinDeltaGuards() {
        #expect(Decision.judge(runs: [0.9995], best: 1.0, sigma: nil, settings: settings, direction: .lower).verdict == .discard)
        #expect(Decision.judge(runs: [0.99], best: 1.0, sigma: nil, settings: settings, direction: .lower).verdict == .keep)
    }

    @Test func evidenceRoundTripsAsJSON() throws {
        let (_, evidence) = Decision.judge(runs: [0.975, 0.98], best: 1.0, sigma: 0.01, settings: settings, direction: .lower)
        let data = try JSONEncoder().encode(evidence)
        #expect(try JSONDecoder().decode(DecisionEvidence.self, from: data) == evidence)
    }
}
