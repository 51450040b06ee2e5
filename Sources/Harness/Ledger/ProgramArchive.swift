import AutoResearchCore
import Foundation
import GRDB

/// A row numbered 1, 2, … within its tag.
protocol TagNumbered {
    var tag: String { get }
    var number: Int { get set }
}

/// One window of the meta-loop (the ledger's `windows` table): a candidate program and the control, each running
/// `experiments` experiments from the same base commit on the same slots, and the score that came of it.
public struct WindowRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, TagNumbered {
    public static let databaseTableName = "windows"
    public var id: Int64?
    public var tag: String
    /// 1, 2, … in order.
    public var number: Int
    /// The candidate program and the control (the incumbent when the window began).
    public var program: Int
    public var control: Int
    /// Both arms start here.
    public var baseCommit: String
    public var baseMetric: Double
    /// Experiments per arm.
    public var experiments: Int
    /// "running", "done" or "interrupted" (the harness stopped; the window is not scored).
    public var status: String
    /// How far each arm moved the metric from the base (≥ 0, in metric units), its experiments and compute seconds.
    public var programProgress: Double?
    public var controlProgress: Double?
    public var programExperiments: Int?
    public var controlExperiments: Int?
    public var programSeconds: Double?
    public var controlSeconds: Double?
    /// The score per experiment and per hour, in -1…1 (see `MetaPolicy.score`); the bandit uses `score`.
    public var score: Double?
    public var scorePerHour: Double?
    public var startedAt: Date
    public var finishedAt: Date?

    public init(tag: String, number: Int, program: Int, control: Int, baseCommit: String, baseMetric: Double,
                experiments: Int, startedAt: Date = Date()) {
        self.tag = tag; self.number = number; self.program = program; self.control = control
        self.baseCommit = baseCommit; self.baseMetric = baseMetric; self.experiments = experiments
        self.status = "running"; self.startedAt = startedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension Ledger {
    static func registerProgramMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-programs") { db in
            try db.create(table: "programs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("tag", .text).notNull().references("tags", onDelete: .cascade)
                t.column("number", .integer).notNull()
                t.column("parent", .integer)
                t.column("text", .text).notNull()
                t.column("settings", .text).notNull()
                t.column("diff", .text).notNull()
                t.column("proposer", .text).notNull()
                t.column("description", .text).notNull()
                t.column("hypothesis", .text).notNull()
                t.column("status", .text).notNull()
                t.column("reason", .text)
                t.column("createdAt", .datetime).notNull()
                t.column("keptAt", .datetime)
                t.column("costUSD", .double)
                t.column("transcript", .text)
                t.uniqueKey(["tag", "number"])
            }
            try db.create(table: "windows") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("tag", .text).notNull().references("tags", onDelete: .cascade)
                t.column("number", .integer).notNull()
                t.column("program", .integer).notNull()
                t.column("control", .integer).notNull()
                t.column("baseCommit", .text).notNull()
                t.column("baseMetric", .double).notNull()
                t.column("experiments", .integer).notNull()
                t.column("status", .text).notNull()
                for column in ["programProgress", "controlProgress", "programSeconds", "controlSeconds", "score", "scorePerHour"] {
                    t.column(column, .double)
                }
                t.column("programExperiments", .integer)
                t.column("controlExperiments", .integer)
                t.column("startedAt", .datetime).notNull()
                t.column("finishedAt", .datetime)
                t.uniqueKey(["tag", "number"])
            }
            try db.alter(table: "experiments") { t in
                t.add(column: "program", .integer)
                t.add(column: "window", .integer)
            }
        }
    }

    /// The archive of `tag`, by number.
    public func programs(tag: String) throws -> [ProgramRecord] { try numbered(ProgramRecord.self, tag: tag) }

    /// Adds a program with the next free number of its tag (its `number` is ignored) and returns it.
    public func addProgram(_ program: ProgramRecord) throws -> ProgramRecord { try addNumbered(program) }

    public func save(_ program: ProgramRecord) throws {
        try pool.write { try program.update($0) }
    }

    /// The windows of `tag`, by number.
    public func windows(tag: String) throws -> [WindowRecord] { try numbered(WindowRecord.self, tag: tag) }

    /// Adds a window with the next free number of its tag and returns it.
    public func addWindow(_ window: WindowRecord) throws -> WindowRecord { try addNumbered(window) }

    public func save(_ window: WindowRecord) throws {
        try pool.write { try window.update($0) }
    }

    /// The rows of `type`'s table for `tag`, by number.
    private func numbered<R: FetchableRecord & TableRecord>(_ type: R.Type, tag: String) throws -> [R] {
        try pool.read { try R.filter(Column("tag") == tag).order(Column("number")).fetchAll($0) }
    }

    /// Inserts `record` as number max + 1 of its tag (1 for the first), in one transaction, and returns it.
    private func addNumbered<R: MutablePersistableRecord & TagNumbered>(_ record: R) throws -> R {
        try pool.write { db in
            var row = record
            let max = try Int.fetchOne(db, sql: "SELECT MAX(number) FROM \(R.databaseTableName) WHERE tag = ?", arguments: [row.tag])
            row.number = (max ?? 0) + 1
            try row.insert(db)
            return row
        }
    }

    /// Marks the windows of `tag` still running as interrupted (the harness stopped mid-window) and returns how many.
    @discardableResult
    public func interruptWindows(tag: String) throws -> Int {
        try pool.write { db in
            try db.execute(sql: "UPDATE windows SET status = 'interrupted', finishedAt = ? WHERE tag = ? AND status = 'running'",
                           arguments: [Date(), tag])
            return db.changesCount
        }
    }
}
