import AutoResearchCore
import Foundation
import SubjectKit
import Testing
@testable import SearchResearcher

@Suite struct StepAdaptationTests {
    typealias Trial = StepAdaptation.Trial
    let wide: ClosedRange<Double> = 1e-6...1e4

    @Test func theStepDoublesWithEachKeepAndHalvesWithEachFailureWithinItsBounds() {
        let s = SearchSettings(stepGrowth: 2)
        let keep = Trial(from: 1, to: 1.5, delta: -0.1, kept: true), miss = Trial(from: 1, to: 1.5, delta: 0.1, kept: false)
        #expect(StepAdaptation.step(after: [], range: wide, settings: s) == 1)
        #expect(StepAdaptation.step(after: [keep], range: wide, settings: s) == 2)
        #expect(StepAdaptation.step(after: [keep, keep, keep], range: wide, settings: s) == 8)
        #expect(StepAdaptation.step(after: [keep, keep, keep, miss], range: wide, settings: s) == 4)
        #expect(StepAdaptation.step(after: [keep, keep, keep, miss, miss], range: wide, settings: s) == 2)
        // Never below stepSize...
        #expect(StepAdaptation.step(after: [keep, miss, miss, miss, miss], range: wide, settings: s) == 1)
        #expect(StepAdaptation.step(after: [miss, keep], range: wide, settings: s) == 2)
        // ...nor above a quarter of the range in log scale: 1e-4..1e-2 is ln(100) / 4 / ln(1.5) ≈ 2.84 units (×3.17).
        let top = StepAdaptation.step(after: Array(repeating: keep, count: 6), range: 1e-4...1e-2, settings: s)
        #expect(abs(top - log(100) / 4 / log(1.5)) < 1e-12)
        #expect(abs(StepAdaptation.maximumStep(range: wide, settings: s) - 14.198) < 1e-3)
        #expect(StepAdaptation.maximumStep(range: nil, settings: s) == 64)
        // A range from 0 counts as three decades below its top: 0..0.3 allows ln(1000) / 4 / ln(1.5) ≈ 4.26 units.
        #expect(abs(StepAdaptation.maximumStep(range: 0...0.3, settings: s) - log(1000) / 4 / log(1.5)) < 1e-12)
        // The default growth is 3: ×1.5, then ×1.5³, then ×1.5⁹.
        #expect(StepAdaptation.step(after: [keep, keep], range: wide, settings: .default) == 9)
        // Growth 1 is the old behaviour: always ×/÷ 1.5^stepSize.
        let fixed = SearchSettings(stepSize: 2, stepGrowth: 1)
        #expect(StepAdaptation.step(after: [keep, keep, miss, keep], range: wide, settings: fixed) == 2)
    }

    @Test func theLedgerGivesEachParameterItsMovesAndTheirDeltas() {
        let history = [
            ExperimentOutcome(number: 1, commit: "c1", description: "baseline", status: .baseline, metric: 2.0),
            ExperimentOutcome(number: 2, commit: "c2", parentCommit: "c1", description: "LR 3e-05 → 4.5e-05", status: .keep, metric: 1.9, move: "hp:LR:up"),
            ExperimentOutcome(number: 3, commit: "c3", parentCommit: "c2", description: "WD 30 → 20", status: .discard, metric: 1.95, move: "hp:WD:down"),
            ExperimentOutcome(number: 4, commit: "c4", parentCommit: "c2", description: "LR 4.5e-05 → 0.0001", status: .crash, metric: nil, move: "hp:LR:up"),
            ExperimentOutcome(number: 5, commit: "c5", parentCommit: "c2", description: "combine: LR 4.5e-05 → 0.0001 + WD 30 → 20",
                              status: .discard, metric: 1.99, move: "combine:hp:LR:up+hp:WD:down"),
            ExperimentOutcome(number: 6, commit: "c6", parentCommit: "c2", description: "WD 30 → 45", status: .keep, metric: 1.7, move: "hp:WD:up"),
        ]
        let adaptation = StepAdaptation(history: history)
        let lr = adaptation.trials["LR"] ?? []
        #expect(lr.map(\.from) == [3e-5, 4.5e-5] && lr.map(\.to) == [4.5e-5, 1e-4] && lr.map(\.kept) == [true, false])
        #expect(abs((lr.first?.delta ?? 0) + 0.1) < 1e-12 && lr.last?.delta == nil, "a crash has no delta")
        let wd = adaptation.trials["WD"] ?? []
        #expect(wd.count == 2)
        #expect(wd.map(\.from) == [30, 30] && wd.map(\.to) == [20, 45] && wd.map(\.kept) == [false, true])
        #expect(abs((wd[0].delta ?? 0) - 0.05) < 1e-12 && abs((wd[1].delta ?? 0) + 0.2) < 1e-12)
        #expect(StepAdaptation.values(in: "LR 1_000.5 → 2e3", parameter: "LR") ?? (0, 0) == (1000.5, 2000))
        #expect(StepAdaptation.values(in: "idea: LR warmup", parameter: "LR") == nil)
    }

    /// Metric 1 + 0.5·(ln x − ln 0.01)²: two moves from 1e-4 give the model's optimum exactly.
    @Test func theSecantModelFindsTheOptimumOfAQuadraticWithinItsTrustRegion() throws {
        func f(_ x: Double) -> Double { 1 + 0.5 * pow(log(x) - log(0.01), 2) }
        let trials = [Trial(from: 1e-4, to: 1.5e-4, delta: f(1.5e-4) - f(1e-4), kept: true),
                      Trial(from: 1.5e-4, to: 3.375e-4, delta: f(3.375e-4) - f(1.5e-4), kept: true)]
        let (alpha, beta) = try #require(StepAdaptation.fit(trials))
        #expect(abs(beta - 1) < 1e-9)
        #expect(abs(-alpha / beta - log(0.01)) < 1e-9)
        let adaptation = StepAdaptation(trials: ["LR": trials])
        let far = try #require(adaptation.jump(of: "LR", current: 3.375e-4, range: wide, settings: SearchSettings(surrogateTrust: 64)))
        #expect(far.to == 0.01)
        #expect(abs(far.gain - 0.5 * pow(log(0.01 / 3.375e-4), 2)) < 1e-9)
        // Trust 1: at most one adapted step (4 units after two keeps: ×1.5⁴ = ×5.0625).
        let near = try #require(adaptation.jump(of: "LR", current: 3.375e-4, range: wide, settings: SearchSettings(stepGrowth: 2, surrogateTrust: 1)))
        #expect(near.to == 1.71e-3)
        // Inside the declared range: the optimum at 0.01 is beyond a range that ends at 0.005.
        let capped = try #require(adaptation.jump(of: "LR", current: 3.375e-4, range: 1e-5...5e-3, settings: SearchSettings(surrogateTrust: 64)))
        #expect(capped.to == 5e-3)
        // No model: off, one quotient, or a concave fit.
        #expect(adaptation.jump(of: "LR", current: 3.375e-4, range: wide, settings: SearchSettings(surrogateTrust: 0)) == nil)
        #expect(StepAdaptation.fit(Array(trials.prefix(1))) == nil)
        #expect(StepAdaptation.fit(trials.map { Trial(from: $0.from, to: $0.to, delta: -($0.delta ?? 0), kept: true) }) == nil)
        // The model caps the step at twice its distance to the optimum: far away the Rprop step (4) stands; at 0.009
        // (0.26 units from 0.01) the step falls back to stepSize.
        let two = SearchSettings(stepGrowth: 2)
        #expect(adaptation.step(of: "LR", current: 3.375e-4, range: wide, settings: two) == 4)
        #expect(adaptation.step(of: "LR", current: 0.009, range: wide, settings: two) == 1)
        #expect(adaptation.step(of: "LR", current: 0.009, range: wide, settings: SearchSettings(stepGrowth: 2, surrogateTrust: 0)) == 4)
    }

    @Test func aKeptStepIsFollowedByABiggerOne() throws {
        let train = Fixtures.swiftTrain.replacingOccurrences(of: "3e-3      // range: 1e-4..1e-2", with: "1.5e-4    // range: 1e-5..1e-1")
        let dir = try Fixtures.worktree(["train.swift": train])
        let history = [ExperimentOutcome(number: 1, commit: "c1", description: "baseline", status: .baseline, metric: 1.0),
                       ExperimentOutcome(number: 2, commit: "c2", parentCommit: "c1", description: "LEARNING_RATE 1e-4 → 1.5e-4",
                                         status: .keep, metric: 0.9, move: "hp:LEARNING_RATE:up")]
        let context = ResearchContext(worktree: dir, editableFiles: ["train.swift"], history: history, bestMetric: 0.9, noiseSigma: 0.002)
        let proposal = try SearchResearcher(ideas: [], policyFile: nil, seed: 1).proposeNow(context)
        #expect(proposal.move == "hp:LEARNING_RATE:up")
        let (from, to) = try #require(StepAdaptation.values(in: proposal.description, parameter: "LEARNING_RATE"))
        #expect(from == 1.5e-4 && to == 5.06e-4, "×1.5³ after one keep (growth 3): \(proposal.description)")
        // Without growth, the old ×1.5.
        let fixed = try SearchResearcher(ideas: [], settings: SearchSettings(stepGrowth: 1), policyFile: nil, seed: 1).proposeNow(context)
        #expect(StepAdaptation.values(in: fixed.description, parameter: "LEARNING_RATE")?.1 == 2.25e-4)
    }

    /// A small loop on the Swift fixture with a noiseless metric whose optimum lies outside LEARNING_RATE's and DEPTH's
    /// ranges: every proposal stays in range (integers stay integers), and the search gets close to the best reachable.
    @Test func aHigherIsBetterMetricIsSearchedAsTheMirrorOfALoss() throws {
        // tokens_per_second-like: g = 10 − 0.5·(ln x − ln 0.01)², best at 0.01; the same moves scored as a loss f = −g.
        let train = Fixtures.swiftTrain.replacingOccurrences(of: "3e-3      // range: 1e-4..1e-2", with: "3.375e-4  // range: 1e-5..1e-1")
        let dir = try Fixtures.worktree(["train.swift": train])
        func g(_ x: Double) -> Double { 10 - 0.5 * pow(log(x) - log(0.01), 2) }
        func context(_ sign: Double) -> ResearchContext {
            let history = [ExperimentOutcome(number: 1, commit: "c1", description: "baseline", status: .baseline, metric: sign * g(1e-4)),
                           ExperimentOutcome(number: 2, commit: "c2", parentCommit: "c1", description: "LEARNING_RATE 1e-4 → 1.5e-4",
                                             status: .keep, metric: sign * g(1.5e-4), move: "hp:LEARNING_RATE:up"),
                           ExperimentOutcome(number: 3, commit: "c3", parentCommit: "c2", description: "LEARNING_RATE 1.5e-4 → 3.375e-4",
                                             status: .keep, metric: sign * g(3.375e-4), move: "hp:LEARNING_RATE:up")]
            return ResearchContext(worktree: dir, editableFiles: ["train.swift"], history: history, bestMetric: sign * g(3.375e-4), noiseSigma: 0.002)
        }
        let maximizing = try SearchResearcher(ideas: [], policyFile: nil, seed: 1, maximize: true, metric: "speedup").proposeNow(context(1))
        let asLoss = try SearchResearcher(ideas: [], policyFile: nil, seed: 1).proposeNow(context(-1))
        #expect(maximizing.description == asLoss.description)
        #expect(maximizing.move == "hp:LEARNING_RATE:up")
        // Its hypothesis names the workspace's metric and its direction.
        #expect(maximizing.hypothesis.contains("predicts speedup ") && maximizing.hypothesis.hasSuffix(" higher."), "\(maximizing.hypothesis)")
        #expect(asLoss.hypothesis.contains("predicts val_bpb ") && asLoss.hypothesis.hasSuffix(" lower."), "\(asLoss.hypothesis)")
        // Read as a loss, the same numbers are concave: no model, so not the model's jump.
        let unaware = try SearchResearcher(ideas: [], policyFile: nil, seed: 1).proposeNow(context(1))
        #expect(unaware.description != maximizing.description, "\(unaware.description)")
    }

    @Test func aSimulatedSearchStaysInItsRangesAndImproves() throws {
        let dir = try Fixtures.worktree(["train.swift": Fixtures.swiftTrain])
        let path = dir.appendingPathComponent("train.swift")
        func metric(_ source: String) throws -> Double {
            let block = try HyperparameterBlock.parse(source, path: "train.swift")
            func number(_ name: String) throws -> Double { try #require(block.parameter(named: name)?.value.number) }
            let lr = try number("LEARNING_RATE"), wd = try number("WEIGHT_DECAY"), depth = try number("DEPTH")
            #expect((1e-4...1e-2).contains(lr) && (0...0.5).contains(wd) && (1...12).contains(depth))
            if case .int = block.parameter(named: "DEPTH")?.value {} else { Issue.record("DEPTH is no longer an integer") }
            return 1 + 0.3 * pow(log10(lr / 0.05), 2) + 4 * pow(wd - 0.3, 2) + 0.01 * pow(depth - 20, 2)
        }
        var best = try metric(String(contentsOf: path, encoding: .utf8))
        var history = [ExperimentOutcome(number: 1, commit: "c1", description: "baseline", status: .baseline, metric: best)]
        var tried: Set<String> = [], bestCommit = "c1"
        let researcher = try SearchResearcher(ideas: [], policyFile: nil, seed: 7)
        for number in 2...60 {
            let context = ResearchContext(worktree: dir, editableFiles: ["train.swift"], history: history, bestMetric: best,
                                          noiseSigma: 0.001, triedFilesHashes: tried, seed: 3)
            guard let proposal = try? researcher.proposeNow(context) else { break }
            let source = try Fixtures.result(of: proposal, in: dir, editable: ["train.swift"])["train.swift"] ?? ""
            tried.insert(SearchResearcher.filesHash(["train.swift": source]))
            let m = try metric(source)
            let kept = m < best - 0.003
            history.append(ExperimentOutcome(number: number, commit: "c\(number)", parentCommit: bestCommit, description: proposal.description,
                                             status: kept ? .keep : .discard, metric: m, move: proposal.move))
            if kept { best = m; bestCommit = "c\(number)"; try source.write(to: path, atomically: true, encoding: .utf8) }
        }
        // Start 4.168; the best reachable (LEARNING_RATE 0.01, WEIGHT_DECAY 0.3, DEPTH 12) is 1 + 0.3·log10(0.2)² + 0.64 = 1.7866.
        #expect(best < 1.7876, "best \(best) after \(history.count) experiments")
    }

    @Test func settingsWithoutTheNewKnobsDecodeWithTheirDefaultsAndBadOnesAreRefused() throws {
        let old = try JSONDecoder().decode(SearchSettings.self, from: Data(#"{"stepSize":6.16,"momentum":false}"#.utf8))
        #expect(old.stepGrowth == 3 && old.surrogateTrust == 4 && old.stepSize == 6.16 && !old.momentum)
        let new = try JSONDecoder().decode(SearchSettings.self, from: Data(#"{"stepGrowth":1.5,"surrogateTrust":0}"#.utf8))
        #expect(new.stepGrowth == 1.5 && new.surrogateTrust == 0)
        #expect(throws: SearchError.invalidSettings("stepGrowth is 0.5; it must be between 1 and 8")) { try SearchSettings(stepGrowth: 0.5).validate() }
        #expect(throws: SearchError.invalidSettings("surrogateTrust is 100.0; it must be between 0 and 64")) { try SearchSettings(surrogateTrust: 100).validate() }
        // The mutator can move both.
        var rng = SplitMix64(seed: 5)
        var s = SearchSettings.default
        SettingsMutator.Knob.stepGrowth.mutate(&s, &rng, avoidingUp: true)
        SettingsMutator.Knob.surrogateTrust.mutate(&s, &rng, avoidingUp: false)
        #expect(s.stepGrowth < 3 && s.stepGrowth >= 1 && s.surrogateTrust > 4)
        try s.validate()
    }
}
