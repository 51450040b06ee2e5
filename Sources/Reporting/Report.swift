import AutoResearchCore
import Foundation

/// The human-readable report of a tag: `report.md` with the headline numbers and the top
/// improvements, and `progress.svg` (see `ProgressChart`) embedded in it.
public enum Report {
    /// Writes `report.md` and `progress.svg` into `directory`, creating it if needed.
    /// - Parameters:
    ///   - outcomes: every experiment of the tag (any order; `number` orders them).
    ///   - title: the report's heading.
    ///   - noiseSigma: the metric's noise σ from repeated baseline runs, if measured.
    /// - Returns: the URLs of the two files.
    /// - Throws: the file system's error when the directory or a file cannot be written.
    @discardableResult
    public static func write(outcomes: [ExperimentOutcome], title: String, noiseSigma: Double?,
                             to directory: URL) throws -> (markdown: URL, chart: URL) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let chart = directory.appendingPathComponent("progress.svg")
        let markdownURL = directory.appendingPathComponent("report.md")
        try Data(ProgressChart.svg(outcomes).utf8).write(to: chart, options: .atomic)
        try Data(markdown(outcomes: outcomes, title: title, noiseSigma: noiseSigma).utf8).write(to: markdownURL, options: .atomic)
        return (markdownURL, chart)
    }

    /// The text of `report.md`.
    public static func markdown(outcomes: [ExperimentOutcome], title: String, noiseSigma: Double?) -> String {
        let s = ReportSummary(outcomes: outcomes, noiseSigma: noiseSigma)
        func metric(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "–" }
        func percent(_ v: Double?) -> String { v.map { String(format: "%.2f %%", $0) } ?? "–" }
        var md = "# \(cell(title))\n\n![progress](progress.svg)\n\n| | |\n|---|---|\n"
        md += "| Baseline val_bpb | \(metric(s.baseline))\(s.baselineRuns > 1 ? " (mean of \(s.baselineRuns) runs)" : "") |\n"
        var best = metric(s.best)
        if let o = s.bestOutcome {
            best += " (#\(o.number)\(o.commit.map { ", `\(String($0.prefix(7)))`" } ?? ""): \(cell(o.description)))"
        }
        md += "| Best val_bpb | \(best) |\n"
        var improvement = percent(s.improvementPercent)
        if let b = s.baseline, let best = s.best { improvement += String(format: " (%.6f lower)", b - best) }
        md += "| Improvement | \(improvement) |\n"
        md += "| Experiments | \(s.experiments): \(s.keeps) keep, \(s.discards) discard, \(s.crashes) crash"
            + (s.baselineRuns > 0 ? ", \(s.baselineRuns) baseline" : "")
            + (s.researcherErrors > 0 ? " (and \(s.researcherErrors) researcher errors)" : "") + " |\n"
        md += "| Keep rate | \(percent(s.keepRate.map { $0 * 100 })) |\n"
        var noise = metric(noiseSigma)
        if let sigma = noiseSigma, sigma > 0, let b = s.baseline, let best = s.best {
            noise += String(format: " (the improvement is %.1f σ)", (b - best) / sigma)
        } else if noiseSigma == nil {
            noise = "not measured"
        }
        md += "| Noise σ | \(noise) |\n\n"
        md += "## Top improvements\n\n"
        if s.improvements.isEmpty {
            md += "No kept improvements yet.\n"
        } else {
            md += "| Rank | # | Commit | val_bpb | Δ val_bpb | Description |\n|---:|---:|---|---:|---:|---|\n"
            for (rank, item) in s.improvements.prefix(10).enumerated() {
                let o = item.outcome
                md += "| \(rank + 1) | \(o.number) | \(o.commit.map { "`\(String($0.prefix(7)))`" } ?? "–") | \(metric(o.metric)) | "
                    + String(format: "%+.6f", -item.delta) + " | \(cell(o.description)) |\n"
            }
        }
        let swarm = SwarmSummary(outcomes: outcomes)
        if swarm.isSwarm { md += "\n" + swarm.markdown }
        return md
    }

    /// `text` safe inside a Markdown table cell: one line, pipes escaped.
    static func cell(_ text: String) -> String {
        ResultsTSV.clean(text).replacingOccurrences(of: "|", with: "\\|")
    }
}
