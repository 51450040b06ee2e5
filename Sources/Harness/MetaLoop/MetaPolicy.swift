import Foundation

/// How the meta-loop judges programs: window scores, the bandit, and when a challenger is kept.
///
/// A window runs the candidate program and the control from the same base commit, `window` experiments each, on the
/// same slots, with paired random draws (common random numbers: the arms' researchers share seeds, and the k-th
/// proposal of each arm shares its seed), so the two arms differ only in their program. Each arm's *progress* is how
/// far its best keep moved the metric from the base (0 without a keep; keeps already beat the best by more than the
/// noise margin). The score compares the two:
/// `(p − q) / max(p, q)` for the candidate's progress p and the control's q, in -1…1, and 0 when |p − q| is within
/// the keep margin (`Decision.threshold`), so a difference the noise could make counts for nothing. Per hour it is the same on progress
/// divided by each arm's compute hours.
/// Selection among live challengers is UCB1 (Auer, Cesa-Bianchi & Fischer 2002) over window scores.
public enum MetaPolicy {
    /// The score of one window, in -1…1 (see the type's documentation).
    /// - Parameters:
    ///   - program, control: each arm's progress in metric units (≥ 0).
    ///   - margin: the keep margin (`Decision.threshold` at the default run counts) in metric units.
    public static func score(program: Double, control: Double, margin: Double) -> Double {
        let p = max(0, program), q = max(0, control)
        guard abs(p - q) > margin, max(p, q) > 0 else { return 0 }
        return (p - q) / max(p, q)
    }

    /// The per-hour score: the same comparison on progress per compute hour; 0 when either arm has no time recorded.
    public static func scorePerHour(program: Double, programSeconds: Double, control: Double, controlSeconds: Double,
                                    margin: Double) -> Double {
        guard programSeconds > 0, controlSeconds > 0 else { return 0 }
        guard abs(max(0, program) - max(0, control)) > margin else { return 0 }
        let p = max(0, program) / programSeconds, q = max(0, control) / controlSeconds
        guard max(p, q) > 0 else { return 0 }
        return (p - q) / max(p, q)
    }

    /// Mean and standard error (sample standard deviation / √n; 0 for one score) of `scores`.
    public static func meanAndStandardError(_ scores: [Double]) -> (mean: Double, standardError: Double) {
        guard !scores.isEmpty else { return (0, 0) }
        let n = Double(scores.count)
        let mean = scores.reduce(0, +) / n
        guard scores.count > 1 else { return (mean, 0) }
        let variance = scores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
        return (mean, (variance / n).squareRoot())
    }

    /// What to do with a challenger after a window.
    public enum Verdict: Equatable, Sendable {
        /// Becomes the incumbent (the control of new windows).
        case keep(String)
        /// Out of the running.
        case retire(String)
        /// Needs more windows.
        case undecided
    }

    /// Keep after `minWindows` when a one-sided t-test says the mean score is above 0 at 90 % confidence
    /// (mean > t₀.₉₀(n − 1) · standard error, Student 1908); retire when the mean is ≤ 0 after `minWindows`, or after
    /// `maxWindows` without a keep.
    public static func verdict(scores: [Double], settings: MetaSettings) -> Verdict {
        let (mean, se) = meanAndStandardError(scores)
        let summary = String(format: "mean score %+.2f ± %.2f over %d window(s)", mean, se, scores.count)
        guard scores.count >= settings.minWindows else { return .undecided }
        if mean > 0, scores.count >= 2, mean > studentT90(degreesOfFreedom: scores.count - 1) * se {
            return .keep(summary + ": faster than the control (one-sided t-test, 90 %)")
        }
        if mean <= 0 { return .retire(summary + ": no faster than the control") }
        if scores.count >= settings.maxWindows { return .retire(summary + ": not clearly faster after \(settings.maxWindows) windows") }
        return .undecided
    }

    /// The 90 % one-sided quantile of Student's t distribution (standard tables; the normal 1.282 beyond 30).
    static func studentT90(degreesOfFreedom df: Int) -> Double {
        let table = [3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397, 1.383, 1.372,
                     1.363, 1.356, 1.350, 1.345, 1.341, 1.337, 1.333, 1.330, 1.328, 1.325]
        if df >= 1, df <= table.count { return table[df - 1] }
        return df > 30 ? 1.282 : 1.310
    }

    /// The UCB1 index of a challenger: mean + c·√(2·ln N / n); +∞ for one never scored.
    public static func ucb(scores: [Double], totalWindows: Int, exploration: Double) -> Double {
        guard !scores.isEmpty else { return .infinity }
        let n = Double(scores.count)
        return meanAndStandardError(scores).mean + exploration * (2 * log(Double(max(totalWindows, 1))) / n).squareRoot()
    }

    /// What changed from `parent` to `child`: settings key by key (`stepSize: 1 → 2`), then program.md as removed
    /// (`-`) and added (`+`) lines (Swift's `CollectionDifference`). Empty when nothing changed.
    public static func diff(from parent: (text: String, settings: [String: String]), to child: (text: String, settings: [String: String])) -> String {
        var lines: [String] = []
        for key in Set(parent.settings.keys).union(child.settings.keys).sorted() where parent.settings[key] != child.settings[key] {
            lines.append("settings.\(key): \(parent.settings[key] ?? "(default)") → \(child.settings[key] ?? "(default)")")
        }
        let old = parent.text.components(separatedBy: "\n"), new = child.text.components(separatedBy: "\n")
        let changes = new.difference(from: old)
        if !changes.isEmpty {
            lines.append("--- program.md (parent)")
            lines.append("+++ program.md")
            for change in changes {
                switch change {
                case .remove(let offset, let line, _): lines.append("-\(offset + 1): \(line)")
                case .insert(let offset, let line, _): lines.append("+\(offset + 1): \(line)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
