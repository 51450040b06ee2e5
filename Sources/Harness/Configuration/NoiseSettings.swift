import Foundation
import TOMLKit

/// How the harness tells a real improvement from noise. Stored in the manifest's `[noise]` table.
///
/// The rule (see `Decision.judge`): a candidate is kept only when the mean of at least `confirmationRuns` runs
/// beats the best's mean by more than T = max(`minDelta`, `z` · σ · √(1/n + 1/m)) — a one-sided two-sample z-test
/// on the means of its n runs and the best's m runs, with σ one run's noise (`NoiseEstimate`). Runs disturbed by
/// machine load are left out and run again (`Disturbance`).
public struct NoiseSettings: Sendable, Equatable, Codable {
    /// How often the baseline runs at the start of a tag, to estimate σ.
    public var baselineRuns: Int = 3
    /// The smallest improvement ever kept, whatever σ is (protects a subject whose runs are deterministic).
    public var minDelta: Double = 0.002
    /// The keep threshold in standard errors of the difference of the two means. 3 gives a false-keep rate of
    /// about 0.2 % per candidate under the null (simulated with σ known; see `Decision`).
    public var z: Double = 3
    /// The fewest runs a keep rests on: a first run that clears the screen is confirmed on a new seed.
    public var confirmationRuns: Int = 2
    /// How many runs after the first a candidate may get in all (so at most 1 + maxReruns runs).
    public var maxReruns: Int = 2
    /// The hyperparameter that seeds the subject's randomness. Run r (r ≥ 1) of a commit sets it to its committed
    /// value + r·`seedStride` in the worktree (not committed), so σ measures seed-to-seed variance, not just timing
    /// jitter. Empty, or absent from the block: runs repeat the same seed.
    public var seedParameter: String = "SEED"
    public static let seedStride = 1000

    /// Before a keep, run the best again beside the candidate (`ResearchLoop.remeasureBest`).
    public var remeasureBest = true
    /// A keep of a candidate with the best's throughput signature is refused when its runs trained more than this
    /// fraction faster than the best's (`Disturbance.confounded`; time budgets only).
    public var throughputTolerance: Double = 0.05

    /// A prior guess of one run's σ, worth `priorWeight` degrees of freedom; nil: none (then `minDelta` and
    /// `sigmaFloor` are the only guards while few runs have been repeated).
    public var sigmaPrior: Double?
    public var priorWeight: Double = 4
    /// σ never goes below this.
    public var sigmaFloor: Double = 0

    /// A run is disturbed when its throughput is below `disturbedRatio` × the norm of its configuration...
    public var disturbedRatio: Double = 0.9
    /// ...and, where the harness can see the machine (local slots on Linux), other processes kept at least this
    /// many cores of the slot busy on average while it trained.
    public var disturbedLoad: Double = 0.25
    /// Runs shorter than this are never judged disturbed (their throughput is mostly start-up).
    public var disturbedMinSeconds: Double = 10
    /// How many disturbed runs one experiment may replace; after that the machine has stayed slow, the norm is out
    /// of date, and its runs are judged as they are.
    public var maxDisturbed: Int = 2

    public init(baselineRuns: Int = 3, minDelta: Double = 0.002, z: Double = 3, maxReruns: Int = 2,
                seedParameter: String = "SEED") {
        self.baselineRuns = baselineRuns; self.minDelta = minDelta
        self.z = z; self.maxReruns = maxReruns; self.seedParameter = seedParameter
    }
}

extension Manifest {
    /// Reads `[noise]`. An older manifest's `sigma_multiplier` (single-run σ units) is accepted and not used: the
    /// threshold is now `z` standard errors of the difference of means.
    static func parseNoise(_ reader: TableReader) throws -> NoiseSettings {
        var noise = NoiseSettings()
        noise.baselineRuns = try reader.optionalInt("baseline_runs") ?? noise.baselineRuns
        noise.minDelta = try reader.optionalNumber("min_delta") ?? noise.minDelta
        noise.z = try reader.optionalNumber("z") ?? noise.z
        _ = try reader.optionalNumber("sigma_multiplier")
        noise.confirmationRuns = try reader.optionalInt("confirmation_runs") ?? noise.confirmationRuns
        noise.maxReruns = try reader.optionalInt("max_reruns") ?? noise.maxReruns
        noise.seedParameter = try reader.optionalString("seed_parameter") ?? noise.seedParameter
        noise.remeasureBest = try reader.optionalBool("remeasure_best") ?? noise.remeasureBest
        noise.throughputTolerance = try reader.optionalNumber("throughput_tolerance") ?? noise.throughputTolerance
        noise.sigmaPrior = try reader.optionalNumber("sigma_prior")
        noise.priorWeight = try reader.optionalNumber("prior_weight") ?? noise.priorWeight
        noise.sigmaFloor = try reader.optionalNumber("sigma_floor") ?? noise.sigmaFloor
        noise.disturbedRatio = try reader.optionalNumber("disturbed_ratio") ?? noise.disturbedRatio
        noise.disturbedLoad = try reader.optionalNumber("disturbed_load") ?? noise.disturbedLoad
        noise.disturbedMinSeconds = try reader.optionalNumber("disturbed_min_seconds") ?? noise.disturbedMinSeconds
        noise.maxDisturbed = try reader.optionalInt("max_disturbed") ?? noise.maxDisturbed
        func require(_ ok: Bool, _ key: String, _ problem: String) throws {
            if !ok { throw HarnessError.manifestKey(key: "noise.\(key)", problem: problem) }
        }
        try require(noise.baselineRuns >= 1, "baseline_runs", "must be at least 1 (3 or more to estimate the noise).")
        try require(noise.minDelta >= 0, "min_delta", "must be 0 or more.")
        try require(noise.z > 0, "z", "must be positive (3 keeps about 0.2 % of no-op changes).")
        try require(noise.confirmationRuns >= 1, "confirmation_runs", "must be at least 1 (2 confirms every keep on a new seed).")
        try require(noise.maxReruns >= noise.confirmationRuns - 1, "max_reruns",
                    "must allow the confirmation runs: at least confirmation_runs − 1 (\(noise.confirmationRuns - 1)).")
        try require(noise.sigmaPrior.map { $0 > 0 } ?? true, "sigma_prior", "must be positive (one run's σ of the metric).")
        try require(noise.priorWeight >= 0, "prior_weight", "must be 0 or more (degrees of freedom).")
        try require(noise.sigmaFloor >= 0, "sigma_floor", "must be 0 or more.")
        try require(noise.throughputTolerance >= 0, "throughput_tolerance", "must be 0 or more (0.05: 5 % faster than the best).")
        try require(noise.disturbedRatio > 0 && noise.disturbedRatio <= 1, "disturbed_ratio", "must be in (0, 1]; 0.9 flags runs 10 % slower than their norm.")
        try require(noise.disturbedLoad >= 0, "disturbed_load", "must be 0 or more cores.")
        try require(noise.disturbedMinSeconds >= 0, "disturbed_min_seconds", "must be 0 or more seconds.")
        try require(noise.maxDisturbed >= 0, "max_disturbed", "must be 0 or more.")
        return noise
    }

    func renderNoise() -> [String] {
        var lines = ["[noise]"]
        lines.append("# A change is kept only if the mean of at least confirmation_runs runs beats the best's mean by more than")
        lines.append("# max(min_delta, z × σ × √(1/n + 1/m)) (n, m: the runs of each); a first run that beats the best by σ is")
        lines.append("# confirmed on a new seed, at most 1 + max_reruns runs in all. σ pools every repeated run of this manifest")
        lines.append("# (robustly, weighted towards the best), with sigma_prior worth prior_weight runs. The baseline runs")
        lines.append("# baseline_runs times; run r of a commit sets seed_parameter to its value + 1000·r.")
        lines.append("baseline_runs = \(noise.baselineRuns)")
        lines.append("min_delta = \(tomlNumber(noise.minDelta))")
        lines.append("z = \(tomlNumber(noise.z))")
        lines.append("confirmation_runs = \(noise.confirmationRuns)")
        lines.append("max_reruns = \(noise.maxReruns)")
        lines.append("seed_parameter = \(tomlString(noise.seedParameter))")
        lines.append("# Before a keep the best runs again beside the candidate (as often as it ran); fresh runs that disagree")
        lines.append("# with its recorded ones (by more than 2σ·√(1/k + 1/m)) replace them.")
        lines.append("remeasure_best = \(noise.remeasureBest)")
        lines.append("# A keep whose configuration costs what the best's does per step, but whose runs trained more than")
        lines.append("# throughput_tolerance faster, is refused: the machine made the difference.")
        lines.append("throughput_tolerance = \(tomlNumber(noise.throughputTolerance))")
        if let prior = noise.sigmaPrior { lines.append("sigma_prior = \(tomlNumber(prior))") }
        lines.append("prior_weight = \(tomlNumber(noise.priorWeight))")
        lines.append("sigma_floor = \(tomlNumber(noise.sigmaFloor))")
        lines.append("# A run is disturbed (left out, run again) when its steps/s fall below disturbed_ratio × the norm of its")
        lines.append("# configuration on its slot kind while other processes kept at least disturbed_load cores busy.")
        lines.append("disturbed_ratio = \(tomlNumber(noise.disturbedRatio))")
        lines.append("disturbed_load = \(tomlNumber(noise.disturbedLoad))")
        lines.append("disturbed_min_seconds = \(tomlNumber(noise.disturbedMinSeconds))")
        lines.append("max_disturbed = \(noise.maxDisturbed)")
        return lines
    }
}
