import AutoResearchCore
import Foundation
import Testing
@testable import SearchResearcher

@Suite struct SearchResearcherTests {
    let editable = ["train.swift"]

    func context(_ worktree: URL, history: [ExperimentOutcome] = [], best: Double? = nil, sigma: Double? = 0.002,
                 tried: Set<String> = [], seed: UInt64 = 0) -> ResearchContext {
        ResearchContext(worktree: worktree, editableFiles: editable, history: history,
                        bestMetric: best ?? history.filter { $0.status == .keep || $0.status == .baseline }.compactMap(\.metric).min(),
                        noiseSigma: sigma, triedFilesHashes: tried, seed: seed)
    }

    /// LEARNING_RATE up kept three times, every other move discarded, the last outcome a discard.
    static let rewardedHistory: [ExperimentOutcome] = [
        Fixtures.outcome(1, .baseline, 1.000, description: "baseline"),
        Fixtures.outcome(2, .keep, 0.990, move: "hp:LEARNING_RATE:up"),
        Fixtures.outcome(3, .discard, 1.000, move: "hp:DEPTH:up"),
        Fixtures.outcome(4, .keep, 0.980, move: "hp:LEARNING_RATE:up"),
        Fixtures.outcome(5, .discard, 0.995, move: "hp:WIDTH:down"),
        Fixtures.outcome(6, .keep, 0.970, move: "hp:LEARNING_RATE:up"),
        Fixtures.outcome(7, .discard, 0.990, move: "hp:BATCH_SIZE:up"),
        Fixtures.outcome(8, .crash, nil, move: "hp:WIDTH:up"),
        Fixtures.outcome(9, .discard, 0.985, move: "hp:USE_ROPE:off"),
    ]

    static let gelu = Idea(name: "gelu", description: "GELU instead of ReLU²", hypothesis: "GELU trains a little better.",
                           file: "train.swift", edits: [Idea.Edit(search: "return y * y  // ReLU²", replace: "return gelu(x)")])

    @Test func filesHashIsSHA256OverSortedPathsAndContents() {
        #expect(SearchResearcher.filesHash(["a": "b"]) == "8fb20ef63ced4145fc2e983ffe597d1dcff39154c3bf21f0fa9dde6a0c50fdc9")
        #expect(SearchResearcher.filesHash(["b.txt": "world", "a.txt": "hello"]) == "a1b59b92780961e11b12034e2475613102bdb85e9fb1d8f150415b398e5bba2d")
    }

    @Test func proposesAFullFileWithADescriptionAndAMoveKey() throws {
        let dir = try Fixtures.worktree(["train.swift": Fixtures.swiftTrain])
        let researcher = try SearchResearcher(ideas: [], policyFile: nil, seed: 1)
        #expect(researcher.name == "search")
        let proposal = try researcher.proposeNow(context(dir))
        let move = try #require(proposal.move)
        #expect(move.hasPrefix("hp:"))
        let new = try #require(proposal.files["train.swift"])
        #expect(new != Fixtures.swiftTrain)
        // Exactly one line differs, and the description names the parameter and both values.
        let changed = zip(Fixtures.swiftTrain.components(separatedBy: "\n"), new.components(separatedBy: "\n")).filter { $0 != $1 }
        #expect(changed.count == 1)
        let name = move.split(separator: ":")[1]
        #expect(proposal.description.hasPrefix("\(name) "))
        #expect(proposal.description.contains(" → "))
        #expect(!proposal.hypothesis.isEmpty)
    }

    @Test func theBanditPrefersTheRewardedMove() throws {
        let dir = try Fixtures.worktree(["train.swift": Fixtures.swiftTrain])
        let settings = SearchSettings(combineProbability: 0)
        var counts: [String: Int] = [:]
        for seed in UInt64(0)..<20 {
            let researcher = try SearchResearcher(ideas: [], settings: settings, policyFile: nil, seed: seed)
            let proposal = try researcher.proposeNow(context(dir, history: Self.rewardedHistory, seed: seed))
            counts[proposal.move ?? "", default: 0] += 1
        }
        let lrUp = counts["hp:LEARNING_RATE:up", default: 0]
        #expect(lrUp >= 15, "\(counts)")
        #expect(counts.filter { $0.key != "hp:LEARNING_RATE:up" }.values.allSatisfy { $0 < lrUp })
        // Without the rewards the same seeds spread over many moves.
        var spread: Set<String> = []
        for seed in UInt64(0)..<20 {
            let researcher = try SearchResearcher(ideas: [], settings: settings, policyFile: nil, seed: seed)
            spread.insert(try researcher.proposeNow(context(dir, history: [Self.rewardedHistory[0]], seed: seed)).move ?? "")
        }
        #expect(spread.count >= 4, "\(spread)")
    }

    @Test func momentumRepeatsAKeptStep() throws {
        let dir = try Fixtures.worktree(["train.swift": Fixtures.swiftTrain])
        // DEPTH up failed three times before a small keep: the bandit alone would look elsewhere.
        let history = [Fixtures.outcome(1, .baseline, 1.0),
                       Fixtures.outcome(2, .discard, 1.01, move: "hp:DEPTH:up"),
                       Fixtures.outcome(3, .discard, 1.01, move: "hp:DEPTH:up"),
                       Fixtures.outcome(4, .discard, 1.01, move: "hp:DEPTH:up"),
                       Fixtures.outcome(5, .keep, 0.999, move: "hp:DEPTH:up")]
        for seed in UInt64(0)..<5 {
            let researcher = try SearchResearcher(ideas: [], policyFile: nil, seed: seed)
            let proposal = try researcher.proposeNow(context(dir, history: history, seed: seed))
            #expect(proposal.move == "hp:DEPTH:up")
            #expect(proposal.description == "DEPTH 4 → 5")
            #expect(proposal.hypothesis.hasPrefix("The last step of hp:DEPTH:up was kept"))
        }
        let calm = try SearchResearcher(ideas: [], settings: SearchSettings(momentum: false), policyFile: nil, seed: 3)
        for seed in UInt64(0)..<5 {
            #expect(try calm.proposeNow(context(dir, history: history, seed: seed)).move != "hp:DEPTH:up")
        }
    }

    @Test func combinesTwoNearMisses() throws {
        let dir = try Fixtures.worktree(["train.swift": Fixtures.swiftTrain])
        let history = [
            Fixtures.outcome(1, .baseline, 1.0),
            Fixtures.outcome(2, .discard, 1.001, move: "hp:DEPTH:up"),
            Fixtures.outcome(3, .discard, 1.0015, move: "hp:WIDTH:down"),
            Fixtures.outcome(4, .discard, 1.05, move: "hp:BATCH_SIZE:up"),  // far off: not a near-miss
        ]
        let researcher = try SearchResearcher(ideas: [], settings: SearchSettings(combineProbability: 1), policyFile: nil, seed: 0)
        let proposal = try researcher.proposeNow(context(dir, history: history, sigma: 0.002))
        #expect(proposal.move == "combine:hp:DEPTH:up+hp:WIDTH:down")
        #expect(proposal.description == "combine: WIDTH 256 → 128 + DEPTH 4 → 5")
        let file = try #require(proposal.files["train.swift"])
        #expect(file.contains("let DEPTH = 5 ") && file.contains("let WIDTH = 128 "))
        // With a tighter noise band neither is a near-miss any more.
        let tight = try researcher.proposeNow(context(dir, history: history, sigma: 0.0001))
        #expect(tight.move?.hasPrefix("combine:") == false)
    }

    @Test func proposesIdeasOnceAndSkipsThoseThatDoNotApply() throws {
        let dir = try Fixtures.worktree(["train.swift": Fixtures.swiftTrain])
        let settings = SearchSettings(ideaProbability: 1)
        let researcher = try SearchResearcher(ideas: [Self.gelu], settings: settings, policyFile: nil, seed: 0)
        let proposal = try researcher.proposeNow(context(dir))
        #expect(proposal.move == "idea:gelu")
        #expect(proposal.description == "idea: GELU instead of ReLU²")
        #expect(proposal.hypothesis == "GELU trains a little better.")
        #expect(proposal.files["train.swift"]?.contains("return gelu(x)") == true)
        // Once tried, the idea is not proposed again on its own.
        let after = try researcher.proposeNow(context(dir, history: [Fixtures.outcome(1, .baseline, 1.0), Fixtures.outcome(2, .discard, 1.01, move: "idea:gelu")]))
        #expect(after.move?.hasPrefix("hp:") == true)
        // An idea whose search text is missing is skipped.
        var missing = Self.gelu
        missing.edits[0].search = "not in the file"
        let fallback = try SearchResearcher(ideas: [missing], settings: settings, policyFile: nil, seed: 0).proposeNow(context(dir))
        #expect(fallback.move?.hasPrefix("hp:") == true)
    }

    @Test func neverProposesTriedFilesAndRunsOutCleanly() throws {
        let source = "let LEARNING_RATE = 0.001 // range: 1e-4..1e-2\nlet USE_ROPE = true\n"
        let dir = try Fixtures.worktree(["train.swift": source])
        let researcher = try SearchResearcher(ideas: [], policyFile: nil, seed: 7)
        var tried: Set<String> = []
        var proposals: [String] = []
        while proposals.count < 50 {
            let proposal: Proposal
            do { proposal = try researcher.proposeNow(context(dir, tried: tried)) } catch let error as ResearcherError {
                guard case .nothingLeftToTry = error else { Issue.record("unexpected \(error)"); break }
                break
            }
            let hash = SearchResearcher.filesHash(try Fixtures.result(of: proposal, in: dir, editable: editable))
            #expect(!tried.contains(hash), "repeated \(proposal.description)")
            tried.insert(hash)
            proposals.append(proposal.description)
        }
        // 5 steps up, 5 down (×/÷ 1.5, 2.25, √1.5, 3.375, 1.5^¼), 1 flip.
        #expect(proposals.count == 11, "\(proposals)")
        #expect(Set(proposals).count == 11)
        #expect(Set(proposals) == ["LEARNING_RATE 0.001 → 0.0015", "LEARNING_RATE 0.001 → 0.00225", "LEARNING_RATE 0.001 → 0.00122",
                                   "LEARNING_RATE 0.001 → 0.00337", "LEARNING_RATE 0.001 → 0.00111",
                                   "LEARNING_RATE 0.001 → 0.000667", "LEARNING_RATE 0.001 → 0.000444", "LEARNING_RATE 0.001 → 0.000816",
                                   "LEARNING_RATE 0.001 → 0.000296", "LEARNING_RATE 0.001 → 0.000904",
                                   "USE_ROPE true → false"])
        // With all but one tried, the one left is what comes out.
        let block = try HyperparameterBlock.parse(source, path: "train.swift")
        let left = block.replacing("USE_ROPE", with: .bool(false), in: source)
        tried.remove(SearchResearcher.filesHash(["train.swift": left]))
        #expect(try researcher.proposeNow(context(dir, tried: tried)).files == ["train.swift": left])
    }

    @Test func throwsNothingLeftToTryWithoutABlockOrIdeas() throws {
        let dir = try Fixtures.worktree(["train.swift": "import Foundation\nprint(1)\n"])
        let researcher = try SearchResearcher(ideas: [], policyFile: nil, seed: 0)
        #expect(throws: ResearcherError.nothingLeftToTry("no editable file has a hyperparameter block and the template has no ideas")) {
            try researcher.proposeNow(context(dir))
        }
        // A missing editable file is a clear failure.
        let empty = try Fixtures.worktree([:])
        do {
            _ = try researcher.proposeNow(context(empty))
            Issue.record("expected an error")
        } catch let error as ResearcherError {
            guard case .failed(let why) = error else { Issue.record("wrong error \(error)"); return }
            #expect(why.hasPrefix("cannot read the editable file train.swift in "))
        }
    }

    @Test func isDeterministicForASeed() throws {
        let dir = try Fixtures.worktree(["train.swift": Fixtures.swiftTrain])
        let history = Array(Self.rewardedHistory.prefix(5))
        let a = try SearchResearcher(ideas: [Self.gelu], policyFile: nil, seed: 42)
        let b = try SearchResearcher(ideas: [Self.gelu], policyFile: nil, seed: 42)
        for seed in UInt64(0)..<5 {
            let ctx = context(dir, history: history, seed: seed)
            let first = try a.proposeNow(ctx)
            #expect(try a.proposeNow(ctx) == first)
            #expect(try b.proposeNow(ctx) == first)
        }
        var outcomes: Set<String> = []
        for seed in UInt64(0)..<10 {
            outcomes.insert(try SearchResearcher(ideas: [], policyFile: nil, seed: seed).proposeNow(context(dir)).description)
        }
        #expect(outcomes.count > 1)
    }

    @Test func thePolicyPersistsAndReloads() async throws {
        let dir = try Fixtures.worktree(["train.swift": Fixtures.swiftTrain])
        let file = dir.appendingPathComponent("state/search-policy.json")
        let settings = SearchSettings(combineProbability: 0)
        let first = try SearchResearcher(ideas: [], settings: settings, policyFile: file, seed: 0)
        #expect(first.learned == SearchPolicy())
        _ = try await first.propose(context(dir, history: Self.rewardedHistory))
        let saved = try SearchPolicy.load(from: file)
        // Each keep improved by 0.01 ≥ 4σ = 0.008: full reward.
        #expect(saved.moves["hp:LEARNING_RATE:up"] == SearchPolicy.Arm(trials: 3, reward: 3, keeps: 3))
        #expect(saved.moves["hp:WIDTH:up"] == SearchPolicy.Arm(trials: 1, reward: 0, keeps: 0))
        #expect(saved.moves.count == 6)
        #expect(saved.counted.count == 8)
        // A new session starts from it ...
        let second = try SearchResearcher(ideas: [], settings: settings, policyFile: file, seed: 5)
        #expect(second.learned == saved)
        for seed in UInt64(0)..<5 {
            let proposal = try second.proposeNow(context(dir, history: [Self.rewardedHistory[0]], seed: seed))
            #expect(proposal.move == "hp:LEARNING_RATE:up")
        }
        // ... and seeing the same experiments again does not count them twice.
        _ = try second.proposeNow(context(dir, history: Self.rewardedHistory))
        #expect(try SearchPolicy.load(from: file).moves["hp:LEARNING_RATE:up"]?.trials == 3)
        // A corrupt policy file is a clear error at init.
        try "not json".write(to: file, atomically: true, encoding: .utf8)
        do {
            _ = try SearchResearcher(ideas: [], policyFile: file, seed: 0)
            Issue.record("expected an error")
        } catch let error as SearchError {
            #expect(error.description.hasPrefix("\(file.path) cannot be read as a search policy ("))
        }
    }

    @Test func rewardsScaleWithTheImprovement() {
        let keep = Fixtures.outcome(2, .keep, 0.996)
        #expect(abs(SearchPolicy.reward(of: keep, previousBest: 1.0, noiseSigma: 0.002) - 0.75) < 1e-9)  // 0.004 of 4σ = 0.008
        #expect(abs(SearchPolicy.reward(of: keep, previousBest: 1.0, noiseSigma: nil) - 0.7) < 1e-9)     // 0.004 of 1 % = 0.01
        #expect(SearchPolicy.reward(of: Fixtures.outcome(2, .keep, 0.9), previousBest: 1.0, noiseSigma: 0.002) == 1)
        #expect(SearchPolicy.reward(of: Fixtures.outcome(2, .keep, nil), previousBest: 1.0, noiseSigma: 0.002) == 0.75)
        #expect(SearchPolicy.reward(of: Fixtures.outcome(3, .discard, 0.9), previousBest: 1.0, noiseSigma: 0.002) == 0)
        #expect(SearchPolicy.reward(of: Fixtures.outcome(3, .crash, nil), previousBest: 1.0, noiseSigma: 0.002) == 0)
    }

    @Test func settingsDecodeWithDefaultsAndValidate() throws {
        let decoded = try JSONDecoder().decode(SearchSettings.self, from: Data(#"{"momentum": false, "exploration": 1}"#.utf8))
        #expect(decoded == SearchSettings(exploration: 1, momentum: false))
        let roundTrip = try JSONDecoder().decode(SearchSettings.self, from: JSONEncoder().encode(SearchSettings.default))
        #expect(roundTrip == .default)
        #expect(throws: SearchError.invalidSettings("exploration is -1.0; it must be 0 or more")) {
            try SearchResearcher(ideas: [], settings: SearchSettings(exploration: -1), policyFile: nil, seed: 0)
        }
        #expect(throws: SearchError.invalidSettings("ideaProbability is 2.0; it must be between 0 and 1")) {
            try SearchSettings(ideaProbability: 2).validate()
        }
    }
}
