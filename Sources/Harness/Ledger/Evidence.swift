import AutoResearchCore
import Foundation

/// One training run of an experiment as the harness measured it: its metric, its throughput and the machine's
/// load while it trained, and whether it was disturbed (then left out of σ and of the decision, and run again).
public struct RunMeasurement: Sendable, Equatable, Codable {
    /// The metric of the run.
    public var metric: Double
    /// Seconds the training phase took (the harness's clock).
    public var seconds: Double?
    /// Optimizer steps the trainer reports; steps/s is the throughput compared (tokens per step are fixed by the
    /// configuration, which the comparison holds equal).
    public var steps: Int?
    /// Tokens per second (the trainer's token count over the harness's seconds), for people.
    public var tokensPerSecond: Double?
    /// Cores other processes kept busy on the slot's cores while it trained, on average (Linux local slots; nil elsewhere).
    public var foreignLoad: Double?
    /// The median of `MachineProbe`'s timings while it trained (milliseconds of thread CPU time; local slots only).
    public var probeMilliseconds: Double?
    /// Set when the run was judged disturbed, with why.
    public var disturbed: String?

    public init(metric: Double, seconds: Double? = nil, steps: Int? = nil, tokensPerSecond: Double? = nil,
                foreignLoad: Double? = nil, probeMilliseconds: Double? = nil, disturbed: String? = nil) {
        self.metric = metric; self.seconds = seconds; self.steps = steps; self.tokensPerSecond = tokensPerSecond
        self.foreignLoad = foreignLoad; self.probeMilliseconds = probeMilliseconds; self.disturbed = disturbed
    }

    /// Steps per second; nil without steps or time.
    public var stepsPerSecond: Double? {
        guard let steps, let seconds, seconds > 0, steps > 0 else { return nil }
        return Double(steps) / seconds
    }
}

/// What a decision was based on; stored as JSON in the ledger with every experiment.
public struct DecisionEvidence: Sendable, Equatable, Codable {
    /// The candidate's metric, one value per undisturbed run: the values the decision and σ use.
    public var runs: [Double]
    /// Their mean, the value the decision uses.
    public var mean: Double
    /// The best commit's metric (mean of its runs) the candidate was compared with; nil for the baseline.
    public var best: Double?
    /// How many runs the best's mean rests on (m in the threshold).
    public var bestRuns: Int?
    /// The noise σ of one run (`NoiseEstimate`); nil while unknown.
    public var sigma: Double?
    /// How many repeated runs σ rests on (their degrees of freedom, weighted), and whether a prior took part.
    public var sigmaRuns: Double?
    /// The improvement needed: max(minDelta, z · σ · √(1/n + 1/m)).
    public var threshold: Double
    /// How much the mean beats the best (positive = better, whichever the direction).
    public var improvement: Double?
    /// "keep", "discard", "rerun" or "baseline".
    public var verdict: String
    /// One sentence a person can read.
    public var reason: String
    /// Every training run, disturbed ones included, in order; nil in ledgers written before runs were measured.
    public var measurements: [RunMeasurement]?
    /// The throughput signature of the configuration (`Disturbance.signature`).
    public var signature: String?
}
