import AutoResearchCore
import Foundation
import SearchResearcher

/// Runs disturbed by machine load: detected, left out of σ and of decisions, and run again.
///
/// The rule (time budgets only: under a token budget the machine's speed cannot move the metric). A run of at least
/// `disturbedMinSeconds` is disturbed when
/// 1. its throughput (optimizer steps per second of the training phase, timed by the harness) is below
///    `disturbedRatio` × the norm of its configuration: the median of the three fastest of the latest eight other
///    runs with the same throughput signature on the same slot kind (this experiment's other runs and the
///    workspace's history), and
/// 2. the harness saw the machine slowed (only where it can see it: a local slot on Linux; elsewhere no run is judged
///    disturbed, since the steps are the trainer's own report and must not drop a run alone): other processes kept at least
///    `disturbedLoad` cores of the slot busy on average (`MachineLoad`), or its probe (`MachineProbe`) ran slower than
///    `disturbedRatio` × its norm (the same median of the three fastest of the latest eight runs on the slot kind,
///    of any configuration: the probe does not depend on it).
/// Like is compared with like: the signature hashes the editable files with every floating-point hyperparameter and
/// the seed masked, since those do not change the cost of a step while sizes, choices and code do. The second
/// condition is measured by the harness alone, so a trainer cannot get its unlucky runs dropped by running slowly.
public enum Disturbance {
    /// How many recent runs of a configuration make its norm, and how many of the fastest of them are averaged.
    public static let window = 8
    public static let fastest = 3

    /// The throughput signature of a configuration: the editable files with floating-point hyperparameters and the
    /// seed parameter masked.
    public static func signature(files: [String: String], seedParameter: String) -> String {
        var masked: [String: String] = [:]
        for (path, source) in files {
            guard let block = try? HyperparameterBlock.parse(source, path: path) else { masked[path] = source; continue }
            var text = source
            for parameter in block.parameters {
                if parameter.name == seedParameter, case .int = parameter.value {
                    text = block.replacing(parameter.name, with: .int(0), in: text)
                } else if case .double = parameter.value {
                    text = block.replacing(parameter.name, with: .double(0), in: text)
                }
            }
            masked[path] = text
        }
        return String(filesFingerprint(masked).prefix(16))
    }

    /// The norm of a configuration from throughputs, latest first: the median of the `fastest` fastest of the
    /// latest `window`. Nil without any.
    public static func norm(_ latestFirst: [Double]) -> Double? {
        let top = latestFirst.prefix(window).sorted(by: >).prefix(fastest)
        guard !top.isEmpty else { return nil }
        let sorted = Array(top).sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Marks the disturbed runs among one experiment's `runs` (in order). `history` holds the steps/s of earlier runs
    /// of the same signature and slot kind, latest first. A mark once set stays (new runs can only raise a norm).
    /// `probeHistory` holds the probe timings (ms) of earlier runs on the slot kind, of any configuration, latest first.
    public static func mark(_ runs: inout [RunMeasurement], history: [Double], probeHistory: [Double] = [], settings: NoiseSettings) {
        for i in runs.indices where runs[i].disturbed == nil {
            guard let speed = runs[i].stepsPerSecond, let seconds = runs[i].seconds, seconds >= settings.disturbedMinSeconds else { continue }
            let others = runs.indices.reversed().filter { $0 != i }
            guard let norm = Disturbance.norm(others.compactMap { runs[$0].stepsPerSecond } + history), speed < settings.disturbedRatio * norm else { continue }
            // The machine's own evidence, in probe speed (1/ms) so that "the fastest" means the same as for steps.
            let probeNorm = Disturbance.norm((others.compactMap { runs[$0].probeMilliseconds } + probeHistory).map { 1 / $0 })
            let load = runs[i].foreignLoad, probe = runs[i].probeMilliseconds
            let loaded = load.map { $0 >= settings.disturbedLoad }
            let slowed = probe.flatMap { p in probeNorm.map { 1 / p < settings.disturbedRatio * $0 } }
            // Steps are the trainer's own word: they never drop a run alone. Where the harness cannot see the machine
            // (a Slurm node, macOS) no run is judged disturbed (the red team's finding 11).
            guard loaded == true || slowed == true else { continue }
            var why: [String] = []
            if loaded == true, let load { why.append(String(format: "other processes kept %.2f cores busy", load)) }
            if slowed == true, let probe, let probeNorm { why.append(String(format: "the machine probe took %.2f ms against its norm %.2f ms", probe, 1 / probeNorm)) }
            runs[i].disturbed = String(format: "%.2f steps/s is %.0f%% of the norm of this configuration (%.2f)", speed, 100 * speed / norm, norm)
                + (why.isEmpty ? "" : " while " + why.joined(separator: " and "))
        }
    }
}

extension Disturbance {
    /// Under a time budget a run that trains faster sees more tokens. When a candidate and the best have the same
    /// throughput signature (the same cost per step: a changed learning rate, say), their steps/s must agree; a
    /// candidate whose runs went more than `tolerance` faster than the best's was helped by the machine, not by the
    /// change. Returns why the comparison is confounded, or nil. Only the direction that favours the candidate counts.
    /// Runs shorter than `minSeconds` do not count (their steps/s is mostly start-up).
    public static func confounded(candidate: [RunMeasurement], best: [RunMeasurement], tolerance: Double, minSeconds: Double = 0) -> String? {
        let judged = { (m: RunMeasurement) in m.disturbed == nil && (m.seconds ?? 0) >= minSeconds }
        let c = candidate.filter(judged).compactMap(\.stepsPerSecond)
        let b = best.filter(judged).compactMap(\.stepsPerSecond)
        guard !c.isEmpty, !b.isEmpty else { return nil }
        let cm = c.reduce(0, +) / Double(c.count), bm = b.reduce(0, +) / Double(b.count)
        guard cm > (1 + tolerance) * bm else { return nil }
        return String(format: "its runs trained at %.2f steps/s against the best's %.2f (+%.0f%%) though both cost the same per step: "
                      + "the machine, not the change, made the difference", cm, bm, 100 * (cm / bm - 1))
    }
}
