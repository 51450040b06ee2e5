import Foundation

/// How the harness tells a real improvement from noise. Stored in the manifest's `[noise]` table.
///
/// Defaults: the baseline runs 3 times; a change must beat the best by more than
/// `max(minDelta, 2σ)`; a borderline change is re-run up to 2 more times.
/// `minDelta` = 0.002 is the floor that still protects a subject whose runs are bit-for-bit
/// deterministic (σ = 0): about 0.1–0.2 % of a typical val_bpb, the size of the smallest gains
/// autoresearch reports keeping, and below what a seed change alone moves a small model's val_bpb.
public struct NoiseSettings: Sendable, Equatable, Codable {
    /// How often the baseline runs at the start of a tag, to estimate σ.
    public var baselineRuns: Int = 3
    /// The smallest improvement ever kept, whatever σ is.
    public var minDelta: Double = 0.002
    /// The threshold in units of σ.
    public var sigmaMultiplier: Double = 2
    /// How many extra runs a borderline candidate may get.
    public var maxReruns: Int = 2
    /// The hyperparameter that seeds the subject's randomness. Run r (r ≥ 1) of a commit — a baseline
    /// noise run or a borderline re-run — sets it to its committed value + r·`seedStride` in the worktree
    /// (not committed), so σ measures seed-to-seed variance, not just timing jitter: a change that is
    /// a lucky seed is then within the noise. Empty, or absent from the block: runs repeat the same seed.
    public var seedParameter: String = "SEED"
    public static let seedStride = 1000

    public init(baselineRuns: Int = 3, minDelta: Double = 0.002, sigmaMultiplier: Double = 2, maxReruns: Int = 2,
                seedParameter: String = "SEED") {
        self.baselineRuns = baselineRuns; self.minDelta = minDelta
        self.sigmaMultiplier = sigmaMultiplier; self.maxReruns = maxReruns; self.seedParameter = seedParameter
    }
}

/// What a decision was based on; stored as JSON in the ledger with every experiment.
public struct DecisionEvidence: Sendable, Equatable, Codable {
    /// The candidate's metric, one value per run.
    public var runs: [Double]
    /// Their mean, the value the decision uses.
    public var mean: Double
    /// The best commit's metric (mean of its runs) the candidate was compared with; nil for the baseline.
    public var best: Double?
    /// The noise σ of one run, pooled over every commit run more than once so far; nil while unknown.
    public var sigma: Double?
    /// The improvement needed: max(minDelta, sigmaMultiplier × σ).
    public var threshold: Double
    /// How much the mean beats the best (positive = better, whichever the direction).
    public var improvement: Double?
    /// "keep", "discard", "rerun" or "baseline".
    public var verdict: String
    /// One sentence a person can read.
    public var reason: String
}

/// The outcome of judging a candidate's runs so far.
public enum Verdict: String, Sendable, Equatable {
    case keep, discard
    /// Borderline: run it again and judge the mean.
    case rerun
}

/// The decision rule. Pure functions, so every case is testable without running anything.
public enum Decision {
    /// Sample standard deviation (n − 1); nil for fewer than two values.
    public static func sampleStandardDeviation(_ values: [Double]) -> Double? {
        guard values.count >= 2 else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        let ss = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (ss / Double(values.count - 1)).squareRoot()
    }

    /// The σ of one run pooled over groups of repeated runs of the same commit:
    /// sqrt(Σ squared deviations from each group's mean / Σ (nᵢ − 1)). Nil when no group has two runs.
    /// The baseline's runs start it; every re-run of a candidate refines it.
    public static func pooledSigma(_ groups: [[Double]]) -> Double? {
        var ss = 0.0, dof = 0
        for group in groups where group.count >= 2 {
            let mean = group.reduce(0, +) / Double(group.count)
            ss += group.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            dof += group.count - 1
        }
        return dof > 0 ? (ss / Double(dof)).squareRoot() : nil
    }

    /// The improvement a candidate must exceed: max(minDelta, sigmaMultiplier × σ).
    public static func threshold(sigma: Double?, settings: NoiseSettings) -> Double {
        max(settings.minDelta, settings.sigmaMultiplier * (sigma ?? 0))
    }

    /// Judges a candidate's runs against the best so far.
    ///
    /// With improvement Δ = best − mean (for a lower-is-better metric) and threshold T:
    /// - Δ > T + σ: keep (clear of the threshold by more than one run's noise);
    /// - T/2 ≤ Δ ≤ T + σ: borderline; re-run while fewer than 1 + maxReruns runs exist,
    ///   then keep only if the mean's Δ > T;
    /// - Δ < T/2: discard.
    /// - Parameters:
    ///   - runs: the candidate's metric, one value per run so far (not empty).
    ///   - best: the best commit's metric (the mean of its runs).
    ///   - sigma: the noise σ of one run, or nil when unknown (then only minDelta guards).
    public static func judge(runs: [Double], best: Double, sigma: Double?, settings: NoiseSettings,
                             direction: Manifest.Direction) -> (verdict: Verdict, evidence: DecisionEvidence) {
        precondition(!runs.isEmpty, "judge needs at least one run")
        let mean = runs.reduce(0, +) / Double(runs.count)
        let improvement = direction == .lower ? best - mean : mean - best
        let t = threshold(sigma: sigma, settings: settings)
        let s = sigma ?? 0
        let canRerun = runs.count < 1 + settings.maxReruns
        let verdict: Verdict
        let reason: String
        let delta = String(format: "%.6f", improvement), thr = String(format: "%.6f", t)
        if improvement > t + s {
            verdict = .keep
            reason = "improvement \(delta) is clear of the threshold \(thr) (+1σ) over \(runs.count) run(s)"
        } else if improvement >= t / 2 && canRerun {
            verdict = .rerun
            reason = "improvement \(delta) is borderline against the threshold \(thr); running again"
        } else if improvement > t {
            verdict = .keep
            reason = "mean improvement \(delta) over \(runs.count) runs beats the threshold \(thr)"
        } else {
            verdict = .discard
            reason = improvement > 0
                ? "improvement \(delta) is within noise (threshold \(thr)) over \(runs.count) run(s)"
                : "no improvement (\(delta)) over \(runs.count) run(s)"
        }
        let evidence = DecisionEvidence(runs: runs, mean: mean, best: best, sigma: sigma, threshold: t,
                                        improvement: improvement, verdict: verdict.rawValue, reason: reason)
        return (verdict, evidence)
    }

    /// The evidence stored for the baseline: its runs, their mean and the σ they give.
    public static func baselineEvidence(runs: [Double], settings: NoiseSettings) -> DecisionEvidence {
        let sigma = sampleStandardDeviation(runs)
        let mean = runs.reduce(0, +) / Double(runs.count)
        let sigmaText = sigma.map { String(format: "%.6f", $0) } ?? "unknown (one run)"
        return DecisionEvidence(runs: runs, mean: mean, best: nil, sigma: sigma,
                                threshold: threshold(sigma: sigma, settings: settings), improvement: nil,
                                verdict: "baseline", reason: "baseline over \(runs.count) run(s); noise σ \(sigmaText)")
    }
}
