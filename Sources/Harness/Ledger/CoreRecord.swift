import AutoResearchCore
import Foundation
import GRDB

/// Where a workspace's tensor core came from (the ledger's `cores` table): one row per `autoresearch adopt-core`
/// into the workspace, or per `init` of a GPT workspace from a source tree whose core was adopted.
///
/// Keyed by `commit`, the workspace commit the core landed in: a tag whose baseline is that commit runs on it.
public struct CoreRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "cores"
    public var id: Int64?
    /// The workspace commit that holds the adopted core (the new tag's baseline; for `init`, the baseline commit).
    public var commit: String
    /// The tag started on it by `adopt-core`; nil for a core that came with `init`.
    public var tag: String?
    /// The tensorcore workspace it came from (its path when adopted), its tag and the commit whose files were taken.
    public var sourceWorkspace: String
    public var sourceTag: String
    public var sourceCommit: String
    /// The source's metric (`speedup`; `tokens_per_second` before the reference core) at its baseline and at the adopted commit, as its ledger recorded them.
    public var sourceMetric: String
    public var sourceBaseline: Double?
    public var sourceBest: Double?
    /// True when the adopted commit was a keep; false when it was the source tag's baseline (`--allow-baseline`).
    public var sourceKept: Bool
    /// SHA-256 of each adopted file, a JSON object `{path: hash}`.
    public var files: String
    public var adoptedAt: Date

    /// The adopted files' hashes, decoded.
    public var fileHashes: [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(files.utf8))) ?? [:]
    }

    /// One line for `status`: "tensor core: from /ws tag t1 commit abc1234 (keep), speedup 1.0000 → 1.2000 (+20.0%)".
    public var summary: String {
        // A ratio (the speedup over the reference core) to 4 decimals; a rate (tokens per second) to 1.
        func number(_ v: Double?) -> String { v.map { String(format: abs($0) < 100 ? "%.4f" : "%.1f", $0) } ?? "—" }
        var line = "tensor core: from \(sourceWorkspace) tag \(sourceTag) commit \(sourceCommit.prefix(12))"
            + (sourceKept ? "" : " (its baseline, not a keep)")
            + ", \(sourceMetric) \(number(sourceBaseline)) → \(number(sourceBest))"
        if let b = sourceBaseline, let k = sourceBest, b != 0 { line += String(format: " (%+.1f%%)", (k / b - 1) * 100) }
        return line + "; \(fileHashes.count) file(s) adopted at \(commit.prefix(7))"
    }
}

extension Ledger {
    static func registerCoreMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-cores") { db in
            try db.create(table: "cores") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("commit", .text).notNull()
                t.column("tag", .text)
                t.column("sourceWorkspace", .text).notNull()
                t.column("sourceTag", .text).notNull()
                t.column("sourceCommit", .text).notNull()
                t.column("sourceMetric", .text).notNull()
                t.column("sourceBaseline", .double)
                t.column("sourceBest", .double)
                t.column("sourceKept", .boolean).notNull()
                t.column("files", .text).notNull()
                t.column("adoptedAt", .datetime).notNull()
            }
        }
    }

    /// Every recorded core, oldest first.
    public func cores() throws -> [CoreRecord] {
        try pool.read { try CoreRecord.order(Column("id")).fetchAll($0) }
    }

    /// The core that landed in `commit` (the latest, should there be several).
    public func core(commit: String) throws -> CoreRecord? {
        try pool.read { try CoreRecord.filter(Column("commit") == commit).order(Column("id").desc).fetchOne($0) }
    }

    /// Records a core and, in the same transaction, the tag started on it (if any).
    public func insertCore(_ core: CoreRecord, tag: TagRecord?) throws {
        try pool.write { db in
            if let tag { try tag.insert(db) }
            var record = core
            try record.insert(db)
        }
    }
}
