import AutoResearchCore
import Foundation
import Harness
import Reporting

/// Reads what the dashboard shows from the ledger, fresh on every call (a running `autoresearch run` writes the
/// same SQLite file in WAL mode, so reads never wait for it). Large texts (diffs, transcripts, logs) are read only
/// for the one experiment a page asks about.
public struct DashboardData: Sendable {
    public let workspace: Workspace
    public let ledger: Ledger
    /// The tag shown when a request names none.
    public let tag: String
    let cache = SummaryCache()
    /// Whether the hidden test split's scores appear: for requests that carry the token `serve` printed (the owner);
    /// anyone else who reaches the port (an agent on this machine, a page a DNS-rebinding attack loaded) gets every
    /// view without them (the red team's finding 6).
    public private(set) var showsTest = true

    /// The same data without test_bpb anywhere (rows, chart, status, milestones, detail).
    public var withoutTest: DashboardData { var d = self; d.showsTest = false; return d }

    /// The cache's key of `tag` for this view (the two views never share a cached chart or milestones).
    func cacheKey(_ tag: String) -> String { showsTest ? tag : tag + "\u{0}without-test" }

    /// Opens the workspace's ledger; `tag` nil picks the latest. Throws when the workspace has no ledger or no such tag.
    public init(workspace: Workspace, tag: String?) throws {
        let reports = try TagReports(workspace: workspace, tag: tag)
        self.workspace = workspace
        ledger = reports.ledger
        self.tag = reports.tag
    }

    /// The summaries of every experiment of `tag`: read again only when the tag's `LedgerStamp` changed (one cheap
    /// aggregate query), so a page over 10,000 experiments does not decode them all on every request.
    public func summaries(tag: String, stamp known: String? = nil) throws -> [ExperimentSummary] {
        let stamp = try known ?? ledger.stamp(tag: tag).signature
        let rows: [ExperimentSummary]
        if let cached = cache.rows(tag: tag, signature: stamp) {
            rows = cached
        } else {
            rows = try ledger.experimentSummaries(tag: tag)
            cache.store(rows, tag: tag, signature: stamp)
        }
        return showsTest ? rows : rows.map { var r = $0; r.testBPB = nil; return r }
    }

    /// `/api/chart`'s body, encoded once per stamp of the tag (10,000 points take longer to encode than to read).
    public func chartJSON(tag: String, encoder: JSONEncoder) throws -> Data {
        let stamp = try ledger.stamp(tag: tag).signature
        if let data = cache.chart(tag: cacheKey(tag), signature: stamp) { return data }
        let data = try encoder.encode(chart(tag: tag))
        cache.storeChart(data, tag: cacheKey(tag), signature: stamp)
        return data
    }

    var lowerIsBetter: Bool { workspace.manifest.direction == .lower }

    func better(_ a: Double, _ b: Double) -> Bool { lowerIsBetter ? a < b : a > b }

    /// The tag a request names (`?tag=`), if the ledger has it; else the default.
    public func tag(_ requested: String?) throws -> String {
        guard let requested, !requested.isEmpty, requested != tag else { return tag }
        guard try ledger.tag(requested) != nil else { throw DashboardError.notFound("no tag '\(requested)' in this ledger") }
        return requested
    }

    // MARK: Status

    public func status(tag: String) throws -> DashboardModels.Status {
        let stamp = try ledger.stamp(tag: tag).signature  // read once for the summaries and the milestones
        let rows = try summaries(tag: tag, stamp: stamp)
        let record = try ledger.tag(tag)
        let baseline = rows.first { $0.status == ExperimentStatus.baseline.rawValue }
        let keeps = rows.filter { $0.status == ExperimentStatus.keep.rawValue }
        let bestKeep = keeps.filter { $0.metric?.isFinite == true }.min { better($0.metric!, $1.metric!) }
        let finished = Set([ExperimentStatus.keep, .discard, .crash].map(\.rawValue))
        let control = LoopControl(workspace: workspace).request()
        let budget = workspace.manifest.budget
        return DashboardModels.Status(
            workspace: workspace.manifest.name, tag: tag, tags: try ledger.tags().map(\.tag),
            branch: record?.branch ?? "autoresearch/\(tag)", metric: workspace.manifest.metric, lowerIsBetter: lowerIsBetter,
            experiments: rows.filter { finished.contains($0.status) }.count, keeps: keeps.count,
            crashes: rows.filter { $0.status == ExperimentStatus.crash.rawValue }.count,
            running: rows.filter { $0.status == ExperimentStatus.running.rawValue }.count,
            baseline: baseline?.metric, best: bestKeep?.metric ?? baseline?.metric,
            baselineTest: baseline?.testBPB, bestTest: bestKeep?.testBPB ?? baseline?.testBPB,
            noiseSigma: record?.noiseSigma, costUSD: try ledger.cost(tag: tag),
            budgetMode: budget.mode.rawValue, budgetSeconds: budget.seconds, budgetTokens: budget.tokens,
            control: (control?.state ?? .running).rawValue, controlBy: control?.by, meta: try metaLine(tag: tag),
            milestones: try milestones(tag: tag, sigma: record?.noiseSigma, stamp: stamp), generatedAt: Date())
    }

    /// Cotra's milestones, from the baseline, the keeps and any human reference (the only rows they depend on).
    /// Measured again only when the tag's stamp changed (the keeps' full rows are the slow part).
    func milestones(tag: String, sigma: Double?, stamp: String) throws -> [DashboardModels.Milestone] {
        if let cached = cache.milestones(tag: cacheKey(tag), signature: stamp) { return cached }
        let records = try ledger.experiments(tag: tag, statuses: [.baseline, .keep, .reference])
            .map { var r = $0; if !showsTest { r.testBPB = nil }; return r }
        let milestones = Milestone.measure(records, sigma: sigma, settings: workspace.manifest.noise, lowerIsBetter: lowerIsBetter)
            .map { DashboardModels.Milestone(name: $0.name.rawValue, reached: $0.reached, detail: $0.evidence) }
        cache.storeMilestones(milestones, tag: cacheKey(tag), signature: stamp)
        return milestones
    }

    func metaLine(tag: String) throws -> String? {
        let programs = try ledger.programs(tag: tag)
        guard !programs.isEmpty else { return nil }
        let windows = try ledger.windows(tag: tag)
        let incumbent = ProgramRecord.incumbent(of: programs)?.number ?? 1
        return "programs: \(programs.count) (incumbent \(incumbent)); windows: \(windows.filter { $0.status == "done" }.count) done"
    }

    // MARK: Table and chart

    /// The query of the experiments table.
    public struct TableQuery: Sendable {
        public var status: String?
        public var search: String?
        public var sort = "number"
        public var descending = false
        public var offset = 0
        public var limit = 100
        public init() {}
    }

    public func page(tag: String, query: TableQuery) throws -> DashboardModels.Page {
        let all = try summaries(tag: tag)
        var statuses: [String: Int] = [:]
        for r in all { statuses[r.status, default: 0] += 1 }
        var rows = all
        if let status = query.status, !status.isEmpty, status != "all" { rows = rows.filter { $0.status == status } }
        if let search = query.search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            let needle = search.lowercased()
            rows = rows.filter {
                $0.description.lowercased().contains(needle) || $0.researcher.lowercased().contains(needle)
                    || String($0.number) == needle || ($0.slot?.lowercased().contains(needle) ?? false)
            }
        }
        rows = sorted(rows, by: query.sort, descending: query.descending)
        let offset = max(0, min(query.offset, rows.count))
        let limit = max(1, min(query.limit, 1000))
        let slice = rows[offset..<min(rows.count, offset + limit)]
        return DashboardModels.Page(total: all.count, matched: rows.count, offset: offset, rows: slice.map(Self.row), statuses: statuses)
    }

    static func row(_ s: ExperimentSummary) -> DashboardModels.Row {
        let compute = (s.buildSeconds == nil && s.runSeconds == nil) ? nil : (s.buildSeconds ?? 0) + (s.runSeconds ?? 0)
        return DashboardModels.Row(number: s.number, description: s.description, status: s.status, phase: s.phase,
                                   researcher: s.researcher, metric: s.metric, testBPB: s.testBPB,
                                   memoryGB: s.peakMemoryMB.map { $0 / 1024 }, worker: s.worker, slot: s.slot,
                                   program: s.program, computeSeconds: compute, costUSD: s.costUSD,
                                   startedAt: s.startedAt, finishedAt: s.finishedAt)
    }

    /// Rows sorted by a column (missing values last, ties by number).
    func sorted(_ rows: [ExperimentSummary], by key: String, descending: Bool) -> [ExperimentSummary] {
        func compare<T: Comparable>(_ a: T?, _ b: T?, _ x: ExperimentSummary, _ y: ExperimentSummary) -> Bool {
            switch (a, b) {
            case let (a?, b?): return a == b ? x.number < y.number : (descending ? a > b : a < b)
            case (nil, nil): return x.number < y.number
            case (nil, _): return false
            case (_, nil): return true
            }
        }
        switch key {
        case "metric": return rows.sorted { compare($0.metric, $1.metric, $0, $1) }
        case "test": return rows.sorted { compare($0.testBPB, $1.testBPB, $0, $1) }
        case "status": return rows.sorted { compare($0.status, $1.status, $0, $1) }
        case "description": return rows.sorted { compare($0.description.lowercased(), $1.description.lowercased(), $0, $1) }
        case "researcher": return rows.sorted { compare($0.researcher, $1.researcher, $0, $1) }
        case "memory": return rows.sorted { compare($0.peakMemoryMB, $1.peakMemoryMB, $0, $1) }
        case "started": return rows.sorted { compare($0.startedAt, $1.startedAt, $0, $1) }
        case "compute":
            let c = { (s: ExperimentSummary) -> Double? in s.buildSeconds == nil && s.runSeconds == nil ? nil : (s.buildSeconds ?? 0) + (s.runSeconds ?? 0) }
            return rows.sorted { compare(c($0), c($1), $0, $1) }
        default: return descending ? rows.sorted { $0.number > $1.number } : rows
        }
    }

    /// The progress chart's points: the baseline, keeps and discards with a finite metric.
    public func chart(tag: String) throws -> DashboardModels.Chart {
        let plotted = try summaries(tag: tag).filter {
            ["baseline", "keep", "discard"].contains($0.status) && $0.metric?.isFinite == true
        }
        let kind = ["discard": 0.0, "keep": 1.0, "baseline": 2.0]
        return DashboardModels.Chart(
            metric: workspace.manifest.metric, lowerIsBetter: lowerIsBetter,
            points: plotted.map { [Double($0.number), $0.metric, kind[$0.status], $0.status == "discard" ? nil : $0.testBPB.flatMap { $0.isFinite ? $0 : nil }] },
            labels: plotted.map { $0.description.count > 120 ? String($0.description.prefix(119)) + "…" : $0.description })
    }

    // MARK: One experiment

    public func detail(tag: String, number: Int) throws -> DashboardModels.Detail {
        guard let r = try ledger.experiment(tag: tag, number: number) else {
            throw DashboardError.notFound("tag \(tag) has no experiment \(number)")
        }
        var metrics: [String: Double] = [:]
        let pairs: [(String, Double?)] = [("val_bpb", r.valBPB), ("peak_memory_mb", r.peakMemoryMB), ("mfu_percent", r.mfuPercent),
                                          ("total_tokens_M", r.totalTokensM), ("num_steps", r.numSteps.map(Double.init)),
                                          ("num_params_M", r.numParamsM), ("depth", r.depth.map(Double.init)),
                                          ("training_seconds", r.trainingSeconds), ("total_seconds", r.totalSeconds),
                                          ("build_seconds", r.buildSeconds), ("run_seconds", r.runSeconds)]
        for (key, value) in pairs { if let value, value.isFinite { metrics[key] = value } }
        let evidence = r.decisionEvidence.map {
            DashboardModels.Evidence(runs: $0.runs, mean: $0.mean, best: $0.best, bestRuns: $0.bestRuns, sigma: $0.sigma,
                                     threshold: $0.threshold, improvement: $0.improvement, verdict: $0.verdict, reason: $0.reason,
                                     disturbedRuns: ($0.measurements ?? []).filter { $0.disturbed != nil }.count)
        }
        let transcript = r.transcript.flatMap { try? JSONDecoder().decode([DashboardModels.TranscriptItem].self, from: Data($0.utf8)) } ?? []
        return DashboardModels.Detail(
            number: r.number, tag: r.tag, description: r.description, hypothesis: r.hypothesis, status: r.status, phase: r.phase,
            researcher: r.researcher, move: r.move, commit: r.commit, parentCommit: r.parentCommit, metric: r.metric,
            valBPB: r.valBPB, testBPB: showsTest ? r.testBPB : nil, metrics: metrics, evidence: evidence, error: r.error, diff: r.diff ?? "",
            logPath: r.logPath, logTail: r.logPath.map { LogTail.read($0, bytes: 32_768) } ?? "", transcript: transcript,
            inputTokens: r.inputTokens, outputTokens: r.outputTokens, cacheReadTokens: r.cacheReadTokens,
            cacheWriteTokens: r.cacheWriteTokens, costUSD: r.costUSD, buildFixes: r.buildFixes, worker: r.worker, slot: r.slot,
            program: r.program, window: r.window, startedAt: r.startedAt, finishedAt: r.finishedAt)
    }

    // MARK: Running now

    public func running(tag: String, now: Date = Date()) throws -> [DashboardModels.Running] {
        try ledger.runningExperiments(tag: tag).map { r in
            let text = r.logPath.map { LogTail.read($0, bytes: 1 << 20) } ?? ""
            let curve = LogTail.currentRunCurve(text).map { [Double($0.step), $0.loss, $0.tokensPerSecond] }
            return DashboardModels.Running(number: r.number, description: r.description, phase: r.phase, researcher: r.researcher,
                                           worker: r.worker, slot: r.slot, startedAt: r.startedAt,
                                           elapsedSeconds: now.timeIntervalSince(r.startedAt),
                                           budgetSeconds: workspace.manifest.budget.seconds, curve: curve)
        }
    }

    // MARK: Swarm and meta-loop

    public func swarm(tag: String) throws -> DashboardModels.Swarm {
        let rows = try summaries(tag: tag)
        let outcomes = rows.map { s -> ExperimentOutcome in
            var o = ExperimentOutcome(number: s.number, commit: nil, parentCommit: nil, description: s.description, hypothesis: "",
                                      researcher: s.researcher, status: ExperimentStatus(rawValue: s.status) ?? .crash,
                                      metric: s.metric, memoryGB: nil, move: nil, filesHash: nil)
            o.worker = s.worker; o.slot = s.slot
            if s.buildSeconds != nil || s.runSeconds != nil { o.computeSeconds = (s.buildSeconds ?? 0) + (s.runSeconds ?? 0) }
            o.startedAt = s.startedAt; o.finishedAt = s.finishedAt
            return o
        }
        let summary = SwarmSummary(outcomes: outcomes, slotCount: max(1, workspace.manifest.slots.count))
        let programs = try ledger.programs(tag: tag)
        let windows = try ledger.windows(tag: tag)
        var byProgram: [Int: (Int, Int)] = [:]
        for r in rows { if let p = r.program { byProgram[p, default: (0, 0)].0 += 1; if r.status == "keep" { byProgram[p]!.1 += 1 } } }
        return DashboardModels.Swarm(
            workers: summary.workers.map { .init(worker: $0.worker, researcher: $0.researcher, experiments: $0.experiments, keeps: $0.keeps) },
            slots: summary.slots.map { .init(slot: $0.slot, experiments: $0.experiments, computeHours: $0.computeHours) },
            utilisation: summary.utilisation, experimentsPerHour: summary.experimentsPerHour,
            programs: programs.map { p in
                let scored = windows.filter { $0.status == "done" && $0.program == p.number && $0.control != p.number }.compactMap(\.score)
                return .init(number: p.number, parent: p.parent, status: p.status, description: p.description, proposer: p.proposer,
                             reason: p.reason, windows: scored.count,
                             meanScore: scored.isEmpty ? nil : scored.reduce(0, +) / Double(scored.count),
                             experiments: byProgram[p.number]?.0 ?? 0, keeps: byProgram[p.number]?.1 ?? 0)
            },
            windows: windows.map { .init(number: $0.number, program: $0.program, control: $0.control, status: $0.status,
                                         baseMetric: $0.baseMetric, programProgress: $0.programProgress,
                                         controlProgress: $0.controlProgress, score: $0.score, scorePerHour: $0.scorePerHour) },
            incumbent: ProgramRecord.incumbent(of: programs)?.number)
    }
}

/// The latest summaries per tag with the stamp they were read under.
final class SummaryCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (signature: String, rows: [ExperimentSummary])] = [:]
    private var charts: [String: (signature: String, data: Data)] = [:]
    private var milestoneEntries: [String: (signature: String, milestones: [DashboardModels.Milestone])] = [:]

    func milestones(tag: String, signature: String) -> [DashboardModels.Milestone]? {
        lock.lock(); defer { lock.unlock() }
        return milestoneEntries[tag].flatMap { $0.signature == signature ? $0.milestones : nil }
    }

    func storeMilestones(_ milestones: [DashboardModels.Milestone], tag: String, signature: String) {
        lock.lock(); defer { lock.unlock() }
        milestoneEntries[tag] = (signature, milestones)
    }

    func chart(tag: String, signature: String) -> Data? {
        lock.lock(); defer { lock.unlock() }
        return charts[tag].flatMap { $0.signature == signature ? $0.data : nil }
    }

    func storeChart(_ data: Data, tag: String, signature: String) {
        lock.lock(); defer { lock.unlock() }
        charts[tag] = (signature, data)
    }

    func rows(tag: String, signature: String) -> [ExperimentSummary]? {
        lock.lock(); defer { lock.unlock() }
        return entries[tag].flatMap { $0.signature == signature ? $0.rows : nil }
    }

    func store(_ rows: [ExperimentSummary], tag: String, signature: String) {
        lock.lock(); defer { lock.unlock() }
        entries[tag] = (signature, rows)
    }
}

/// Why a request failed, as the API answers it.
public enum DashboardError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case badRequest(String)
    case portInUse(host: String, port: Int)

    public var description: String {
        switch self {
        case .notFound(let m), .badRequest(let m): return m
        case .portInUse(let host, let port):
            return "port \(port) on \(host) is already in use; choose another with --port (e.g. --port \(port == 65535 ? 8081 : port + 1))"
        }
    }
}
