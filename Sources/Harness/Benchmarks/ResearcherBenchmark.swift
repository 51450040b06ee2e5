import AutoResearchCore
import Foundation
import SearchResearcher

/// `autoresearch researcher-bench`: researchers against each other on a subject whose answer is known. For each seed
/// one workspace; in it each researcher runs its own tag from the baseline for `experiments` experiments (the harness's
/// loop, checks and keep decisions as in any run). Scored per run: the experiments until the first keep at or below
/// `target` (`MetaBenchmark.experimentsToTarget`) and the best kept metric after all of them.
///
/// Subjects: `quadratic` (ten log-scale hyperparameters 2.5 decades from their optimum, σ = 0.004; runs sleep 0 s)
/// and `gpt` (the GPT subject training on `tokens` tokens a run; its corpus must be prepared).
public enum ResearcherBenchmark {
    /// The researchers it knows: the search researcher with its default settings and with the meta-loop's best
    /// settings, and Optuna's samplers.
    public static let researchers = ["search", "search-meta", "tpe", "cmaes", "random", "gp"]
    /// The settings the meta-loop kept in meta-bench's best seed (README: seed 3, 37.5 experiments to 1.2 against 136):
    /// step size 6.16, no momentum.
    public static let metaSettings = SearchSettings(stepSize: 6.16, momentum: false)

    public struct Settings: Sendable {
        public var subject = "quadratic"
        public var seeds: [UInt64] = [1, 2, 3, 4, 5]
        public var experiments = 150
        public var researchers = ["search", "search-meta", "tpe", "cmaes", "random"]
        public var target = 1.2
        /// The GPT subject: tokens per run, and where its corpus is.
        public var tokens = 200_000
        public var dataDirectory: String?
        public init() {}
    }

    public struct Row: Sendable {
        public var researcher: String
        public var seed: UInt64
        /// Experiments to the target; nil when the run did not reach it.
        public var toTarget: Int?
        /// The best kept metric after the run (the baseline's when nothing was kept).
        public var best: Double?
        public var experiments: Int
        public var seconds: Double
    }

    /// A researcher of the benchmark by name, for a seed.
    public static func researcher(_ name: String, seed: UInt64, workspace: Workspace, sourceRoot: URL? = nil) throws -> any Researcher {
        switch name {
        case "search", "search-meta":
            return try SearchResearcher(ideas: try SubjectBridge.ideas(of: workspace), settings: name == "search" ? .default : metaSettings,
                                        policyFile: nil, seed: seed, maximize: workspace.manifest.direction == .higher,
                                        metric: workspace.manifest.metric)
        case let sampler where OptunaResearcher.samplers.contains(sampler):
            return try OptunaResearcher(sampler: sampler, seed: seed, ideas: try SubjectBridge.ideas(of: workspace),
                                        maximize: workspace.manifest.direction == .higher,
                                        python: try OptunaEnvironment.python(), script: try OptunaEnvironment.script(sourceRoot: sourceRoot))
        default:
            throw HarnessError.other("unknown researcher '\(name)' for researcher-bench; use \(researchers.joined(separator: ", "))")
        }
    }

    /// Runs every researcher on every seed in a temporary workspace per seed (removed afterwards), reporting each row.
    public static func run(_ settings: Settings, sourceRoot: URL? = nil, display: any Display,
                           progress: (Row) -> Void = { _ in }) async throws -> [Row] {
        guard ["quadratic", "gpt"].contains(settings.subject) else {
            throw HarnessError.other("unknown subject '\(settings.subject)' for researcher-bench; use quadratic or gpt")
        }
        for name in settings.researchers where !researchers.contains(name) {
            throw HarnessError.other("unknown researcher '\(name)' for researcher-bench; use \(researchers.joined(separator: ", "))")
        }
        var rows: [Row] = []
        for seed in settings.seeds {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("autoresearch-researcherbench-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: base) }
            let quadratic = settings.subject == "quadratic"
            let options = quadratic
                ? WorkspaceOptions(template: "quadratic", timeBudget: 5, dataDirectory: "", sourceRoot: sourceRoot)
                : WorkspaceOptions(template: "gpt", timeBudget: 600, tokenBudget: settings.tokens, dataDirectory: settings.dataDirectory, sourceRoot: sourceRoot)
            let workspace = try Workspace.create(at: base.appendingPathComponent("ws"), options: options)
            for name in settings.researchers {
                let started = Date()
                var run = RunOptions(tag: name, experiments: settings.experiments, baselineRuns: 3, seed: seed)
                run.researcherFailurePause = 0
                if quadratic { run.subjectEnvironment = ["AUTORESEARCH_SIM_SECONDS": "0,0"] }
                let loop = try ResearchLoop(workspace: workspace, researcher: try researcher(name, seed: seed, workspace: workspace, sourceRoot: sourceRoot),
                                            options: run, display: display)
                _ = try await loop.run()
                let records = try loop.ledger.experiments(tag: name)
                let kept = records.filter { [.keep, .baseline].contains($0.experimentStatus) }.compactMap(\.metric)
                let higher = workspace.manifest.direction == .higher
                let row = Row(researcher: name, seed: seed,
                              toTarget: higher ? records.first { $0.experimentStatus == .keep && ($0.metric ?? -.infinity) >= settings.target }?.number
                                               : MetaBenchmark.experimentsToTarget(records, target: settings.target),
                              best: higher ? kept.max() : kept.min(),
                              experiments: records.filter { $0.experimentStatus != .baseline }.count,
                              seconds: Date().timeIntervalSince(started))
                rows.append(row)
                progress(row)
            }
        }
        return rows
    }

    /// Per researcher: how many runs reached the target, experiments to it (mean and median, a run that missed counted
    /// as experiments + 1, and min…max), the best after all experiments (mean ± standard deviation, min…max) and time.
    public static func report(_ rows: [Row], settings: Settings) -> String {
        var lines = ["researcher\treached\tto target: mean\tmedian\tmin…max\tbest after \(settings.experiments): mean ± sd\tmin…max\tseconds/run"]
        for name in settings.researchers {
            let mine = rows.filter { $0.researcher == name }
            guard !mine.isEmpty else { continue }
            let counts = mine.map { Double($0.toTarget ?? settings.experiments + 1) }
            let bests = mine.compactMap(\.best)
            let reached = mine.filter { $0.toTarget != nil }.count
            let limit = Double(settings.experiments)
            func count(_ v: Double) -> String { String(format: "%.1f", v) + (v > limit ? "+" : "") }
            lines.append(["\(name)", "\(reached)/\(mine.count)", count(mean(counts)), count(median(counts)),
                          String(format: "%.0f", counts.min() ?? 0) + "…" + String(format: "%.0f", counts.max() ?? 0) + ((counts.max() ?? 0) > limit ? "+" : ""),
                          String(format: "%.4f ± %.4f", mean(bests), sd(bests)), String(format: "%.4f…%.4f", bests.min() ?? .nan, bests.max() ?? .nan),
                          String(format: "%.0f", mean(mine.map(\.seconds)))].joined(separator: "\t"))
        }
        lines.append(String(format: "target %.4g; %d seeds; a run that missed the target counts as %d (marked +)",
                            settings.target, settings.seeds.count, settings.experiments + 1))
        return lines.joined(separator: "\n")
    }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    static func sd(_ v: [Double]) -> Double {
        guard v.count > 1 else { return 0 }
        let m = mean(v)
        return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
    }
}
