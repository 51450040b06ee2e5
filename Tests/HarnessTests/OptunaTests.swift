import AutoResearchCore
import Foundation
import SearchResearcher
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Harness

/// The Optuna researcher's search space, drawn from a hyperparameter block and ideas, without a sidecar.
@Suite struct OptunaSpaceTests {
    static let source = """
    LEARNING_RATE = 0.003   # range: 1e-4..1e-2
    WEIGHT_DECAY = 0.1      # range: 0.01..0.5
    WARMUP = 0.1            # range: 0..0.3
    DEPTH = 4               # range: 1..12
    BATCH = 16              # range: 1..512
    ACTIVATION = "relu"     # choices: relu|gelu
    USE_ROPE = True
    SEED = 1
    SOFTCAP = 15.0

    def act(x):
        return relu(x)
    """
    static let gelu = Idea(name: "gelu", description: "GELU", edits: [Idea.Edit(search: "return relu(x)", replace: "return gelu(x)")])

    @Test func theSpaceFollowsTheRule() throws {
        let space = try OptunaSpace.make(files: ["train.py": Self.source], paths: ["train.py"], ideas: [Self.gelu])
        #expect(space.names == ["LEARNING_RATE", "WEIGHT_DECAY", "WARMUP", "DEPTH", "BATCH", "ACTIVATION", "USE_ROPE", "idea:gelu"])
        #expect(space.dimensions["LEARNING_RATE"] == .real(low: 1e-4, high: 1e-2, log: true), "two decades")
        #expect(space.dimensions["WEIGHT_DECAY"] == .real(low: 0.01, high: 0.5, log: true), "…DECAY, though only 50×")
        #expect(space.dimensions["WARMUP"] == .real(low: 0, high: 0.3, log: false), "a range from 0 is linear")
        #expect(space.dimensions["DEPTH"] == .integer(low: 1, high: 12, log: false))
        #expect(space.dimensions["BATCH"] == .integer(low: 1, high: 512, log: true))
        #expect(space.dimensions["ACTIVATION"] == .categorical([.string("relu"), .string("gelu")]))
        #expect(space.dimensions["USE_ROPE"] == .categorical([.bool(false), .bool(true)]))
        #expect(space.dimensions["idea:gelu"] == .categorical([.bool(false), .bool(true)]))
        #expect(space.dimensions["SEED"] == nil && space.dimensions["SOFTCAP"] == nil, "the seed, and numbers without a range, are left out")
        let json = space.json
        #expect(json["BATCH"] as? [String: AnyHashable] == ["type": "int", "low": 1, "high": 512, "log": true])
        #expect(json["ACTIVATION"] as? [String: AnyHashable] == ["type": "categorical", "choices": ["relu", "gelu"]])
        #expect(json["idea:gelu"] as? [String: AnyHashable] == ["type": "categorical", "choices": ["false", "true"]])
    }

    @Test func aTrialIsWrittenIntoTheFilesAndReadBack() throws {
        let space = try OptunaSpace.make(files: ["train.py": Self.source], paths: ["train.py"], ideas: [Self.gelu])
        let base = space.params(of: ["train.py": Self.source])
        #expect(base["LEARNING_RATE"] as? Double == 0.003 && base["DEPTH"] as? Double == 4)
        #expect(base["ACTIVATION"] as? String == "relu" && base["USE_ROPE"] as? String == "true" && base["idea:gelu"] as? String == "false")
        let trial: [String: Any] = ["LEARNING_RATE": 0.00123456789, "DEPTH": 7, "ACTIVATION": "gelu", "USE_ROPE": "false",
                                    "BATCH": 16, "idea:gelu": "true"]
        let (files, changes) = space.apply(trial, to: ["train.py": Self.source])
        #expect(changes == ["idea gelu on", "LEARNING_RATE 0.003 → 0.001235", "DEPTH 4 → 7", "ACTIVATION relu → gelu", "USE_ROPE True → False"])
        let text = try #require(files["train.py"])
        #expect(text.contains("LEARNING_RATE = 0.001235   # range: 1e-4..1e-2") && text.contains("return gelu(x)") && text.contains("USE_ROPE = False"))
        let back = space.params(of: files)
        #expect(back["LEARNING_RATE"] as? Double == 0.001235 && back["DEPTH"] as? Double == 7 && back["idea:gelu"] as? String == "true")
        // And off again: the idea's edit reversed.
        let (undone, undoneChanges) = space.apply(["idea:gelu": "false"], to: files)
        #expect(undoneChanges == ["idea gelu off"] && undone["train.py"]?.contains("return relu(x)") == true)
    }

    @Test func aBlockWithNothingToSearchIsAClearError() {
        #expect(throws: ResearcherError.nothingLeftToTry("no editable file has a hyperparameter with a range or choices, and there are no ideas: Optuna has nothing to search")) {
            try OptunaSpace.make(files: ["train.py": "SEED = 1\nWIDTH = 64\n"], paths: ["train.py"], ideas: [])
        }
    }

    @Test func anUnknownSamplerIsRefused() {
        #expect(throws: HarnessError.self) { try OptunaResearcher(sampler: "bayes", seed: 1, python: "python3", script: URL(fileURLWithPath: "/x")) }
    }
}

/// The Optuna researcher with a real sidecar (the managed environment: scripts/optuna-env.sh, or made on first use).
@Suite(.serialized) struct OptunaResearcherTests {
    func optuna(_ sampler: String = "tpe", seed: UInt64 = 1) throws -> OptunaResearcher {
        try OptunaResearcher(sampler: sampler, seed: seed, python: try OptunaEnvironment.python(), script: try OptunaEnvironment.script())
    }

    /// Experiments a study is told: finished with a commit.
    func finished(_ records: [ExperimentRecord]) -> Int {
        records.filter { [.keep, .discard, .baseline, .stale, .crash, .invalid].contains($0.experimentStatus) && $0.commit != nil }.count
    }

    @Test func aResumedRunTellsTheStudyEveryPastExperimentOnce() async throws {
        let standIn = try StandIn(noise: 0.002); defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let first = try optuna()
        let (_, before) = try await runLoop(ws, first, experiments: 4, baselineRuns: 2)
        #expect(before.filter { $0.experimentStatus != .baseline }.allSatisfy { $0.researcher == "optuna" && $0.move == "optuna:tpe" })
        #expect(before.filter { $0.experimentStatus != .baseline }.allSatisfy { $0.description.hasPrefix("optuna tpe: ") })
        // Its own trials are told to the trials it asked; the last one is still running (told at the next proposal).
        var stats = try await first.stats()
        #expect(stats["complete"]! + stats["fail"]! == finished(before) - 1 && stats["running"] == 1)

        let resumed = try optuna(seed: 2)
        let (_, after) = try await runLoop(ws, resumed, experiments: 3)
        #expect(after.count == before.count + 3)
        stats = try await resumed.stats()
        #expect(stats["complete"]! + stats["fail"]! == finished(after) - 1, "each past experiment told once: \(stats)")
        #expect(stats["running"] == 1 && stats["keys"] == finished(after) - 1)
    }

    @Test func aSwarmOfTwoNeverRunsTheSameTrialTwice() async throws {
        let standIn = try StandIn(noise: 0.001); defer { standIn.remove() }
        // Six configurations in all: the baseline and five others.
        try """
        A = 1  # range: 1..3
        B = "x"  # choices: x|y
        SEED = 1
        print("---")
        print("val_bpb:          %.6f" % (1 + 0.1 * A + (0.05 if B == "y" else 0)))
        print("training_seconds: 0.1")
        print("peak_memory_mb:   10.0")

        """.write(to: standIn.templateURL.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
        let ws = try standIn.makeWorkspace()
        var options = RunOptions(tag: "s", experiments: 5, baselineRuns: 2)
        options.allowUntrusted = true
        options.researcherFailurePause = 0
        let loop = try ResearchLoop(workspace: ws, researchers: [try optuna(seed: 1), try optuna(seed: 2)], options: options, display: RecordingDisplay())
        _ = try await loop.run()
        let records = try loop.ledger.experiments(tag: "s")
        let ran = records.filter { $0.experimentStatus != .researcherError }
        let configurations = try ran.map { r -> String in
            let text = try Git(ws.root).run(["show", "\(try #require(r.commit)):train.py"])
            return text.split(separator: "\n").prefix(2).joined(separator: ";")
        }
        #expect(Set(configurations).count == configurations.count, "a configuration ran twice: \(configurations)")
        #expect(Set(ran.compactMap(\.filesHash)).count == ran.filter { $0.filesHash != nil }.count)
        #expect(ran.count >= 5, "\(records.map { "\($0.number) \($0.status) \($0.error ?? "")" })")
        #expect(Set(ran.map(\.worker)) == [0, 1] || ran.allSatisfy { $0.experimentStatus == .baseline || $0.worker != nil })
    }

    /// Kills the sidecar before its researcher's `killAt`-th proposal.
    final class Killer: Researcher, @unchecked Sendable {
        let inner: OptunaResearcher
        let killAt: Int
        var calls = 0
        var name: String { inner.name }
        init(_ inner: OptunaResearcher, killAt: Int) { self.inner = inner; self.killAt = killAt }
        func propose(_ context: ResearchContext) async throws -> Proposal {
            calls += 1
            if calls == killAt, let pid = inner.sidecarPID {
                kill(pid, SIGKILL)
                while processIsRunning(pid) { usleep(10_000) }
            }
            return try await inner.propose(context)
        }
    }

    @Test func aSidecarThatDiesIsAResearcherErrorAndTheNextExperimentRestartsIt() async throws {
        let standIn = try StandIn(noise: 0.002); defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let researcher = try optuna()
        let (summary, records) = try await runLoop(ws, Killer(researcher, killAt: 3), experiments: 5, baselineRuns: 2)
        let experiments = records.filter { $0.experimentStatus != .baseline }
        #expect(experiments.map(\.experimentStatus).count == 5, "the loop went on: \(summary)")
        let third = try #require(experiments.first { $0.number == 3 })
        #expect(third.experimentStatus == .researcherError)
        #expect(third.error?.contains("the Optuna sidecar (pid ") == true && third.error?.contains("was killed by signal 9") == true, "\(third.error ?? "")")
        #expect(third.error?.contains("The next experiment starts a new sidecar") == true)
        #expect(experiments.filter { $0.number != 3 }.allSatisfy { $0.experimentStatus != .researcherError && $0.move == "optuna:tpe" })
        let stats = try await researcher.stats()
        #expect(stats["complete"]! + stats["fail"]! == finished(records) - 1, "the new sidecar was told every experiment: \(stats) \(records.map { "\($0.number) \($0.status) \($0.commit?.prefix(6) ?? "-") \($0.description)" })")
    }

    @Test func theBenchmarkRunsEachResearcherOnEachSeedAndReports() async throws {
        var settings = ResearcherBenchmark.Settings()
        settings.seeds = [3]
        settings.experiments = 3
        settings.researchers = ["search", "tpe"]
        settings.target = 0  // out of reach
        var seen: [String] = []
        let rows = try await ResearcherBenchmark.run(settings, display: RecordingDisplay()) { seen.append($0.researcher) }
        #expect(seen == ["search", "tpe"] && rows.allSatisfy { $0.toTarget == nil && $0.experiments == 3 && $0.seed == 3 })
        // The quadratic's baseline is 1 + 6.25 · Σw = 6.0 (± noise); nothing can end worse than it.
        #expect(rows.allSatisfy { ($0.best ?? 9) < 6.1 })
        let report = ResearcherBenchmark.report(rows, settings: settings)
        #expect(report.hasPrefix("researcher\treached\tto target: mean\tmedian\tmin…max\tbest after 3: mean ± sd\tmin…max\tseconds/run\nsearch\t0/1\t4.0+\t4.0+\t4…4+\t"))
        #expect(report.hasSuffix("target 0; 1 seeds; a run that missed the target counts as 4 (marked +)"))
    }

    @Test func theReportGivesMeanMedianAndSpread() {
        var settings = ResearcherBenchmark.Settings()
        settings.experiments = 10
        settings.researchers = ["search", "tpe"]
        settings.seeds = [1, 2, 3]
        let rows = [(3, 1.1), (5, 1.15), (nil, 1.3)].enumerated().map { i, v in
            ResearcherBenchmark.Row(researcher: "search", seed: UInt64(i + 1), toTarget: v.0, best: v.1, experiments: 10, seconds: 2)
        } + [ResearcherBenchmark.Row(researcher: "tpe", seed: 1, toTarget: 8, best: 1.2, experiments: 10, seconds: 4)]
        #expect(ResearcherBenchmark.report(rows, settings: settings).split(separator: "\n").map(String.init) == [
            "researcher\treached\tto target: mean\tmedian\tmin…max\tbest after 10: mean ± sd\tmin…max\tseconds/run",
            "search\t2/3\t6.3\t5.0\t3…11+\t1.1833 ± 0.1041\t1.1000…1.3000\t2",
            "tpe\t1/1\t8.0\t8.0\t8…8\t1.2000 ± 0.0000\t1.2000…1.2000\t4",
            "target 1.2; 3 seeds; a run that missed the target counts as 11 (marked +)",
        ])
    }
}
