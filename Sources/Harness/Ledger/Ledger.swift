import AgentResearcher
import AutoResearchCore
import Foundation
import GRDB

/// One research tag: a branch `autoresearch/<tag>` and the manifest it was started with.
public struct TagRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "tags"
    public var tag: String
    public var branch: String
    /// SHA-256 of autoresearch.toml when the tag began.
    public var manifestHash: String
    public var createdAt: Date
    /// The workspace commit the tag started from.
    public var baselineCommit: String
    /// Noise σ of one run of the metric, from the baseline runs (later refined by re-runs); nil until known.
    public var noiseSigma: Double?

    /// A tag must be usable in a branch name and a directory name.
    public static func isValidName(_ tag: String) -> Bool {
        !tag.isEmpty && tag.count <= 64 && !tag.hasPrefix(".") && !tag.hasPrefix("-") && !tag.contains("..")
            && tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}

/// One experiment as the ledger stores it: the proposal, the commit, every summary metric, and the decision's evidence.
public struct ExperimentRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "experiments"
    public var id: Int64?
    public var tag: String
    /// 0 for the baseline, then 1, 2, ... in the order they started.
    public var number: Int
    public var parentCommit: String?
    public var commit: String?
    public var diff: String?
    public var description: String
    public var hypothesis: String = ""
    public var researcher: String
    public var move: String?
    public var filesHash: String?
    /// An `ExperimentStatus` raw value.
    public var status: String
    /// While running: propose, build, train, rerun (see `ExperimentStage`).
    public var phase: String?
    /// The manifest's metric (mean over the runs), the value decisions use.
    public var metric: Double?
    public var valBPB: Double?
    public var testBPB: Double?
    public var peakMemoryMB: Double?
    public var mfuPercent: Double?
    public var totalTokensM: Double?
    public var numSteps: Int?
    public var numParamsM: Double?
    public var depth: Int?
    public var buildSeconds: Double?
    /// Training seconds and total seconds as the subject's summary reports them (last run).
    public var trainingSeconds: Double?
    public var totalSeconds: Double?
    /// Wall-clock seconds of all the runs together, as the harness measured them.
    public var runSeconds: Double?
    public var logPath: String?
    /// `DecisionEvidence` as JSON.
    public var evidence: String?
    public var error: String?
    /// Process group of the child running now, so a resumed harness can kill one its predecessor left behind.
    public var pid: Int?
    public var startedAt: Date
    public var finishedAt: Date?
    /// What an LLM researcher spent on this experiment (all its turns, repairs included), at the manifest's prices.
    public var inputTokens: Int?
    public var outputTokens: Int?
    /// Prompt tokens written to and read from the provider's prompt cache (not in `inputTokens`).
    public var cacheWriteTokens: Int?
    public var cacheReadTokens: Int?
    public var costUSD: Double?
    /// The researcher's transcript (JSON array of entries, secrets removed); nil for the search researcher.
    public var transcript: String?
    /// How many failed builds went back to the researcher for a fix.
    public var buildFixes: Int?
    /// The worker (0, 1, …) whose researcher proposed it, the slot it built and trained in, and that slot's kind
    /// (the noise σ is estimated per kind).
    public var worker: Int?
    public var slot: String?
    public var slotKind: String?
    /// How many times it was rebased onto a newer best for re-validation.
    public var rebases: Int?
    /// Its worker's island when the swarm builds on islands; with the meta-loop, its arm (0 the candidate program, 1 the control).
    public var island: Int?
    /// The archived program that steered its researcher, and the meta-loop's window it ran in (nil outside the meta-loop).
    public var program: Int?
    public var window: Int?

    public init(tag: String, number: Int, parentCommit: String?, description: String, researcher: String,
                status: ExperimentStatus = .running, startedAt: Date = Date()) {
        self.tag = tag; self.number = number; self.parentCommit = parentCommit; self.description = description
        self.researcher = researcher; self.status = status.rawValue; self.startedAt = startedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The status as an enum (unknown values read as `crash`).
    public var experimentStatus: ExperimentStatus { ExperimentStatus(rawValue: status) ?? .crash }

    /// The decision's evidence, decoded.
    public var decisionEvidence: DecisionEvidence? {
        guard let evidence, let data = evidence.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(DecisionEvidence.self, from: data)
    }

    /// The shared, read-only view researchers and reports use.
    public var outcome: ExperimentOutcome {
        var o = ExperimentOutcome(number: number, commit: commit, parentCommit: parentCommit, description: description,
                                  hypothesis: hypothesis, researcher: researcher, status: experimentStatus, metric: metric,
                                  memoryGB: peakMemoryMB.map { $0 / 1024 }, move: move, filesHash: filesHash)
        o.worker = worker; o.slot = slot
        if buildSeconds != nil || runSeconds != nil { o.computeSeconds = (buildSeconds ?? 0) + (runSeconds ?? 0) }
        o.startedAt = startedAt; o.finishedAt = finishedAt
        return o
    }
}

/// The phases of a running experiment, shown by `autoresearch status` and the live display.
public enum ExperimentStage: String, Sendable {
    case propose, queued, build, train, rerun
}

/// The harness's durable record: SQLite (GRDB, WAL) in `.autoresearch/ledger.sqlite`, one transaction per state change,
/// so killing the harness at any moment loses at most the experiment in flight.
public final class Ledger: Sendable {
    public let url: URL
    let pool: DatabasePool

    /// Opens (creating and migrating as needed) the ledger at `url`.
    public init(url: URL) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(10)
        pool = try DatabasePool(path: url.path, configuration: config)
        try Ledger.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "tags") { t in
                t.primaryKey("tag", .text)
                t.column("branch", .text).notNull()
                t.column("manifestHash", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("baselineCommit", .text).notNull()
                t.column("noiseSigma", .double)
            }
            try db.create(table: "experiments") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("tag", .text).notNull().references("tags", onDelete: .cascade)
                t.column("number", .integer).notNull()
                t.column("parentCommit", .text)
                t.column("commit", .text)
                t.column("diff", .text)
                t.column("description", .text).notNull()
                t.column("hypothesis", .text).notNull().defaults(to: "")
                t.column("researcher", .text).notNull()
                t.column("move", .text)
                t.column("filesHash", .text)
                t.column("status", .text).notNull()
                t.column("phase", .text)
                t.column("metric", .double)
                t.column("valBPB", .double)
                t.column("testBPB", .double)
                t.column("peakMemoryMB", .double)
                t.column("mfuPercent", .double)
                t.column("totalTokensM", .double)
                t.column("numSteps", .integer)
                t.column("numParamsM", .double)
                t.column("depth", .integer)
                t.column("buildSeconds", .double)
                t.column("trainingSeconds", .double)
                t.column("totalSeconds", .double)
                t.column("runSeconds", .double)
                t.column("logPath", .text)
                t.column("evidence", .text)
                t.column("error", .text)
                t.column("pid", .integer)
                t.column("startedAt", .datetime).notNull()
                t.column("finishedAt", .datetime)
                t.uniqueKey(["tag", "number"])
            }
        }
        migrator.registerMigration("v2-researchers") { db in
            try db.alter(table: "experiments") { t in
                t.add(column: "inputTokens", .integer)
                t.add(column: "outputTokens", .integer)
                t.add(column: "costUSD", .double)
                t.add(column: "transcript", .text)
                t.add(column: "buildFixes", .integer)
            }
            try db.create(table: "notes") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("tag", .text).notNull().references("tags", onDelete: .cascade)
                t.column("author", .text).notNull()
                t.column("experiment", .integer)
                t.column("text", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v3-swarms") { db in
            try db.alter(table: "experiments") { t in
                t.add(column: "worker", .integer)
                t.add(column: "slot", .text)
                t.add(column: "slotKind", .text)
                t.add(column: "rebases", .integer)
            }
        }
        migrator.registerMigration("v4-islands") { db in
            try db.alter(table: "experiments") { t in t.add(column: "island", .integer) }
        }
        registerProgramMigration(&migrator)
        migrator.registerMigration("v6-prompt-cache") { db in
            try db.alter(table: "experiments") { t in
                t.add(column: "cacheWriteTokens", .integer)
                t.add(column: "cacheReadTokens", .integer)
            }
        }
        registerCoreMigration(&migrator)
        return migrator
    }

    // MARK: Tags

    public func tag(_ name: String) throws -> TagRecord? {
        try pool.read { try TagRecord.fetchOne($0, key: name) }
    }

    public func tags() throws -> [TagRecord] {
        try pool.read { try TagRecord.order(Column("createdAt")).fetchAll($0) }
    }

    public func insert(_ tag: TagRecord) throws {
        try pool.write { try tag.insert($0) }
    }

    public func setNoiseSigma(_ sigma: Double?, tag: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE tags SET noiseSigma = ? WHERE tag = ?", arguments: [sigma, tag])
        }
    }

    // MARK: Experiments

    /// Every experiment of `tag`, by number.
    public func experiments(tag: String) throws -> [ExperimentRecord] {
        try pool.read { try ExperimentRecord.filter(Column("tag") == tag).order(Column("number")).fetchAll($0) }
    }

    /// Inserts a new experiment (with a negative number: the next free number of its tag, 0 for the first) (in the same transaction) and returns it.
    public func start(_ experiment: ExperimentRecord) throws -> ExperimentRecord {
        try pool.write { db in
            var record = Self.redacted(experiment)
            if record.number < 0 {
                let max = try Int.fetchOne(db, sql: "SELECT MAX(number) FROM experiments WHERE tag = ?",
                                           arguments: [record.tag])
                record.number = max.map { $0 + 1 } ?? 0
            }
            try record.insert(db)
            return record
        }
    }

    /// Saves every column of `experiment` in one transaction.
    public func save(_ experiment: ExperimentRecord) throws {
        let record = Self.redacted(experiment)
        try pool.write { try record.update($0) }
    }

    /// The harness's secrets (values of `*_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASSWORD` in its environment), replaced by
    /// `[redacted]` in every text an experiment stores: description, hypothesis, diff, error, transcript. A command
    /// agent that prints a key into its DESCRIPTION line, or a diff that quotes one, never puts it in the ledger.
    static func redacted(_ record: ExperimentRecord) -> ExperimentRecord {
        let log = TranscriptLog(secrets: TranscriptLog.environmentSecrets())
        var r = record
        r.description = log.redact(r.description)
        r.hypothesis = log.redact(r.hypothesis)
        r.diff = r.diff.map(log.redact)
        r.error = r.error.map(log.redact)
        r.transcript = r.transcript.map(log.redact)
        return r
    }

    /// Marks every experiment of `tag` still `running` as `interrupted` (a harness before this one died) and returns them.
    public func interruptRunning(tag: String, reason: String) throws -> [ExperimentRecord] {
        try pool.write { db in
            var found = try ExperimentRecord
                .filter(Column("tag") == tag && Column("status") == ExperimentStatus.running.rawValue)
                .fetchAll(db)
            for i in found.indices {
                found[i].status = ExperimentStatus.interrupted.rawValue
                found[i].error = reason
                found[i].finishedAt = Date()
                try found[i].update(db)
            }
            return found
        }
    }

    /// Dollars the researchers of `tag` have spent so far.
    /// Includes what an LLM meta-researcher spent proposing programs.
    public func cost(tag: String) throws -> Double {
        try pool.read {
            try Double.fetchOne($0, sql: """
                SELECT (SELECT COALESCE(SUM(costUSD), 0) FROM experiments WHERE tag = ?)
                     + (SELECT COALESCE(SUM(costUSD), 0) FROM programs WHERE tag = ?)
                """, arguments: [tag, tag]) ?? 0
        }
    }

    // MARK: Notes

    /// The research notes of `tag`, oldest first.
    public func notes(tag: String) throws -> [ResearchNote] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT author, experiment, text, createdAt FROM notes WHERE tag = ? ORDER BY id", arguments: [tag])
                .map { ResearchNote(author: $0["author"], experiment: $0["experiment"], text: $0["text"], createdAt: $0["createdAt"]) }
        }
    }

    public func appendNote(_ note: ResearchNote, tag: String) throws {
        try pool.write { db in
            let text = TranscriptLog(secrets: TranscriptLog.environmentSecrets()).redact(note.text)
            try db.execute(sql: "INSERT INTO notes (tag, author, experiment, text, createdAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [tag, note.author, note.experiment, text, note.createdAt])
        }
    }

    /// The experiments of `tag` as researchers and reports see them.
    public func outcomes(tag: String) throws -> [ExperimentOutcome] {
        try experiments(tag: tag).map(\.outcome)
    }
}
