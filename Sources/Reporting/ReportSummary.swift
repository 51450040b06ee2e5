import AutoResearchCore
import Foundation

/// The numbers of a report, computed from the experiments of one tag.
///
/// - Baseline: the mean metric of the `baseline` runs (several when the noise was measured); without
///   any, the first kept experiment's metric.
/// - Best: the best metric (lowest, or highest for a higher-is-better metric) among baseline and kept runs.
/// - A kept experiment's delta: how much better it made the running best (positive = better).
/// Experiments are taken in `number` order.
public struct ReportSummary: Sendable, Equatable {
    /// What one kept experiment brought.
    public struct Improvement: Sendable, Equatable {
        public var outcome: ExperimentOutcome
        /// The best metric before this experiment.
        public var previousBest: Double
        /// How much better it made the best: `previousBest - metric`, or `metric - previousBest` when higher is better.
        public var delta: Double
    }

    /// Finished experiments: baseline, keep, discard and crash runs (the rows of results.tsv).
    public var experiments: Int
    /// Runs with status `baseline`.
    public var baselineRuns: Int
    /// Runs with status `keep` (improvements; the baseline is not counted).
    public var keeps: Int
    /// Runs with status `discard`.
    public var discards: Int
    /// Runs with status `crash`.
    public var crashes: Int
    /// Proposals that never ran because the researcher failed.
    public var researcherErrors: Int
    /// The baseline metric (see above), nil without any baseline or kept run.
    public var baseline: Double?
    /// The best metric, nil without any baseline or kept run.
    public var best: Double?
    /// The experiment that holds the best metric (nil when the baseline is still the best).
    public var bestOutcome: ExperimentOutcome?
    /// The gain of the best over the baseline as a percentage of the baseline (positive = better).
    public var improvementPercent: Double?
    /// `keeps / (keeps + discards + crashes)`, in 0...1; nil before any such experiment.
    public var keepRate: Double?
    /// The noise σ given to `init`, in metric units.
    public var noiseSigma: Double?
    /// Kept experiments, largest delta first (ties: lower number first).
    public var improvements: [Improvement]

    /// Computes the summary of `outcomes` (any order); `noiseSigma` is only carried along.
    public init(outcomes: [ExperimentOutcome], noiseSigma: Double?, scale: MetricScale = .valBPB) {
        let sorted = outcomes.enumerated().sorted { ($0.element.number, $0.offset) < ($1.element.number, $1.offset) }.map(\.element)
        let count = { (s: ExperimentStatus) in sorted.filter { $0.status == s }.count }
        baselineRuns = count(.baseline); keeps = count(.keep); discards = count(.discard); crashes = count(.crash)
        researcherErrors = count(.researcherError)
        experiments = baselineRuns + keeps + discards + crashes
        self.noiseSigma = noiseSigma
        let baselineMetrics = sorted.filter { $0.status == .baseline }.compactMap(\.metric)
        let baseline = baselineMetrics.isEmpty ? sorted.first { $0.status == .keep && $0.metric != nil }?.metric
                                               : baselineMetrics.reduce(0, +) / Double(baselineMetrics.count)
        self.baseline = baseline
        var running = baseline
        var bestOutcome: ExperimentOutcome?
        var improvements: [Improvement] = []
        for outcome in sorted where outcome.status == .keep {
            guard let metric = outcome.metric else { continue }
            if let before = running {
                improvements.append(Improvement(outcome: outcome, previousBest: before, delta: scale.gain(metric, over: before)))
                if scale.better(metric, than: before) { running = metric; bestOutcome = outcome }
            } else {
                running = metric
            }
        }
        best = running
        self.bestOutcome = bestOutcome
        if let baseline, let best = running, baseline != 0 {
            improvementPercent = scale.gain(best, over: baseline) / abs(baseline) * 100
        } else {
            improvementPercent = nil
        }
        let decided = keeps + discards + crashes
        keepRate = decided > 0 ? Double(keeps) / Double(decided) : nil
        self.improvements = improvements.enumerated().sorted {
            ($0.element.delta, -$0.offset) > ($1.element.delta, -$1.offset)
        }.map(\.element)
    }
}
