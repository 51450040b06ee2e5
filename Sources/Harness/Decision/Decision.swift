import Foundation

/// The outcome of judging a candidate's runs so far.
public enum Verdict: String, Sendable, Equatable {
    case keep, discard
    /// Run it again (to confirm a promising first run, or because the mean is borderline) and judge the mean.
    case rerun
}

/// The decision rule. Pure functions, so every case is testable without running anything.
///
/// A sequential one-sided two-sample z-test on means. With n runs of the candidate (mean x̄), m runs of the best
/// (mean b̄), σ one run's noise and Δ = b̄ − x̄ (lower is better; flipped otherwise):
/// - n < confirmationRuns: Δ ≥ screen = max(minDelta / 2, σ) → run again (confirm on a new seed); else discard;
/// - n ≥ confirmationRuns: Δ > T(n) = max(minDelta, z · σ · √(1/n + 1/m)) → keep; T(n)/2 ≤ Δ and n < 1 + maxReruns →
///   run again; else discard.
/// Under the null (no real change; σ known), z = 3, m = 3, confirmation on 2 and at most 3 runs, this keeps
/// 0.21 % of candidates (`DecisionTests.falseKeepRateUnderTheNull` simulates it); a real gain of 3σ is kept 76 %,
/// 4σ 97 % of the time, for about 1.25 runs per no-op candidate and 2.3 per good one. Before a keep the loop
/// re-measures the best beside the candidate and judges again (`ResearchLoop.remeasureBest`), which only removes keeps.
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
    public static func pooledSigma(_ groups: [[Double]]) -> Double? {
        var ss = 0.0, dof = 0
        for group in groups where group.count >= 2 {
            let mean = group.reduce(0, +) / Double(group.count)
            ss += group.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            dof += group.count - 1
        }
        return dof > 0 ? (ss / Double(dof)).squareRoot() : nil
    }

    /// The improvement n runs of a candidate must exceed against m runs of the best:
    /// max(minDelta, z · σ · √(1/n + 1/m)). By default n = confirmationRuns and m = baselineRuns (what a
    /// researcher is told it must beat).
    public static func threshold(sigma: Double?, settings: NoiseSettings, runs: Int? = nil, bestRuns: Int? = nil) -> Double {
        let n = Double(max(1, runs ?? settings.confirmationRuns)), m = Double(max(1, bestRuns ?? settings.baselineRuns))
        return max(settings.minDelta, settings.z * (sigma ?? 0) * (1 / n + 1 / m).squareRoot())
    }

    /// Judges a candidate's undisturbed runs against the best so far (the rule above).
    /// - Parameters:
    ///   - runs: the candidate's metric, one value per undisturbed run so far (not empty).
    ///   - best: the best commit's metric (the mean of its runs); `bestRuns` how many runs that mean rests on.
    ///   - sigma: the noise σ of one run, or nil when unknown (then only minDelta guards).
    public static func judge(runs: [Double], best: Double, bestRuns: Int = 1, sigma: Double?, settings: NoiseSettings,
                             direction: Manifest.Direction) -> (verdict: Verdict, evidence: DecisionEvidence) {
        precondition(!runs.isEmpty, "judge needs at least one run")
        let n = runs.count
        let mean = runs.reduce(0, +) / Double(n)
        let improvement = direction == .lower ? best - mean : mean - best
        let t = threshold(sigma: sigma, settings: settings, runs: max(n, settings.confirmationRuns), bestRuns: bestRuns)
        let s = sigma ?? 0
        let canRerun = n < 1 + settings.maxReruns
        let verdict: Verdict
        let reason: String
        let delta = String(format: "%.6f", improvement), thr = String(format: "%.6f", t)
        if n < settings.confirmationRuns {
            let screen = max(settings.minDelta / 2, s)
            if improvement >= screen && canRerun {
                verdict = .rerun
                reason = "improvement \(delta) on \(n) run(s) is promising (≥ \(String(format: "%.6f", screen))); confirming it on a new seed"
            } else {
                verdict = .discard
                reason = improvement > 0
                    ? "improvement \(delta) is within noise (needs \(String(format: "%.6f", screen)) to be confirmed, \(thr) to be kept)"
                    : "no improvement (\(delta)) over \(n) run(s)"
            }
        } else if improvement > t {
            verdict = .keep
            reason = "mean improvement \(delta) over \(n) runs beats the threshold \(thr) (z \(clean(settings.z)) against \(bestRuns) run(s) of the best)"
        } else if improvement >= t / 2 && canRerun {
            verdict = .rerun
            reason = "mean improvement \(delta) over \(n) runs is borderline against the threshold \(thr); running again"
        } else {
            verdict = .discard
            reason = improvement > 0
                ? "mean improvement \(delta) over \(n) runs is within noise (threshold \(thr))"
                : "no improvement (\(delta)) over \(n) run(s)"
        }
        let evidence = DecisionEvidence(runs: runs, mean: mean, best: best, bestRuns: bestRuns, sigma: sigma, threshold: t,
                                        improvement: improvement, verdict: verdict.rawValue, reason: reason)
        return (verdict, evidence)
    }

    /// The evidence stored for the baseline: its runs, their mean and the σ they give.
    public static func baselineEvidence(runs: [Double], sigma: NoiseEstimate?, settings: NoiseSettings) -> DecisionEvidence {
        let own = sampleStandardDeviation(runs)
        let mean = runs.reduce(0, +) / Double(runs.count)
        let ownText = own.map { String(format: "%.6f", $0) } ?? "unknown (one run)"
        let sigmaText = sigma.map { "; noise σ \($0.summary)" } ?? ""
        return DecisionEvidence(runs: runs, mean: mean, best: nil, bestRuns: nil, sigma: sigma?.sigma ?? own, sigmaRuns: sigma?.runs,
                                threshold: threshold(sigma: sigma?.sigma ?? own, settings: settings, bestRuns: runs.count), improvement: nil,
                                verdict: "baseline", reason: "baseline over \(runs.count) run(s), their own spread \(ownText)\(sigmaText)")
    }

    static func clean(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }
}
