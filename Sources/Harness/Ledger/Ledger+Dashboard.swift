import AutoResearchCore
import Foundation
import GRDB

/// One experiment without its large texts (diff, transcript, evidence, log): what a table or a chart of thousands
/// of experiments needs, read in one query.
public struct ExperimentSummary: Codable, Sendable, Equatable {
    public var number: Int
    public var description: String
    public var status: String
    public var phase: String?
    public var researcher: String
    public var metric: Double?
    public var testBPB: Double?
    public var peakMemoryMB: Double?
    public var worker: Int?
    public var slot: String?
    public var program: Int?
    public var window: Int?
    public var buildSeconds: Double?
    public var runSeconds: Double?
    public var costUSD: Double?
    public var startedAt: Date
    public var finishedAt: Date?

    public init(number: Int, description: String, status: String, researcher: String, startedAt: Date) {
        self.number = number; self.description = description; self.status = status; self.researcher = researcher
        self.startedAt = startedAt
    }
}

/// A cheap fingerprint of a tag's rows: it changes whenever an experiment starts, changes phase, finishes or is
/// re-scored, and when the meta-loop's archive grows. The dashboard polls it to know when to push an update.
public struct LedgerStamp: Sendable, Equatable {
    /// Every aggregate in one string (compare stamps by it).
    public var signature: String
    /// The latest `finishedAt` of the tag (experiments finished after an earlier stamp's are new).
    public var lastFinished: Date?
    public var experiments: Int
}

extension Ledger {
    static let summaryColumns = "number, description, status, phase, researcher, metric, testBPB, peakMemoryMB, worker, slot, program, window, buildSeconds, runSeconds, costUSD, startedAt, finishedAt"

    /// A row of `summaryColumns`, read by position (thousands of rows: no lookups by name).
    static func summary(_ row: Row) -> ExperimentSummary {
        var s = ExperimentSummary(number: row[0], description: row[1], status: row[2], researcher: row[4], startedAt: row[15])
        s.phase = row[3]; s.metric = row[5]; s.testBPB = row[6]; s.peakMemoryMB = row[7]
        s.worker = row[8]; s.slot = row[9]; s.program = row[10]; s.window = row[11]
        s.buildSeconds = row[12]; s.runSeconds = row[13]; s.costUSD = row[14]; s.finishedAt = row[16]
        return s
    }

    /// Every experiment of `tag` by number, without diffs, transcripts, evidence or errors (one query).
    public func experimentSummaries(tag: String) throws -> [ExperimentSummary] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.summaryColumns) FROM experiments WHERE tag = ? ORDER BY number",
                             arguments: [tag]).map(Self.summary)
        }
    }

    /// The summaries of the experiments of `tag` that finished after `date` (all finished ones when nil), by number.
    public func experimentSummaries(tag: String, finishedAfter date: Date?) throws -> [ExperimentSummary] {
        try pool.read { db in
            let sql = "SELECT \(Self.summaryColumns) FROM experiments WHERE tag = ? AND finishedAt IS NOT NULL"
                + (date == nil ? "" : " AND finishedAt > ?") + " ORDER BY number"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments([tag] + (date.map { [$0 as DatabaseValueConvertible] } ?? [])))
                .map(Self.summary)
        }
    }

    /// Experiment `number` of `tag` with every column; nil when there is none.
    public func experiment(tag: String, number: Int) throws -> ExperimentRecord? {
        try pool.read { try ExperimentRecord.filter(Column("tag") == tag && Column("number") == number).fetchOne($0) }
    }

    /// The experiments of `tag` running now, with every column.
    public func runningExperiments(tag: String) throws -> [ExperimentRecord] {
        try pool.read {
            try ExperimentRecord.filter(Column("tag") == tag && Column("status") == ExperimentStatus.running.rawValue)
                .order(Column("number")).fetchAll($0)
        }
    }

    /// The tag's fingerprint (a few aggregates over the tag's index: cheap enough to read every second).
    public func stamp(tag: String) throws -> LedgerStamp {
        try pool.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS maxID, MAX(finishedAt) AS lastFinished,
                       TOTAL(metric) + TOTAL(costUSD) + TOTAL(runSeconds) + TOTAL(buildSeconds) AS metrics, TOTAL(testBPB) AS tests,
                       (SELECT group_concat(number || ':' || COALESCE(phase, ''), ',') FROM experiments
                          WHERE tag = ?1 AND status = 'running') AS running,
                       (SELECT COUNT(*) || '/' || COALESCE(group_concat(status, ''), '') FROM programs WHERE tag = ?1) AS programs,
                       (SELECT COUNT(*) || '/' || COALESCE(group_concat(status, ''), '') FROM windows WHERE tag = ?1) AS windows,
                       (SELECT COALESCE(noiseSigma, 0) FROM tags WHERE tag = ?1) AS sigma
                FROM experiments WHERE tag = ?1
                """, arguments: [tag])!
            let n: Int = row["n"], maxID: Int64 = row["maxID"], metrics: Double = row["metrics"], tests: Double = row["tests"]
            let last: String? = row["lastFinished"], running: String? = row["running"]
            let programs: String = row["programs"], windows: String = row["windows"], sigma: Double? = row["sigma"]
            let signature = "\(n)|\(maxID)|\(last ?? "")|\(metrics)|\(tests)|\(running ?? "")|\(programs)|\(windows)|\(sigma ?? 0)"
            return LedgerStamp(signature: signature, lastFinished: row["lastFinished"], experiments: n)
        }
    }
}

extension Ledger {
    /// Inserts `experiments` as they are (their numbers kept) in one transaction: for demonstration ledgers,
    /// benchmarks and tests that need thousands of rows quickly. Texts are redacted like every other write.
    public func importExperiments(_ experiments: [ExperimentRecord]) throws {
        try pool.write { db in
            for experiment in experiments {
                var record = Self.redacted(experiment)
                try record.insert(db)
            }
        }
    }
}

extension TagRecord {
    /// A tag record for a ledger made outside the loop (demonstrations, benchmarks, tests); the branch is
    /// `autoresearch/<tag>`.
    public static func recorded(tag: String, manifestHash: String, baselineCommit: String, createdAt: Date = Date(),
                                noiseSigma: Double? = nil) -> TagRecord {
        TagRecord(tag: tag, branch: "autoresearch/\(tag)", manifestHash: manifestHash, createdAt: createdAt,
                  baselineCommit: baselineCommit, noiseSigma: noiseSigma)
    }
}

extension Ledger {
    /// The experiments of `tag` with one of `statuses`, every column, by number (e.g. the baseline and the keeps,
    /// without reading thousands of discards).
    public func experiments(tag: String, statuses: [ExperimentStatus]) throws -> [ExperimentRecord] {
        try pool.read {
            try ExperimentRecord.filter(Column("tag") == tag && statuses.map(\.rawValue).contains(Column("status")))
                .order(Column("number")).fetchAll($0)
        }
    }
}
