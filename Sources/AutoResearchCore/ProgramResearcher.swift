import Foundation

/// A research *program*: what steers a researcher. LLM and command researchers read `text` (the
/// program.md they are given); the search researcher reads `settings` (a JSON object of its
/// `SearchSettings` keys, e.g. `{"stepSize": 2, "exploration": 0.1}`; keys left out keep their defaults).
public struct ProgramDraft: Sendable, Equatable, Codable {
    /// The program.md text.
    public var text: String
    /// The search researcher's settings as a JSON object (text), `{}` for the defaults.
    public var settings: String

    public init(text: String, settings: String = "{}") {
        self.text = text; self.settings = settings
    }
}

/// A new program proposed by a meta-researcher, with why, as an experiment has.
public struct ProgramProposal: Sendable, Equatable {
    /// The proposed program (the whole text and the whole settings object, not a diff).
    public var draft: ProgramDraft
    /// One line: what changed ("stepSize 1 → 2", "program.md: ask for one change at a time").
    public var description: String
    /// Why it should make research progress faster.
    public var hypothesis: String

    public init(draft: ProgramDraft, description: String, hypothesis: String) {
        self.draft = draft; self.description = description; self.hypothesis = hypothesis
    }
}

/// What a meta-researcher sees when it proposes a program.
public struct ProgramContext: Sendable {
    /// The program the new one starts from (its parent): the incumbent, kept on evidence.
    public var parent: ProgramDraft
    /// The parent's number in the archive.
    public var parentNumber: Int
    /// The archive as a table: number, parent, status, windows, mean score, description (the numbers are the harness's; the descriptions were written by meta-researchers and reach them fenced).
    public var archive: String
    /// Recent experiments of the research run, like results.tsv (descriptions came from researchers: untrusted).
    public var results: String
    /// The research notes (findings board) so far (written by researchers: untrusted).
    public var notes: String
    /// The files researchers may edit; a program can never widen them.
    public var editableFiles: [String]
    /// Fields a program may not set (editable files, budget, metric, spending caps, …): a proposal that sets
    /// one is refused and recorded.
    public var protectedFields: [String]
    /// For reproducible random choices.
    public var seed: UInt64
    /// The archive's programs, structured (the same programs as `archive`), oldest first.
    public var programs: [ArchivedProgram]

    public init(parent: ProgramDraft, parentNumber: Int, archive: String, results: String, notes: String,
                editableFiles: [String], protectedFields: [String], seed: UInt64, programs: [ArchivedProgram] = []) {
        self.parent = parent; self.parentNumber = parentNumber; self.archive = archive; self.results = results
        self.notes = notes; self.editableFiles = editableFiles; self.protectedFields = protectedFields; self.seed = seed
        self.programs = programs
    }
}

/// One program of the archive as a meta-researcher sees it: its lineage, settings, status and window scores.
public struct ArchivedProgram: Sendable, Equatable {
    public var number: Int
    /// The program it was derived from; nil for the original.
    public var parent: Int?
    /// The search researcher's settings, a JSON object.
    public var settings: String
    /// "original", "live", "kept", "retired" or "refused".
    public var status: String
    /// Its window scores against the control (each in -1…1; see the Harness's `MetaPolicy.score`).
    public var scores: [Double]

    public init(number: Int, parent: Int?, settings: String, status: String, scores: [Double]) {
        self.number = number; self.parent = parent; self.settings = settings; self.status = status; self.scores = scores
    }
}

/// A meta-researcher: proposes new research programs from the archive and the run's results.
/// Implementations: the Harness's offline `SettingsMutator` (mutates search settings, no LLM) and
/// AgentResearcher's `LLMProgramWriter` (an LLM rewrites program.md).
public protocol ProgramResearcher: Sendable {
    /// Recorded in the archive as the program's proposer, e.g. "mutation" or "anthropic:claude-…".
    var name: String { get }
    /// Proposes one new program.
    /// - Throws: `ResearcherError` when no proposal can be made (the meta-loop records it and keeps the incumbent).
    func proposeProgram(_ context: ProgramContext) async throws -> ProgramProposal
    /// Tokens, cost and transcript of the latest `proposeProgram` call; nil for researchers that use no LLM.
    func lastSession() -> ResearcherSession?
}

public extension ProgramResearcher {
    func lastSession() -> ResearcherSession? { nil }
}
