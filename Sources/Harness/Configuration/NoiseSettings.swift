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

extension NoiseSettings {
    /// The `[noise]` table's keys (`ManifestSchema`).
    static var keys: [ManifestKey<NoiseSettings>] {
        [.int("baseline_runs", \.baselineRuns, "How often the baseline runs at the start of a tag, to estimate σ.",
              check: { $0 >= 1 }, problem: "must be at least 1 (3 or more to estimate the noise)."),
         .number("min_delta", \.minDelta, "The smallest improvement ever kept, whatever σ is.", check: { $0 >= 0 }, problem: "must be 0 or more."),
         .number("z", \.z, "A change is kept only if the mean of its runs beats the best's mean by more than max(min_delta, z × σ × √(1/n + 1/m)), n and m the runs of each.",
                 check: { $0 > 0 }, problem: "must be positive (3 keeps about 0.2 % of no-op changes)."),
         .retired("sigma_multiplier", type: "number", "Accepted from older manifests and not used: the threshold is z standard errors of the difference of means."),
         .int("confirmation_runs", \.confirmationRuns, "The fewest runs a keep rests on: a first run that beats the best by σ is confirmed on a new seed.",
              check: { $0 >= 1 }, problem: "must be at least 1 (2 confirms every keep on a new seed)."),
         .int("max_reruns", \.maxReruns, "Runs after the first a candidate may get in all (at most 1 + max_reruns runs)."),
         .string("seed_parameter", \.seedParameter, "The hyperparameter that seeds the subject: run r of a commit sets it to its value + 1000·r."),
         .bool("remeasure_best", \.remeasureBest, "Before a keep the best runs again beside the candidate; fresh runs that disagree with its recorded ones (by more than 2σ·√(1/k + 1/m)) replace them."),
         .number("throughput_tolerance", \.throughputTolerance, "A keep whose configuration costs what the best's does per step, but whose runs trained more than this fraction faster, is refused: the machine made the difference.",
                 check: { $0 >= 0 }, problem: "must be 0 or more (0.05: 5 % faster than the best)."),
         .optionalNumber("sigma_prior", \.sigmaPrior, "A prior guess of one run's σ, worth prior_weight runs; absent: none.",
                         check: { $0 > 0 }, problem: "must be positive (one run's σ of the metric)."),
         .number("prior_weight", \.priorWeight, "The prior's weight in degrees of freedom. σ pools every repeated run of this manifest, robustly, weighted towards the best.",
                 check: { $0 >= 0 }, problem: "must be 0 or more (degrees of freedom)."),
         .number("sigma_floor", \.sigmaFloor, "σ never goes below this.", check: { $0 >= 0 }, problem: "must be 0 or more."),
         .number("disturbed_ratio", \.disturbedRatio, "A run is disturbed (left out, run again) when its steps/s fall below disturbed_ratio × the norm of its configuration on its slot kind…",
                 check: { $0 > 0 && $0 <= 1 }, problem: "must be in (0, 1]; 0.9 flags runs 10 % slower than their norm."),
         .number("disturbed_load", \.disturbedLoad, "…while other processes kept at least this many cores busy (or the machine probe ran slow).",
                 check: { $0 >= 0 }, problem: "must be 0 or more cores."),
         .number("disturbed_min_seconds", \.disturbedMinSeconds, "Runs shorter than this are never judged disturbed (their throughput is mostly start-up).",
                 check: { $0 >= 0 }, problem: "must be 0 or more seconds."),
         .int("max_disturbed", \.maxDisturbed, "How many disturbed runs one experiment may replace.", check: { $0 >= 0 }, problem: "must be 0 or more.")]
    }
}

extension Manifest {
    /// Reads `[noise]` from its keys, then the check that spans two of them.
    static func parseNoise(_ reader: TableReader) throws -> NoiseSettings {
        var noise = NoiseSettings()
        try ManifestSchema.read(NoiseSettings.keys, from: reader, into: &noise)
        guard noise.maxReruns >= noise.confirmationRuns - 1 else {
            throw HarnessError.manifestKey(key: "noise.max_reruns",
                                           problem: "must allow the confirmation runs: at least confirmation_runs − 1 (\(noise.confirmationRuns - 1)).")
        }
        return noise
    }

    func renderNoise() -> [String] {
        ManifestSchema.render("noise", comment: ["How a real improvement is told from noise (see README.md, \"How an experiment is decided\")."], NoiseSettings.keys, noise)
    }
}
