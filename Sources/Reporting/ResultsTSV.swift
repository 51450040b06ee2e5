import AutoResearchCore
import Foundation

/// autoresearch's results.tsv, byte for byte:
///
/// ```
/// commit	val_bpb	memory_gb	status	description
/// a1b2c3d	0.997900	44.0	keep	baseline
/// b2c3d4e	0.993200	44.2	keep	increase LR to 0.04
/// c3d4e5f	0.000000	0.0	crash	double the model width (OOM)
/// ```
/// Tab-separated, one row per finished experiment in the order given, each line ending in `\n`:
/// the first 7 characters of the commit (seven dashes when there is none), the metric with 6 decimals,
/// the peak memory in GB with 1 decimal, the status and the description with tabs and line breaks
/// turned into spaces. Only autoresearch's three final statuses appear:
/// - a `baseline` run prints as `keep` with the description `baseline`;
/// - a `crash` prints `0.000000` and `0.0`; a missing metric or memory also prints as zero;
/// - `running`, `interrupted` and `researcher-error` rows are left out: nothing was trained to the end,
///   so there is nothing to tabulate (the ledger keeps them).
public enum ResultsTSV {
    /// The header line, without its newline.
    public static let header = "commit\tval_bpb\tmemory_gb\tstatus\tdescription"

    /// The whole file: the header and one row per finished experiment. `wide` adds three columns after
    /// autoresearch's five: the worker (researcher) and the slot of each experiment, for swarms, and the hidden test
    /// split's bits per byte (`test`, by experiment number: the baseline and keeps; `-` for the others); then
    /// `scored_by`, who computed val_bpb: "harness" (from the model's logits) or "self-reported" (the subject's own
    /// summary block, which the harness cannot vouch for).
    public static func render(_ outcomes: [ExperimentOutcome], wide: Bool = false, test: [Int: Double] = [:], selfReported: Bool = false) -> String {
        guard wide else { return render(outcomes) }
        var out = header + "\tworker\tslot\ttest_bpb\tscored_by\n"
        for outcome in outcomes {
            if let row = row(outcome) {
                out += row + "\t" + (outcome.worker.map { "w\($0):\(outcome.researcher)" } ?? outcome.researcher) + "\t" + (outcome.slot ?? "-")
                    + "\t" + (test[outcome.number].map { String(format: "%.6f", $0) } ?? "-") + "\t" + (selfReported ? "self-reported" : "harness") + "\n"
            }
        }
        return out
    }

    /// The whole file: the header and one row per finished experiment.
    public static func render(_ outcomes: [ExperimentOutcome]) -> String {
        var out = header + "\n"
        for outcome in outcomes {
            if let line = row(outcome) { out += line + "\n" }
        }
        return out
    }

    /// One row without its newline, or nil for a status that results.tsv does not show.
    public static func row(_ outcome: ExperimentOutcome) -> String? {
        let status: String
        var description = outcome.description
        switch outcome.status {
        case .keep, .discard: status = outcome.status.rawValue
        case .crash: status = "crash"
        case .invalid: status = "crash"; description += " (invalid: failed the causality probe)"
        case .baseline: status = "keep"; description = "baseline"
        case .stale: status = "discard"; description += " (stale: the best moved on)"
        case .running, .interrupted, .researcherError, .reference: return nil
        }
        let commit = outcome.commit.map { String($0.prefix(7)) } ?? "-------"
        let crashed = outcome.status == .crash || outcome.status == .invalid
        let metric = crashed ? 0 : (outcome.metric ?? 0)
        let memory = crashed ? 0 : (outcome.memoryGB ?? 0)
        return [commit, String(format: "%.6f", metric), String(format: "%.1f", memory), status, clean(description)]
            .joined(separator: "\t")
    }

    /// `text` on one line: tabs, carriage returns and newlines become spaces.
    static func clean(_ text: String) -> String {
        String(text.map { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
    }
}
