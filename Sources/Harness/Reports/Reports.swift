import AutoResearchCore
import Foundation
import Reporting

/// What `autoresearch results`, `status` and `report` read from the ledger.
public struct TagStatus: Sendable, Equatable {
    public var tag: String
    public var branch: String
    public var experiments: Int
    public var keeps: Int
    public var crashes: Int
    public var baseline: Double?
    public var best: Double?
    public var noiseSigma: Double?
    /// σ as the next decision would use it, and what it rests on (`NoiseEstimate.summary`).
    public var noise: String?
    /// Training runs left out as disturbed by machine load.
    public var disturbedRuns = 0
    /// The experiment in state `running`, if any (the latest).
    public var running: ExperimentRecord?
    /// Every experiment running now (several in a swarm).
    public var runningNow: [ExperimentRecord] = []
    /// Workers, slots, utilisation, experiments per hour.
    public var swarm: SwarmSummary?
    /// Dollars LLM researchers spent on this tag (0 for the search researcher).
    public var costUSD: Double = 0
    /// The meta-loop, when it ran on this tag: "programs: 7 (incumbent 3, 2 live, 1 refused); windows: 5 done".
    public var meta: String?
    /// The hidden test split (scored by the harness) of the baseline and of the best keep.
    public var baselineTest: Double?
    public var bestTest: Double?
    /// How far the numbers can be trusted (`Trust.summary`).
    public var trust: String?
    /// Cotra's milestones as measured on this tag (`Milestone`).
    public var milestones: [Milestone] = []
    /// The subject scores itself (`evaluation.scoring = "summary"`, e.g. an adopted repository): every score is labelled.
    public var selfReported = false
    /// Where the tag's tensor core came from (`CoreRecord.summary`), when it was adopted from a tensorcore workspace.
    public var core: String?

    /// Kept experiments / decided experiments (keep + discard + crash).
    public var keepRate: Double? {
        let decided = experiments
        return decided > 0 ? Double(keeps) / Double(decided) : nil
    }

    /// A few lines for a person.
    public var text: String {
        var lines = ["tag \(tag) (branch \(branch))"]
        let rate = keepRate.map { String(format: "%.0f%%", $0 * 100) } ?? "—"
        lines.append("experiments: \(experiments) (\(keeps) kept, \(crashes) crashed; keep rate \(rate))")
        lines.append("metric: baseline \(metricText(baseline)) → best \(metricText(best))"
                     + ((baseline != nil && best != nil) ? String(format: " (%+.6f)", best! - baseline!) : "")
                     + (selfReported ? " — self-reported (the subject's own summary block; the harness cannot vouch for it)" : ""))
        lines.append("noise σ: " + (noise ?? noiseSigma.map { String(format: "%.6f", $0) } ?? "unknown"))
        if disturbedRuns > 0 { lines.append("disturbed runs: \(disturbedRuns) (left out of σ and of decisions, and run again)") }
        if baselineTest != nil || bestTest != nil {
            lines.append("hidden test: baseline \(metricText(baselineTest)) → best \(metricText(bestTest))"
                         + ((baselineTest != nil && bestTest != nil) ? String(format: " (%+.6f)", bestTest! - baselineTest!) : ""))
        }
        if let core { lines.append(core) }
        if let trust { lines.append("evaluation: \(trust)") }
        if !milestones.isEmpty { lines.append("milestones:\n" + milestones.map { "  " + $0.line }.joined(separator: "\n")) }
        if costUSD > 0 { lines.append(String(format: "researcher spend: $%.2f", costUSD)) }
        if let meta { lines.append(meta) }
        if runningNow.count > 1 {
            lines.append("running now: \(runningNow.count) experiments")
            for r in runningNow {
                let since = Date().timeIntervalSince(r.startedAt)
                lines.append("  experiment \(r.number) [w\(r.worker ?? 0) \(r.researcher)\(r.slot.map { ", slot \($0)" } ?? "")]: \(r.phase ?? "?"), \(r.description), started \(clock(since)) ago")
            }
        } else if let r = running {
            let since = Date().timeIntervalSince(r.startedAt)
            lines.append("running now: experiment \(r.number) (\(r.description)), phase \(r.phase ?? "?"), started \(clock(since)) ago")
        } else {
            lines.append("running now: nothing")
        }
        if let swarm, swarm.isSwarm {
            if let u = swarm.utilisation, let rate = swarm.experimentsPerHour {
                lines.append(String(format: "slots: %d, utilisation %.1f%%, %.1f experiments/hour", swarm.slots.count, u * 100, rate))
            }
            lines.append("workers: " + swarm.workers.map { "w\($0.worker) \($0.researcher) \($0.experiments) run, \($0.keeps) kept" }.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}

/// Results, status and report for one tag of a workspace.
public struct TagReports: Sendable {
    public let workspace: Workspace
    public let ledger: Ledger
    public let tag: String
    /// Whether the hidden test split's scores appear: true for the workspace's owner (the CLI, the report files);
    /// false for every view a researcher can reach (MCP tools and resources, LLM tools), so no test_bpb, nor anything
    /// computed from it, ever reaches a researcher (the red team's finding 6).
    public var showsTest = true

    /// The tag's experiments as this view may show them: without test_bpb when `showsTest` is false.
    func experiments(of tag: String? = nil) throws -> [ExperimentRecord] {
        let records = try ledger.experiments(tag: tag ?? self.tag)
        guard !showsTest else { return records }
        return records.map { var r = $0; r.testBPB = nil; return r }
    }

    /// Opens the ledger and picks the tag: `tag` if given, else the most recently created one.
    public init(workspace: Workspace, tag: String?) throws {
        self.workspace = workspace
        guard FileManager.default.fileExists(atPath: workspace.ledgerURL.path) else {
            throw HarnessError.unknownTag(tag: tag ?? "(latest)", known: [])
        }
        ledger = try Ledger(url: workspace.ledgerURL)
        let tags = try ledger.tags()
        if let tag {
            guard tags.contains(where: { $0.tag == tag }) else { throw HarnessError.unknownTag(tag: tag, known: tags.map(\.tag)) }
            self.tag = tag
        } else {
            guard let last = tags.last else { throw HarnessError.unknownTag(tag: "(latest)", known: []) }
            self.tag = last.tag
        }
    }

    /// The tag's standing.
    public func status() throws -> TagStatus {
        let records = try experiments()
        let tagRecord = try ledger.tag(tag)
        let decided = records.filter { [.keep, .discard, .crash].contains($0.experimentStatus) }
        let baselineRecord = records.first { $0.experimentStatus == .baseline }
        let baseline = baselineRecord?.metric
        let bestKeep = records.filter { $0.experimentStatus == .keep && $0.metric != nil }
            .min { workspace.manifest.direction == .lower ? $0.metric! < $1.metric! : $0.metric! > $1.metric! }
        var status = TagStatus(tag: tag, branch: tagRecord?.branch ?? "autoresearch/\(tag)", experiments: decided.count,
                         keeps: decided.filter { $0.experimentStatus == .keep }.count,
                         crashes: decided.filter { $0.experimentStatus == .crash }.count,
                         baseline: baseline,
                         best: records.filter { $0.experimentStatus == .keep }.compactMap(\.metric)
                            .min { workspace.manifest.direction == .lower ? $0 < $1 : $0 > $1 } ?? baseline,
                         noiseSigma: tagRecord?.noiseSigma,
                         running: records.last { $0.experimentStatus == .running },
                         runningNow: records.filter { $0.experimentStatus == .running },
                         swarm: SubjectBridge.swarmSummary(records.map(\.outcome), slotCount: max(1, workspace.manifest.slots.count)),
                         costUSD: try ledger.cost(tag: tag), meta: try metaLine())
        status.baselineTest = baselineRecord?.testBPB
        status.bestTest = bestKeep.map { $0.testBPB } ?? baselineRecord?.testBPB
        status.trust = trustLine(records)
        status.milestones = milestones(records)
        status.selfReported = workspace.manifest.selfReported
        status.core = try tagRecord.flatMap { try workspace.core(for: $0, in: ledger) }?.summary
        let history = try ledger.tags().filter { $0.manifestHash == tagRecord?.manifestHash }.flatMap { try experiments(of: $0.tag) }
        let lastKeep = records.filter { $0.experimentStatus == .keep }.max { ($0.finishedAt ?? .distantPast) < ($1.finishedAt ?? .distantPast) }
        if let best = lastKeep?.commit ?? tagRecord?.baselineCommit {
            let kind = records.last { $0.slotKind != nil }?.slotKind
            status.noise = NoiseEstimate.estimate(NoiseEstimate.groups(history, tag: tag, best: best, kind: kind),
                                                  settings: workspace.manifest.noise)?.summary
        }
        status.disturbedRuns = records.reduce(0) { $0 + ($1.decisionEvidence?.measurements ?? []).filter { $0.disturbed != nil }.count }
        return status
    }

    /// The trust of this workspace's runs, for the researchers that ran on the tag.
    func trustLine(_ records: [ExperimentRecord]) -> String {
        let researchers = Set(records.map(\.researcher)).subtracting(["harness"]).sorted()
        let trust = (try? Trust.establish(manifest: workspace.manifest, researchers: researchers, allowUntrusted: true).1)
        return trust?.summary ?? "unknown"
    }

    /// test_bpb by experiment number (the baseline and keeps).
    func testScores() throws -> [Int: Double] {
        var scores: [Int: Double] = [:]
        for r in try experiments() { if let t = r.testBPB { scores[r.number] = t } }
        return scores
    }

    /// The meta-loop's standing in one line; nil when the tag has no program archive.
    func metaLine() throws -> String? {
        let programs = try ledger.programs(tag: tag)
        guard !programs.isEmpty else { return nil }
        let windows = try ledger.windows(tag: tag)
        let incumbent = ProgramRecord.incumbent(of: programs)?.number ?? 1
        let count = { (s: ProgramStatus) in programs.filter { $0.programStatus == s }.count }
        var line = "programs: \(programs.count) (incumbent \(incumbent), \(count(.live)) live, \(count(.kept)) kept, \(count(.retired)) retired, \(count(.refused)) refused)"
        line += "; windows: \(windows.filter { $0.status == "done" }.count) done"
        if let running = windows.last(where: { $0.status == "running" }) {
            line += ", window \(running.number) running (program \(running.program) against \(running.control))"
        }
        return line
    }

    /// results.tsv for the tag, also written to `<workspace>/results.tsv`.
    @discardableResult
    public func writeResults(wide: Bool = false) throws -> (text: String, url: URL) {
        let text = try results(wide: wide)
        let url = workspace.root.appendingPathComponent("results.tsv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return (text, url)
    }

    /// Cotra's milestones for `records` of this tag.
    func milestones(_ records: [ExperimentRecord]) -> [Milestone] {
        Milestone.measure(records, sigma: (try? ledger.tag(tag))??.noiseSigma, settings: workspace.manifest.noise,
                          lowerIsBetter: workspace.manifest.direction == .lower)
    }

    /// report.md's section on the milestones.
    func milestoneSection(_ records: [ExperimentRecord]) -> String {
        "\n## Milestones (Cotra)\n\n" + milestones(records).map { "- **\($0.name.rawValue)**: \($0.reached.map { $0 ? "reached" : "not yet" } ?? "not measured") — \(Self.markdownText($0.evidence))\n" }.joined()
    }

    static func markdownText(_ text: String) -> String {
        text.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// results.tsv's text (nothing written).
    public func results(wide: Bool = false) throws -> String {
        SubjectBridge.resultsTSV(try ledger.outcomes(tag: tag), wide: wide, test: wide ? try testScores() : [:],
                                 selfReported: workspace.manifest.selfReported)
    }

    /// report.md's text and progress.svg, made in memory (nothing written; the meta-loop's section is left to `writeReport`).
    public func report() throws -> (markdown: String, chart: String) {
        let outcomes = try ledger.outcomes(tag: tag)
        let test = try testScores()
        let records = try experiments()
        let markdown = SubjectBridge.reportMarkdown(outcomes: outcomes, title: reportTitle, noiseSigma: try ledger.tag(tag)?.noiseSigma,
                                                    test: test, trust: trustLine(records), metric: metric, lowerIsBetter: lowerIsBetter)
            + milestoneSection(records)
        return (markdown, SubjectBridge.progressSVG(outcomes, test: test, metric: metric, lowerIsBetter: lowerIsBetter))
    }

    var metric: String { workspace.manifest.metric }
    var lowerIsBetter: Bool { workspace.manifest.direction == .lower }

    var reportTitle: String {
        "\(workspace.manifest.name): autoresearch/\(tag)" + (workspace.manifest.selfReported ? " (self-reported scores)" : "")
    }

    /// report.md and progress.svg in the workspace.
    @discardableResult
    public func writeReport() throws -> (markdown: URL, chart: URL) {
        let written = try SubjectBridge.writeReport(outcomes: try ledger.outcomes(tag: tag), title: reportTitle,
                                                    noiseSigma: try ledger.tag(tag)?.noiseSigma, test: try testScores(),
                                                    trust: trustLine(try ledger.experiments(tag: tag)), metric: metric,
                                                    lowerIsBetter: lowerIsBetter, to: workspace.root)
        let md = try String(contentsOf: written.markdown, encoding: .utf8) + milestoneSection(try ledger.experiments(tag: tag))
        try md.write(to: written.markdown, atomically: true, encoding: .utf8)
        try appendProgramSection(to: written.markdown)
        return written
    }
}
