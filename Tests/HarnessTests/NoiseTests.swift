import Foundation
import Testing
@testable import Harness

/// σ pooled robustly over the history, and the disturbed-run rule, as pure functions.
@Suite struct NoiseEstimateTests {
    @Test func robustScaleOfCleanGroupsMatchesTheMAD() throws {
        // Pairs (x, x + 2d): residuals d·√2 each; 1.4826 · median of {√2·0.01, √2·0.02, √2·0.03} (each twice).
        let groups = [[1.0, 1.02], [2.0, 2.04], [3.0, 3.06]].map { NoiseEstimate.Group(runs: $0, weight: 1) }
        let estimate = try #require(NoiseEstimate.estimate(groups, settings: NoiseSettings()))
        #expect(abs(estimate.sigma - 1.4826 * 0.02 * 2.0.squareRoot()) < 1e-12)
        #expect(estimate.runs == 3 && estimate.groups == 3 && estimate.samples == 6)
    }

    @Test func oneWildRunCannotBlowSigmaUp() throws {
        // Five quiet pairs (spread 0.002) and one pair 0.06 apart (a run that went wrong): the pooled SD would be
        // 0.0175; the robust σ stays at the quiet groups' scale.
        let quiet = (0..<5).map { _ in NoiseEstimate.Group(runs: [2.5, 2.502], weight: 1) }
        let groups = quiet + [NoiseEstimate.Group(runs: [2.5, 2.56], weight: 1)]
        let estimate = try #require(NoiseEstimate.estimate(groups, settings: NoiseSettings()))
        #expect(abs(estimate.sigma - 1.4826 * 0.001 * 2.0.squareRoot()) < 1e-9)
        let classic = try #require(Decision.pooledSigma(groups.map(\.runs)))
        #expect(classic > 0.017)
    }

    @Test func thePriorHoldsSigmaUpWhileFewRunsAgreeByChance() throws {
        // Three baseline runs that happen to agree to 0.001 (the quiet-machine case) against a prior of 0.008
        // worth 4 dof: σ² = (2·s² + 4·0.008²) / 6.
        var settings = NoiseSettings()
        settings.sigmaPrior = 0.008
        let baseline = NoiseEstimate.Group(runs: [2.5934, 2.5921, 2.5914], weight: 1)
        let estimate = try #require(NoiseEstimate.estimate([baseline], settings: settings))
        let s = try #require(estimate.measured)
        #expect(abs(estimate.sigma - ((2 * s * s + 4 * 0.008 * 0.008) / 6).squareRoot()) < 1e-12)
        #expect(estimate.sigma > 0.006)
        #expect(estimate.summary.contains("from 3 runs of 1 commit") && estimate.summary.contains("the prior 0.008000"))
        // Without data the prior speaks alone; without either there is no σ.
        #expect(NoiseEstimate.estimate([], settings: settings)?.sigma == 0.008)
        #expect(NoiseEstimate.estimate([], settings: NoiseSettings()) == nil)
        // The floor.
        settings.sigmaPrior = nil
        settings.sigmaFloor = 0.005
        #expect(NoiseEstimate.estimate([baseline], settings: settings)?.sigma == 0.005)
    }

    @Test func groupsNearTheBestWeighMore() throws {
        // Near the best the noise is 0.02 (pairs 0.02·√2 apart... residual 0.02); elsewhere 0.002. Weights 1 vs ¼ pull
        // the weighted median to the near groups when they hold more than half the weight.
        let near = (0..<3).map { _ in NoiseEstimate.Group(runs: [1.0, 1.0 + 0.02 * 2.0.squareRoot()], weight: 1) }
        let far = (0..<5).map { _ in NoiseEstimate.Group(runs: [1.0, 1.0 + 0.002 * 2.0.squareRoot()], weight: 0.25) }
        let estimate = try #require(NoiseEstimate.estimate(near + far, settings: NoiseSettings()))
        #expect(abs(estimate.sigma - 1.4826 * 0.02) < 1e-9)
        #expect(abs(estimate.runs - (3 + 5 * 0.25)) < 1e-12)
    }

    @Test func groupsComeFromTheLedgerWithTheirWeights() {
        func record(_ tag: String, commit: String, parent: String?, runs: [Double], kind: String = "machine") -> ExperimentRecord {
            var r = ExperimentRecord(tag: tag, number: 1, parentCommit: parent, description: "x", researcher: "search")
            r.commit = commit; r.slotKind = kind
            let evidence = DecisionEvidence(runs: runs, mean: 0, threshold: 0, verdict: "discard", reason: "")
            r.evidence = String(decoding: try! JSONEncoder().encode(evidence), as: UTF8.self)
            return r
        }
        let records = [record("a", commit: "best", parent: nil, runs: [1, 1.1]),
                       record("a", commit: "c1", parent: "best", runs: [1, 1.2]),
                       record("a", commit: "c2", parent: "old", runs: [1, 1.3]),
                       record("b", commit: "c3", parent: "x", runs: [1, 1.4]),
                       record("a", commit: "c4", parent: "best", runs: [1]),
                       record("a", commit: "c5", parent: "best", runs: [1, 1.5], kind: "cpu2")]
        let groups = NoiseEstimate.groups(records, tag: "a", best: "best", kind: "machine")
        #expect(groups.map(\.weight) == [1, 1, 0.5, 0.25])
        #expect(NoiseEstimate.groups(records, tag: "a", best: "best", kind: "gpu1").count == 5)  // no repeats of that kind: all
    }
}

@Suite struct DisturbanceTests {
    let settings = NoiseSettings()

    func run(_ steps: Int, seconds: Double = 60, load: Double? = 1.0, metric: Double = 2.5) -> RunMeasurement {
        RunMeasurement(metric: metric, seconds: seconds, steps: steps, foreignLoad: load)
    }

    @Test func theNormIsTheMedianOfTheThreeFastestOfTheLatestEight() {
        #expect(Disturbance.norm([10, 20, 30, 40]) == 30)
        #expect(Disturbance.norm([5]) == 5)
        #expect(Disturbance.norm([10, 12]) == 11)
        // Only the latest eight count: an old fast run (100) is forgotten.
        #expect(Disturbance.norm([1, 2, 3, 4, 5, 6, 7, 8, 100]) == 7)
        #expect(Disturbance.norm([]) == nil)
    }

    @Test func aSlowRunUnderLoadIsMarked() throws {
        // 1,232 steps against 1,440 and 1,430 in 60 s (the busy baseline): 86 % of the norm, 1.0 core of load.
        var runs = [run(1440, load: 0.02), run(1430, load: 0.03), run(1232, load: 1.0)]
        Disturbance.mark(&runs, history: [], settings: settings)
        #expect(runs[0].disturbed == nil && runs[1].disturbed == nil)
        let why = try #require(runs[2].disturbed)
        #expect(why.contains("20.53 steps/s is 86% of the norm of this configuration (23.92)"))
        #expect(why.contains("other processes kept 1.00 cores busy"))
    }

    @Test func slownessWithoutLoadIsNotDisturbance() {
        // Same throughputs, but nothing else ran: the slowness is the run's own (a trainer cannot get a run
        // dropped by running slowly).
        var runs = [run(1440, load: 0.02), run(1232, load: 0.05)]
        Disturbance.mark(&runs, history: [], settings: settings)
        #expect(runs.allSatisfy { $0.disturbed == nil })
        // Where the machine cannot be seen (Slurm, macOS) the trainer's reported steps are the only evidence, and they
        // never drop a run alone: a trainer that reports few steps on its unlucky runs gets no rerun.
        var remote = [run(1440, load: nil), run(1232, load: nil), run(10, load: nil)]
        Disturbance.mark(&remote, history: [], settings: settings)
        #expect(remote.allSatisfy { $0.disturbed == nil })
    }

    @Test func aSlowMachineSeenByTheProbeIsDisturbanceToo() throws {
        // No other process, but the probe ran 1.7× slower than its norm (a hypervisor lending the core elsewhere).
        var runs = [RunMeasurement(metric: 2.5, seconds: 60, steps: 1440, foreignLoad: 0.02, probeMilliseconds: 2.7),
                    RunMeasurement(metric: 2.6, seconds: 60, steps: 1232, foreignLoad: 0.02, probeMilliseconds: 4.5)]
        Disturbance.mark(&runs, history: [], settings: settings)
        let why = try #require(runs[1].disturbed)
        #expect(why.hasSuffix("while the machine probe took 4.50 ms against its norm 2.70 ms"), "\(why)")
        // The same slowness with the probe at its norm: the run's own doing, not the machine's.
        var own = [RunMeasurement(metric: 2.5, seconds: 60, steps: 1440, foreignLoad: 0.02, probeMilliseconds: 2.7),
                   RunMeasurement(metric: 2.6, seconds: 60, steps: 1232, foreignLoad: 0.02, probeMilliseconds: 2.75)]
        Disturbance.mark(&own, history: [], settings: settings)
        #expect(own.allSatisfy { $0.disturbed == nil })
        // The probe's norm comes from every configuration's runs (probeHistory), not only this one's.
        var first = [RunMeasurement(metric: 2.6, seconds: 60, steps: 1232, foreignLoad: 0.0, probeMilliseconds: 4.5)]
        Disturbance.mark(&first, history: [24], probeHistory: [2.6, 2.8, 2.7], settings: settings)
        #expect(first[0].disturbed?.contains("against its norm 2.70 ms") == true)
    }

    @Test func aCandidateTheMachineRanFasterThanTheBestIsConfounded() throws {
        // The false keep of our benchmark: the candidate's two runs at 25.04 and 22.64 steps/s, the best re-measured
        // beside it at 21.61 and 19.18: same configuration cost, 17 % faster.
        let candidate = [RunMeasurement(metric: 3.0543, seconds: 10.3, steps: 257), RunMeasurement(metric: 3.0601, seconds: 10.2, steps: 232)]
        let best = [RunMeasurement(metric: 3.08, seconds: 10.2, steps: 233, disturbed: "superseded: old"),
                    RunMeasurement(metric: 3.1241, seconds: 10.2, steps: 221), RunMeasurement(metric: 3.1641, seconds: 10.3, steps: 197)]
        let why = try #require(Disturbance.confounded(candidate: candidate, best: best, tolerance: 0.05))
        #expect(why.contains("23.85 steps/s against the best's 20.40 (+17%)"), "\(why)")
        // Within 5 %, or slower than the best (which only hurts the candidate): not confounded.
        let close = [RunMeasurement(metric: 3.05, seconds: 10.2, steps: 212)]
        #expect(Disturbance.confounded(candidate: close, best: best, tolerance: 0.05) == nil)
        #expect(Disturbance.confounded(candidate: best, best: candidate, tolerance: 0.05) == nil)
        #expect(Disturbance.confounded(candidate: [RunMeasurement(metric: 3)], best: best, tolerance: 0.05) == nil)
    }

    @Test func theProbeTimesAFixedChainOfArithmetic() throws {
        let probe = MachineProbe()
        probe.start(interval: 0.05)
        Thread.sleep(forTimeInterval: 0.4)
        let ms = try #require(probe.stop())
        #expect(ms > 0.05 && ms < 200, "\(ms) ms")
        #expect(MachineProbe().stop() == nil)  // fewer than 3 probes: no figure
    }

    @Test func theHistoryOfTheConfigurationIsTheNormOfAFirstRun() {
        var first = [run(1232)]
        Disturbance.mark(&first, history: [], settings: settings)
        #expect(first[0].disturbed == nil)  // nothing to compare with
        Disturbance.mark(&first, history: [24, 23.9, 24.1], settings: settings)
        #expect(first[0].disturbed != nil)
    }

    @Test func aShortRunIsNeverJudged() {
        var runs = [run(100, seconds: 5), run(50, seconds: 5)]
        Disturbance.mark(&runs, history: [], settings: settings)
        #expect(runs.allSatisfy { $0.disturbed == nil })
    }

    @Test func theSignatureMasksFloatsAndTheSeedButNotSizes() {
        let base = "LEARNING_RATE = 0.01  # range: 1e-4..1e-1\nWIDTH = 64  # range: 16..512\nSEED = 1\n\nprint(1)\n"
        let sig = { (text: String) in Disturbance.signature(files: ["train.py": text], seedParameter: "SEED") }
        #expect(sig(base) == sig(base.replacingOccurrences(of: "0.01 ", with: "0.010001 ")))
        #expect(sig(base) == sig(base.replacingOccurrences(of: "SEED = 1", with: "SEED = 1001")))
        #expect(sig(base) != sig(base.replacingOccurrences(of: "WIDTH = 64", with: "WIDTH = 128")))
        #expect(sig(base) != sig(base.replacingOccurrences(of: "print(1)", with: "print(2)")))
    }

    @Test func theMachineLoadIsReadFromProcStat() throws {
        #if os(Linux)
        let busy = try #require(MachineLoad.busySeconds(cores: nil))
        let core0 = try #require(MachineLoad.busySeconds(cores: [0]))
        #expect(busy >= core0 && core0 > 0)
        #expect(MachineLoad.busySeconds(cores: [100_000]) == nil)
        #endif
        #expect(MachineLoad.foreignCores(busyBefore: 100, busyAfter: 190, ownCPUSeconds: 60, wallSeconds: 60) == 0.5)
        #expect(MachineLoad.foreignCores(busyBefore: 100, busyAfter: 150, ownCPUSeconds: 60, wallSeconds: 60) == 0)
        #expect(MachineLoad.foreignCores(busyBefore: nil, busyAfter: 150, ownCPUSeconds: 60, wallSeconds: 60) == nil)
    }
}
