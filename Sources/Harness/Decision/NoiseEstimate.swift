import Foundation

/// One run's noise σ of the metric, pooled over every repeated measurement a workspace has, robustly, weighted
/// towards the configurations near the current best, and shrunk towards a prior while there are few of them.
///
/// The estimator: each group of n ≥ 2 runs of one commit gives n residuals rᵢ = (xᵢ − x̄)·√(n/(n−1)), each of
/// variance σ²; with weights w (per group) the robust scale is s = 1.4826 · weighted-median(|r|) (the normal-consistent
/// median absolute deviation: one run that went wrong cannot blow σ up, nor can a lucky tie collapse it while other
/// groups disagree). The data's weight is d = Σ w·(n − 1) degrees of freedom; with a prior σ₀ worth ν₀ of them,
/// σ² = (d·s² + ν₀·σ₀²) / (d + ν₀) (the conjugate update of a scaled inverse-χ² prior); finally σ ≥ the floor.
/// Source: Rousseeuw & Croux (1993), "Alternatives to the median absolute deviation"; Gelman et al., Bayesian
/// Data Analysis, §3.3 (normal variance with a scaled inverse-χ² prior).
public struct NoiseEstimate: Sendable, Equatable {
    /// Repeated runs of one commit, and how much they count.
    public struct Group: Sendable, Equatable {
        public var runs: [Double]
        public var weight: Double
        public init(runs: [Double], weight: Double) { self.runs = runs; self.weight = weight }
    }

    /// The σ decisions use.
    public var sigma: Double
    /// The data's weighted degrees of freedom (0 when only the prior speaks).
    public var runs: Double
    /// Groups of repeated runs that took part, and runs in them.
    public var groups: Int
    public var samples: Int
    /// The robust scale of the data alone; nil without data.
    public var measured: Double?
    /// The prior that took part, if any.
    public var prior: Double?
    /// The weight of the prior in degrees of freedom.
    public var priorWeight: Double

    /// The groups of repeated runs in `records` (decided experiments of the tags sharing a manifest) on slots of
    /// `kind` (of any kind when none of them has repeats, or `kind` is nil). Weights: 1 for the `best` commit of `tag`
    /// and the candidates built on it, ½ for the rest of `tag`, ¼ for other tags.
    public static func groups(_ records: [ExperimentRecord], tag: String, best: String, kind: String?) -> [Group] {
        func groups(_ of: [ExperimentRecord]) -> [Group] {
            of.compactMap { record in
                guard let runs = record.decisionEvidence?.runs, runs.count >= 2 else { return nil }
                let near = record.tag == tag && (record.commit == best || record.parentCommit == best)
                return Group(runs: runs, weight: near ? 1 : record.tag == tag ? 0.5 : 0.25)
            }
        }
        let ofKind = kind.map { kind in groups(records.filter { $0.slotKind == kind }) } ?? []
        return ofKind.isEmpty ? groups(records) : ofKind
    }

    /// The estimate from `groups` (groups of fewer than two runs or zero weight are ignored); nil when there is
    /// neither data nor a prior.
    public static func estimate(_ groups: [Group], settings: NoiseSettings) -> NoiseEstimate? {
        var residuals: [(value: Double, weight: Double)] = []
        var dof = 0.0, used = 0, samples = 0
        for group in groups where group.runs.count >= 2 && group.weight > 0 {
            let n = Double(group.runs.count)
            let mean = group.runs.reduce(0, +) / n
            let scale = (n / (n - 1)).squareRoot()
            residuals += group.runs.map { (abs($0 - mean) * scale, group.weight) }
            dof += group.weight * (n - 1)
            used += 1; samples += group.runs.count
        }
        let measured = residuals.isEmpty ? nil : 1.4826 * weightedMedian(residuals)
        let prior = settings.sigmaPrior
        let priorWeight = prior == nil ? 0 : settings.priorWeight
        let variance: Double
        if let measured, let prior, dof + priorWeight > 0 {
            variance = (dof * measured * measured + priorWeight * prior * prior) / (dof + priorWeight)
        } else if let measured {
            variance = measured * measured
        } else if let prior {
            variance = prior * prior
        } else {
            return nil
        }
        return NoiseEstimate(sigma: max(settings.sigmaFloor, variance.squareRoot()), runs: dof, groups: used, samples: samples,
                             measured: measured, prior: prior, priorWeight: priorWeight)
    }

    /// The smallest value whose cumulative weight reaches half the total (the lower weighted median).
    static func weightedMedian(_ values: [(value: Double, weight: Double)]) -> Double {
        let sorted = values.sorted { $0.value < $1.value }
        let half = sorted.reduce(0) { $0 + $1.weight } / 2
        var cumulative = 0.0
        for (i, item) in sorted.enumerated() {
            cumulative += item.weight
            if cumulative > half { return item.value }
            if cumulative == half, i + 1 < sorted.count { return (item.value + sorted[i + 1].value) / 2 }
        }
        return sorted.last?.value ?? 0
    }

    /// "0.007215 from 14 runs of 6 commits (8.5 weighted dof) and the prior 0.008 (worth 4)".
    public var summary: String {
        var text = String(format: "%.6f", sigma)
        if samples > 0 {
            text += " from \(samples) runs of \(groups) commit\(groups == 1 ? "" : "s") (\(String(format: "%.1f", runs)) weighted dof"
            text += measured.map { String(format: ", robust %.6f", $0) } ?? ""
            text += ")"
        }
        if let prior { text += (samples > 0 ? " and" : " from") + " the prior \(String(format: "%.6f", prior)) (worth \(Decision.clean(priorWeight)) dof)" }
        return text
    }
}
