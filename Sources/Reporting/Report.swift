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
    ///   - test: the hidden test split's bits per byte by experiment number (measured for the baseline and keeps).
    ///   - trust: one line on how far the numbers can be trusted; nil to leave it out.
    public static func write(outcomes: [ExperimentOutcome], title: String, noiseSigma: Double?, test: [Int: Double] = [:],
                             trust: String? = nil, scale: MetricScale = .valBPB, to directory: URL) throws -> (markdown: URL, chart: URL) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let chart = directory.appendingPathComponent("progress.svg")
        let markdownURL = directory.appendingPathComponent("report.md")
        try Data(ProgressChart.svg(outcomes, test: test, scale: scale).utf8).write(to: chart, options: .atomic)
        try Data(markdown(outcomes: outcomes, title: title, noiseSigma: noiseSigma, test: test, trust: trust, scale: scale).utf8).write(to: markdownURL, options: .atomic)
        return (markdownURL, chart)
    }

    /// The text of `report.md`.
    public static func markdown(outcomes: [ExperimentOutcome], title: String, noiseSigma: Double?, test: [Int: Double] = [:],
                                trust: String? = nil, scale: MetricScale = .valBPB) -> String {
        let s = ReportSummary(outcomes: outcomes, noiseSigma: noiseSigma, scale: scale)
        func metric(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "–" }
        func percent(_ v: Double?) -> String { v.map { String(format: "%.2f %%", $0) } ?? "–" }
        var md = "# \(cell(title))\n\n![progress](progress.svg)\n\n| | |\n|---|---|\n"
        md += "| Baseline \(scale.name) | \(metric(s.baseline))\(s.baselineRuns > 1 ? " (mean of \(s.baselineRuns) runs)" : "") |\n"
        var best = metric(s.best)
        if let o = s.bestOutcome {
            best += " (#\(o.number)\(o.commit.map { ", `\(String($0.prefix(7)))`" } ?? ""): \(cell(o.description)))"
        }
        md += "| Best \(scale.name) | \(best) |\n"
        var improvement = percent(s.improvementPercent)
        if let b = s.baseline, let best = s.best { improvement += String(format: " (%.6f \(scale.betterWord))", scale.gain(best, over: b)) }
        md += "| Improvement | \(improvement) |\n"
        md += "| Experiments | \(s.experiments): \(s.keeps) keep, \(s.discards) discard, \(s.crashes) crash"
            + (s.baselineRuns > 0 ? ", \(s.baselineRuns) baseline" : "")
            + (s.researcherErrors > 0 ? " (and \(s.researcherErrors) researcher errors)" : "") + " |\n"
        md += "| Keep rate | \(percent(s.keepRate.map { $0 * 100 })) |\n"
        var noise = metric(noiseSigma)
        if let sigma = noiseSigma, sigma > 0, let b = s.baseline, let best = s.best {
            noise += String(format: " (the improvement is %.1f σ)", scale.gain(best, over: b) / sigma)
        } else if noiseSigma == nil {
            noise = "not measured"
        }
        md += "| Noise σ | \(noise) |\n"
        if let trust { md += "| Evaluation | \(cell(trust)) |\n" }
        md += "\n" + testSection(outcomes, test: test, noiseSigma: noiseSigma)
        md += "## Top improvements\n\n"
        if s.improvements.isEmpty {
            md += "No kept improvements yet.\n"
        } else {
            md += "| Rank | # | Commit | \(scale.name) | Δ \(scale.name) | Description |\n|---:|---:|---|---:|---:|---|\n"
            for (rank, item) in s.improvements.prefix(10).enumerated() {
                let o = item.outcome
                md += "| \(rank + 1) | \(o.number) | \(o.commit.map { "`\(String($0.prefix(7)))`" } ?? "–") | \(metric(o.metric)) | "
                    + String(format: "%+.6f", scale.lowerIsBetter ? -item.delta : item.delta) + " | \(cell(o.description)) |\n"
            }
        }
        let swarm = SwarmSummary(outcomes: outcomes)
        if swarm.isSwarm { md += "\n" + swarm.markdown }
        return md
    }

    /// The hidden test split beside val_bpb for the baseline and every keep, and a warning when val_bpb improved
    /// by more than the test split did, beyond the noise band (overfitting the validation split by selection).
    static func testSection(_ outcomes: [ExperimentOutcome], test: [Int: Double], noiseSigma: Double?) -> String {
        guard !test.isEmpty else { return "" }
        func metric(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "–" }
        var md = "## Validation and hidden test\n\nThe harness scores the hidden test split for the baseline and every keep; no researcher sees it.\n\n"
        md += "| # | Description | val_bpb | test_bpb |\n|---:|---|---:|---:|\n"
        let rows = outcomes.sorted { $0.number < $1.number }.filter { $0.status == .baseline || ($0.status == .keep && test[$0.number] != nil) }
        for o in rows {
            md += "| \(o.number) | \(o.status == .baseline ? "baseline" : cell(o.description)) | \(metric(o.metric)) | \(metric(test[o.number])) |\n"
        }
        if let first = rows.first, let last = rows.last, first.number != last.number,
           let v0 = first.metric, let v1 = last.metric, let t0 = test[first.number], let t1 = test[last.number] {
            let band = 2 * (noiseSigma ?? 0)
            let valGain = v0 - v1, testGain = t0 - t1
            md += String(format: "\nSince the baseline: val_bpb %+.6f, test_bpb %+.6f.", -valGain, -testGain)
            if valGain - testGain > band {
                md += String(format: " **Warning:** val_bpb improved %.6f more than the hidden test split, beyond the noise band (2σ = %.6f): the keeps may fit the validation split by selection rather than generalise.", valGain - testGain, band)
            }
            md += "\n"
        }
        return md + "\n"
    }

    /// `text` safe inside a Markdown table cell: one line, pipes escaped.
    static func cell(_ text: String) -> String {
        ResultsTSV.clean(text).replacingOccurrences(of: "|", with: "\\|")
    }
}
