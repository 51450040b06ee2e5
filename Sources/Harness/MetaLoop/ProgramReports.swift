import AutoResearchCore
import Foundation
import Reporting

/// The program archive as text: `autoresearch programs`, and what the meta-researcher reads.
public enum ProgramTable {
    /// One line per program: number, parent, status, windows scored as the candidate, mean score ± standard error
    /// (per experiment), mean score per hour, proposer, description.
    public static func render(programs: [ProgramRecord], windows: [WindowRecord]) -> String {
        var lines = ["program\tparent\tstatus\twindows\tscore\tper_hour\tproposer\tdescription"]
        let done = windows.filter { $0.status == "done" }
        for p in programs {
            let mine = done.filter { $0.program == p.number && $0.control != p.number }
            let (mean, se) = MetaPolicy.meanAndStandardError(mine.compactMap(\.score))
            let perHour = MetaPolicy.meanAndStandardError(mine.compactMap(\.scorePerHour)).mean
            let score = mine.isEmpty ? "-" : String(format: "%+.2f±%.2f", mean, se)
            let hour = mine.isEmpty ? "-" : String(format: "%+.2f", perHour)
            var description = ResultsTSVCell.clean(p.description)
            if p.programStatus == .refused, let reason = p.reason { description += " (refused: \(ResultsTSVCell.clean(reason)))" }
            lines.append("\(p.number)\t\(p.parent.map(String.init) ?? "-")\t\(p.status)\t\(mine.count)\t\(score)\t\(hour)\t\(p.proposer)\t\(description)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Tabs and newlines out of a table cell.
enum ResultsTSVCell {
    static func clean(_ text: String) -> String {
        text.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")
    }
}

extension TagReports {
    /// `autoresearch programs`: the archive with scores and lineage, and the windows.
    public func programs() throws -> String {
        let programs = try ledger.programs(tag: tag)
        guard !programs.isEmpty else {
            return "tag \(tag) has no research programs yet; `autoresearch run --meta` starts the meta-loop.\n"
        }
        let windows = try ledger.windows(tag: tag)
        var text = ProgramTable.render(programs: programs, windows: windows)
        if let incumbent = ProgramRecord.incumbent(of: programs) {
            text += "\nincumbent (the control of new windows): program \(incumbent.number)\n"
        }
        if !windows.isEmpty {
            text += "\nwindow\tprogram\tcontrol\tbase\tprogress\tcontrol_progress\tscore\tper_hour\tstatus\n"
            for w in windows {
                let f = { (v: Double?) in v.map { String(format: "%.6f", $0) } ?? "-" }
                let s = { (v: Double?) in v.map { String(format: "%+.2f", $0) } ?? "-" }
                text += "\(w.number)\t\(w.program)\t\(w.control)\t\(f(w.baseMetric))\t\(f(w.programProgress))\t\(f(w.controlProgress))\t\(s(w.score))\t\(s(w.scorePerHour))\t\(w.status)\n"
            }
        }
        return text
    }

    /// `autoresearch show-program N`: one program with its lineage, scores, diff against its parent, settings and text.
    public func showProgram(_ number: Int) throws -> String {
        let programs = try ledger.programs(tag: tag)
        guard let p = programs.first(where: { $0.number == number }) else {
            throw HarnessError.other("tag \(tag) has no program \(number)" + (programs.isEmpty ? "; its archive is empty (run with --meta first)" : " (programs: 1–\(programs.count))"))
        }
        let windows = try ledger.windows(tag: tag).filter { $0.status == "done" && $0.program == number && $0.control != number }
        let (mean, se) = MetaPolicy.meanAndStandardError(windows.compactMap(\.score))
        var lineage: [Int] = []
        var cursor = p.parent
        while let n = cursor, !lineage.contains(n) { lineage.append(n); cursor = programs.first { $0.number == n }?.parent }
        var text = "program \(p.number): \(p.description)\n"
        text += "status: \(p.status)\(p.reason.map { " — \($0)" } ?? "")\n"
        text += "lineage: " + ([p.number] + lineage).map(String.init).joined(separator: " ← ") + "\n"
        text += "proposed by \(p.proposer) at \(ISO8601DateFormatter().string(from: p.createdAt))"
            + (p.costUSD.map { String(format: " for $%.4f", $0) } ?? "") + "\n"
        if !p.hypothesis.isEmpty { text += "hypothesis: \(p.hypothesis)\n" }
        text += windows.isEmpty ? "windows: none scored yet\n"
            : String(format: "windows: %d, mean score %+.2f ± %.2f per experiment (", windows.count, mean, se)
                + windows.map { String(format: "%+.2f", $0.score ?? 0) }.joined(separator: ", ") + ")\n"
        text += "\n## diff against its parent\n\n" + (p.diff.isEmpty ? "(none: the original program)" : p.diff) + "\n"
        text += "\n## settings\n\n\(p.settings)\n"
        var toml = ResearcherSection()
        toml.search = p.settings
        let table = Manifest.searchTable(toml)
        if !table.isEmpty { text += "\nTo make them a plain run's settings, put this in autoresearch.toml:\n\n" + table.joined(separator: "\n") + "\n" }
        text += "\n## program.md\n\n\(p.text)\n"
        return text
    }

    /// One series per program that steered experiments: the running best of its keeps over hours since the first window.
    func programSeries() throws -> [ProgramChart.Series] {
        let programs = try ledger.programs(tag: tag)
        let windows = try ledger.windows(tag: tag)
        guard let start = windows.map(\.startedAt).min() else { return [] }
        let records = try ledger.experiments(tag: tag).filter { $0.window != nil && $0.experimentStatus == .keep }
        return programs.compactMap { p in
            let keeps = records.filter { $0.program == p.number }.compactMap { r -> (Double, Double)? in
                guard let m = r.metric else { return nil }
                return ((r.finishedAt ?? r.startedAt).timeIntervalSince(start) / 3600, m)
            }.sorted { $0.0 < $1.0 }
            guard !keeps.isEmpty else { return nil }
            return ProgramChart.Series(label: "program \(p.number): \(p.description)", points: keeps.map { (hours: $0.0, metric: $0.1) })
        }
    }

    /// With a program archive: programs.svg beside report.md, and a section in report.md that embeds it with the table.
    func appendProgramSection(to markdown: URL) throws {
        let programs = try ledger.programs(tag: tag)
        guard !programs.isEmpty else { return }
        let chart = markdown.deletingLastPathComponent().appendingPathComponent("programs.svg")
        try Data(ProgramChart.svg(try programSeries(), metricName: workspace.manifest.metric,
                                  lowerIsBetter: workspace.manifest.direction == .lower).utf8).write(to: chart, options: .atomic)
        var md = try String(contentsOf: markdown, encoding: .utf8)
        md += "\n## Research programs (meta-loop)\n\n![programs](programs.svg)\n\n```\n\(try self.programs())```\n"
        try md.write(to: markdown, atomically: true, encoding: .utf8)
    }
}
