import AutoResearchCore
import Foundation
import Harness

/// A workspace with a recorded ledger that looks like a real session (a baseline, keeps that lower the metric,
/// discards, crashes, four workers on four slots, diffs, evidence, a transcript, a meta-loop, and experiments
/// running now with growing logs), made without training anything: for the dashboard's tests, its benchmark
/// and its screenshots (`autoresearch serve --demo N`).
public enum DemoLedger {
    public struct Options: Sendable {
        /// Finished experiments after the baseline.
        public var experiments = 60
        /// Experiments running now (each with a log of `step | loss | tok/s` lines).
        public var running = 2
        /// Research programs and windows of a meta-loop.
        public var meta = true
        public var tag = "demo"
        public var seed: UInt64 = 7
        public init(experiments: Int = 60, running: Int = 2, meta: Bool = true) {
            self.experiments = experiments; self.running = running; self.meta = meta
        }
    }

    /// Writes `autoresearch.toml` (when `directory` has none) and a ledger with `options`; returns the workspace.
    @discardableResult
    public static func create(at directory: URL, options: Options = Options()) throws -> Workspace {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let manifestURL = directory.appendingPathComponent(Manifest.fileName)
        if !fm.fileExists(atPath: manifestURL.path) {
            var manifest = Manifest(name: "gpt-demo", editable: ["train.swift"], build: "swift build -c release", run: ".build/release/train")
            manifest.budget.seconds = 300
            manifest.slots = (0..<4).map { Slot(name: "s\($0)") }
            try manifest.render().write(to: manifestURL, atomically: true, encoding: .utf8)
        }
        let workspace = try Workspace.open(directory)
        let ledger = try Ledger(url: workspace.ledgerURL)
        var random = Random(seed: options.seed)
        let start = Date().addingTimeInterval(-Double(options.experiments + options.running + 1) * 95 - 900)
        try ledger.insert(TagRecord.recorded(tag: options.tag, manifestHash: workspace.manifestHash, baselineCommit: "0000000",
                                             createdAt: start, noiseSigma: 0.0021))
        let logs = workspace.logsDirectory(tag: options.tag)
        try fm.createDirectory(at: logs, withIntermediateDirectories: true)

        var records: [ExperimentRecord] = []
        var best = 1.2840, test = 1.3012
        var baseline = ExperimentRecord(tag: options.tag, number: 0, parentCommit: nil, description: "baseline",
                                        researcher: "harness", status: .baseline, startedAt: start)
        baseline.metric = best; baseline.valBPB = best; baseline.testBPB = test; baseline.commit = "a1b2c3d"
        baseline.finishedAt = start.addingTimeInterval(600); baseline.runSeconds = 600; baseline.buildSeconds = 40
        baseline.evidence = evidence(runs: [best, best + 0.0018, best - 0.0011], best: nil, threshold: 0, verdict: "baseline",
                                     reason: "the baseline, run 3 times to start σ")
        records.append(baseline)
        let moves = ["LEARNING_RATE 0.0030 → 0.0040", "WARMUP_STEPS 100 → 200", "n_embd 256 → 320", "weight decay 0.10 → 0.05",
                     "Muon for the matrices", "rotary embeddings base 10000 → 50000", "QK-norm before attention",
                     "tie the embedding and the head", "batch 32 → 48 sequences", "cosine schedule to 10% instead of 0",
                     "GELU → ReLU²", "dropout 0.1 → 0", "depth 4 → 5 layers", "AdamW β2 0.95 → 0.99", "gradient clip 1.0 → 0.5"]
        for n in 1...max(1, options.experiments) where options.experiments > 0 {
            let move = moves[random.int(moves.count)]
            let worker = (n - 1) % 4
            var r = ExperimentRecord(tag: options.tag, number: n, parentCommit: "a1b2c3d",
                                     description: move + (n % 7 == 0 ? " (and a longer warmup)" : ""),
                                     researcher: worker == 3 ? "anthropic:claude-sonnet" : "search", status: .discard,
                                     startedAt: start.addingTimeInterval(Double(n) * 95))
            r.hypothesis = "If \(move.lowercased()), the model should reach a lower validation loss within the same budget."
            r.worker = worker; r.slot = "s\(worker)"; r.slotKind = "cpu"; r.move = move
            r.commit = String(format: "%07x", random.int(0xFFFFFFF))
            r.diff = diff(move, n: n)
            r.buildSeconds = 30 + Double(random.int(20)); r.runSeconds = 300 + Double(random.int(40))
            r.peakMemoryMB = 900 + Double(random.int(400)); r.numSteps = 1200 + random.int(300)
            r.finishedAt = r.startedAt.addingTimeInterval(r.buildSeconds! + r.runSeconds!)
            let roll = random.unit()
            if roll < 0.07 {
                r.status = ExperimentStatus.crash.rawValue
                r.error = "the run exited with status 1: loss is NaN at step \(100 + random.int(900))"
            } else {
                let improvement = roll > 0.86 ? 0.004 + random.unit() * 0.01 * 200 / Double(200 + n) : -random.unit() * 0.03
                let value = best - improvement + (random.unit() - 0.5) * 0.002
                r.metric = value; r.valBPB = value
                if improvement > 0.004 && value < best {
                    r.status = ExperimentStatus.keep.rawValue
                    r.evidence = evidence(runs: [value - 0.0008, value + 0.0008], best: best, threshold: 0.0042, verdict: "keep",
                                          reason: String(format: "mean %.6f beats the best %.6f by %.6f > threshold 0.004200 (z = 3)", value, best, best - value))
                    best = value
                    test -= improvement * (0.7 + random.unit() * 0.4)
                    r.testBPB = test
                } else {
                    r.evidence = evidence(runs: [value], best: best, threshold: 0.0042, verdict: "discard",
                                          reason: String(format: "mean %.6f does not beat the best %.6f by the threshold 0.004200", value, best))
                }
            }
            if r.researcher.hasPrefix("anthropic") {
                r.inputTokens = 20_000 + random.int(8_000); r.outputTokens = 900 + random.int(600); r.costUSD = 0.06 + random.unit() * 0.05
                r.transcript = transcript(move)
            }
            if options.meta { r.program = 1 + (n / 25) % 3; r.window = 1 + n / 25; r.island = n % 2 }
            let log = logs.appendingPathComponent("\(n).log")
            if n > options.experiments - 30 || options.experiments <= 1000 {
                try curveLog(steps: 1200, loss: 3.2, random: &random).write(to: log, atomically: true, encoding: .utf8)
                r.logPath = log.path
            }
            records.append(r)
        }
        for k in 0..<options.running {
            let n = options.experiments + 1 + k
            var r = ExperimentRecord(tag: options.tag, number: n, parentCommit: "a1b2c3d", description: moves[(n * 5) % moves.count],
                                     researcher: "search", status: .running, startedAt: Date().addingTimeInterval(-Double(60 + 90 * k)))
            r.phase = ExperimentStage.train.rawValue; r.worker = k % 4; r.slot = "s\(k % 4)"; r.move = r.description
            let log = logs.appendingPathComponent("\(n).log")
            try curveLog(steps: 300 + 300 * k, loss: 3.2, random: &random).write(to: log, atomically: true, encoding: .utf8)
            r.logPath = log.path
            records.append(r)
        }
        try ledger.importExperiments(records)
        if options.meta { try addPrograms(ledger, tag: options.tag, start: start, base: baseline.metric!) }
        return workspace
    }

    static func addPrograms(_ ledger: Ledger, tag: String, start: Date, base: Double) throws {
        let programs: [(Int?, String, ProgramStatus, String)] = [
            (nil, "the workspace's program.md and default search settings", .original, "workspace"),
            (1, "explore learning-rate moves twice as often", .kept, "mutation"),
            (2, "prefer architecture ideas over optimiser moves", .live, "anthropic:claude-sonnet"),
            (2, "raise the UCB exploration constant to 2.0", .retired, "mutation"),
            (1, "change the evaluation budget", .refused, "mutation"),
        ]
        for (i, p) in programs.enumerated() {
            var record = ProgramRecord(tag: tag, number: 0, parent: p.0, draft: ProgramDraft(text: "# Program \(i + 1)\n", settings: "{}"),
                                       diff: p.0 == nil ? "" : "+ \(p.1)", proposer: p.3, description: p.1, hypothesis: "",
                                       status: p.2, createdAt: start.addingTimeInterval(Double(i) * 1800))
            if p.2 == .kept { record.keptAt = start.addingTimeInterval(7200) }
            if p.2 == .refused { record.reason = "it changes a protected field (budget)" }
            _ = try ledger.addProgram(record)
        }
        for w in 1...3 {
            var window = WindowRecord(tag: tag, number: 0, program: w == 1 ? 2 : (w == 2 ? 4 : 3), control: w == 1 ? 1 : 2,
                                      baseCommit: "a1b2c3d", baseMetric: base - 0.01 * Double(w), experiments: 12,
                                      startedAt: start.addingTimeInterval(Double(w) * 3600))
            if w < 3 {
                window.status = "done"; window.programProgress = 0.012 / Double(w); window.controlProgress = 0.006
                window.score = w == 1 ? 0.5 : -0.25; window.scorePerHour = w == 1 ? 0.45 : -0.2
                window.finishedAt = window.startedAt.addingTimeInterval(3000)
            }
            _ = try ledger.addWindow(window)
        }
    }

    static func evidence(runs: [Double], best: Double?, threshold: Double, verdict: String, reason: String) -> String {
        let mean = runs.reduce(0, +) / Double(runs.count)
        var object: [String: Any] = ["runs": runs, "mean": mean, "threshold": threshold, "verdict": verdict, "reason": reason,
                                     "sigma": 0.0021, "sigmaRuns": 6.0]
        if let best { object["best"] = best; object["bestRuns"] = 2; object["improvement"] = best - mean }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func diff(_ move: String, n: Int) -> String {
        """
        diff --git a/train.swift b/train.swift
        index 3f2a1c4..9b8e7d2 100644
        --- a/train.swift
        +++ b/train.swift
        @@ -12,7 +12,7 @@ let config = Config(
             vocabSize: 256,
        -    learningRate: 0.0030,
        +    learningRate: \(String(format: "%.4f", 0.003 + Double(n % 9) * 0.0005)),  // \(move)
             warmupSteps: 100,
             batchSize: 32,
         )
        """
    }

    static func transcript(_ move: String) -> String {
        let entries: [[String: Any]] = [
            ["kind": "user", "text": "Propose one change to train.swift that lowers val_bpb.", "at": 0.0],
            ["kind": "assistant", "text": "The last keeps came from the optimiser; I will try: \(move).", "at": 4.2],
            ["kind": "tool", "text": "edit_file train.swift", "at": 5.0],
            ["kind": "tool_result", "text": "ok: 1 line changed", "at": 5.1],
            ["kind": "assistant", "text": "DESCRIPTION: \(move)", "at": 7.9],
        ]
        return String(decoding: (try? JSONSerialization.data(withJSONObject: entries)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// A run's log with a `step N | loss X | T tok/s` line every 50 steps.
    public static func curveLog(steps: Int, loss: Double, seed: UInt64 = 1) -> String {
        var random = Random(seed: seed)
        return curveLog(steps: steps, loss: loss, random: &random)
    }

    static func curveLog(steps: Int, loss: Double, random: inout Random) -> String {
        var text = "# train: budget 300 s\n"
        for step in stride(from: 0, through: steps, by: 50) {
            let l = 1.1 + (loss - 1.1) * exp(-Double(step) / 350) + (random.unit() - 0.5) * 0.03
            text += String(format: "step %d | loss %.4f | lr 0.0030 | %.0f tok/s\n", step, l, 41_000 + random.unit() * 3_000)
        }
        return text
    }

    /// SplitMix64: the same demo for the same seed.
    struct Random {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
        mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }
    }
}
