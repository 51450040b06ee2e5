import AutoResearchCore
import Foundation
import SearchResearcher

/// The meta-loop's benchmark (`autoresearch meta-bench`) on the quadratic subject: for each seed, a meta-loop run
/// starting from the default search settings, then two plain runs from the baseline on a new tag each — one with the
/// default settings and one with the settings of the meta-loop's incumbent — counting the experiments each needs to
/// reach `target`. Runs sleep 0 s, so an experiment costs the harness's own time (well under a second).
public enum MetaBenchmark {
    public struct Settings: Sendable {
        public var seeds: [UInt64] = [1, 2, 3, 4, 5]
        /// Experiments of each meta-loop run (both arms together).
        public var metaExperiments = 480
        public var meta = MetaSettings(window: 10, minWindows: 2, maxWindows: 4, population: 2, exploration: 0.5)
        /// Plain runs per settings and seed (researcher seeds seed + 100, seed + 200, …); their mean is compared.
        public var evaluationRuns = 2
        /// The target metric, and the most experiments a plain run may take to reach it.
        public var target = 1.2
        public var evaluationLimit = 300
        public init() {}
    }

    /// One seed's outcome.
    public struct Row: Sendable {
        public var seed: UInt64
        /// The meta-loop's incumbent at the end, its description and settings.
        public var program: Int
        public var programDescription: String
        public var settings: String
        public var windows: Int
        /// Mean experiments to reach the target over the evaluation runs (a run that misses counts as `evaluationLimit` + 1).
        public var defaultExperiments: Double
        public var foundExperiments: Double?
    }

    /// Experiments until the first keep at or below `target` (experiment numbers count from 1 after the baseline).
    public static func experimentsToTarget(_ records: [ExperimentRecord], target: Double) -> Int? {
        records.first { $0.experimentStatus == .keep && ($0.metric ?? .infinity) <= target }?.number
    }

    /// Runs the benchmark in a temporary directory per seed (removed afterwards), reporting each row as it finishes.
    public static func run(_ settings: Settings, sourceRoot: URL? = nil, display: any Display,
                           progress: (Row) -> Void = { _ in }) async throws -> [Row] {
        let instant = ["AUTORESEARCH_SIM_SECONDS": "0,0"]  // the quadratic subject's runs do not sleep
        var rows: [Row] = []
        for seed in settings.seeds {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("autoresearch-metabench-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: base) }
            let workspace = try Workspace.create(at: base.appendingPathComponent("ws"),
                                                 options: WorkspaceOptions(template: "quadratic", timeBudget: 5, dataDirectory: "", sourceRoot: sourceRoot))
            func search(_ s: SearchSettings, _ seed: UInt64) throws -> SearchResearcher {
                try SearchResearcher(ideas: [], settings: s, policyFile: nil, seed: seed)
            }
            var options = RunOptions(tag: "meta", experiments: settings.metaExperiments, baselineRuns: 3, seed: seed)
            options.meta = settings.meta
            options.researcherFailurePause = 0
            options.subjectEnvironment = instant
            let meta = try ResearchLoop(workspace: workspace, researchers: [try search(.default, seed), try search(.default, seed &+ 10_000)],
                                        options: options, display: display, programResearcher: SettingsMutator())
            _ = try await meta.run()
            let incumbent = try await meta.incumbent()
            let windows = try meta.ledger.windows(tag: "meta").filter { $0.status == "done" }.count
            let found = try JSONDecoder().decode(SearchSettings.self, from: Data(incumbent.settings.utf8))

            func evaluate(_ name: String, _ s: SearchSettings) async throws -> Double {
                var total = 0
                for run in 1...settings.evaluationRuns {
                    let tag = "\(name)-\(run)", researcherSeed = seed &+ UInt64(100 * run)
                    var options = RunOptions(tag: tag, experiments: settings.evaluationLimit, baselineRuns: 3, seed: researcherSeed)
                    options.target = settings.target
                    options.researcherFailurePause = 0
                    options.subjectEnvironment = instant
                    let loop = try ResearchLoop(workspace: workspace, researcher: try search(s, researcherSeed), options: options, display: display)
                    _ = try await loop.run()
                    total += experimentsToTarget(try loop.ledger.experiments(tag: tag), target: settings.target) ?? settings.evaluationLimit + 1
                }
                return Double(total) / Double(settings.evaluationRuns)
            }
            let row = Row(seed: seed, program: incumbent.number, programDescription: incumbent.description, settings: incumbent.settings,
                          windows: windows, defaultExperiments: try await evaluate("default", .default),
                          foundExperiments: incumbent.number == 1 ? nil : try await evaluate("found", found))
            rows.append(row)
            progress(row)
        }
        return rows
    }

    /// The table and the summary line: per seed the mean experiments to the target with the default and the found settings,
    /// then the mean reduction with its spread (min…max over seeds). A seed whose meta-loop kept nothing counts as 0 %.
    public static func report(_ rows: [Row], settings: Settings) -> String {
        func n(_ v: Double) -> String { String(format: "%.1f", v) }
        var lines = ["seed\twindows\tincumbent\tdefault\tfound\treduction\tsettings"]
        var reductions: [Double] = []
        for r in rows {
            let found = r.foundExperiments ?? r.defaultExperiments
            let reduction = 1 - found / r.defaultExperiments
            reductions.append(reduction)
            lines.append("\(r.seed)\t\(r.windows)\tprogram \(r.program)\t\(n(r.defaultExperiments))\t\(r.foundExperiments.map(n) ?? "(default)")\t"
                         + String(format: "%+.0f %%", reduction * 100) + "\t\(r.program == 1 ? "default (nothing kept)" : r.programDescription)")
        }
        guard !reductions.isEmpty else { return lines.joined(separator: "\n") }
        let mean = reductions.reduce(0, +) / Double(reductions.count)
        let sorted = reductions.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        lines.append(String(format: "fewer experiments to reach %.3g with the meta-loop's settings: mean %.0f %%, median %.0f %% (min %.0f %%, max %.0f %%) over %d seeds",
                            settings.target, mean * 100, median * 100, (sorted.first ?? 0) * 100, (sorted.last ?? 0) * 100, reductions.count))
        return lines.joined(separator: "\n")
    }
}
