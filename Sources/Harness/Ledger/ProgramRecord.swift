import AutoResearchCore
import Foundation
import GRDB

/// Where a program stands in the archive.
public enum ProgramStatus: String, Sendable, Codable, CaseIterable {
    /// Program 1: what the tag started with (the workspace's program.md and the researcher's settings).
    case original
    /// A challenger still being judged in windows against the incumbent.
    case live
    /// Kept on evidence: it became the default (the control) for new windows. The latest kept is the incumbent.
    case kept
    /// Judged and not kept (no better than the control, or out of windows).
    case retired
    /// Refused before it ran: it tried to change a protected field (see `ProgramGuard`) or was malformed.
    case refused
}

/// One research program in a tag's archive (the ledger's `programs` table), with its lineage.
public struct ProgramRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, TagNumbered {
    public static let databaseTableName = "programs"
    public var id: Int64?
    public var tag: String
    /// 1, 2, … in the order proposed.
    public var number: Int
    /// The program it was derived from; nil for the original.
    public var parent: Int?
    /// program.md as the LLM and command researchers get it.
    public var text: String
    /// The search researcher's settings, a JSON object of `SearchSettings` keys.
    public var settings: String
    /// What changed against the parent: settings key by key, then program.md line by line.
    public var diff: String
    /// Who proposed it: "workspace" for the original, "mutation", "anthropic:<model>", ….
    public var proposer: String
    public var description: String
    public var hypothesis: String
    /// A `ProgramStatus` raw value.
    public var status: String
    /// Why it was refused, retired or kept.
    public var reason: String?
    public var createdAt: Date
    public var keptAt: Date?
    /// What an LLM meta-researcher spent proposing it, and its transcript (secrets removed).
    public var costUSD: Double?
    public var transcript: String?

    public init(tag: String, number: Int, parent: Int?, draft: ProgramDraft, diff: String, proposer: String,
                description: String, hypothesis: String, status: ProgramStatus, createdAt: Date = Date()) {
        self.tag = tag; self.number = number; self.parent = parent; self.text = draft.text; self.settings = draft.settings
        self.diff = diff; self.proposer = proposer; self.description = description; self.hypothesis = hypothesis
        self.status = status.rawValue; self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    public var programStatus: ProgramStatus { ProgramStatus(rawValue: status) ?? .retired }

    /// The incumbent of an archive (the control of new windows): the latest kept program, else the original.
    public static func incumbent(of programs: [ProgramRecord]) -> ProgramRecord? {
        programs.filter { $0.programStatus == .kept }.max { ($0.keptAt ?? .distantPast) < ($1.keptAt ?? .distantPast) }
            ?? programs.first { $0.programStatus == .original }
    }
    public var draft: ProgramDraft { ProgramDraft(text: text, settings: settings) }
}
