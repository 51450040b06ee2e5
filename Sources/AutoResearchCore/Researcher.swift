import Foundation

/// The outcome of one experiment, as a researcher and the report see it.
/// The ledger (Harness module) stores far more; this is the shared, read-only view.
public struct ExperimentOutcome: Sendable, Equatable, Codable {
    public var number: Int
    public var commit: String?
    public var parentCommit: String?
    public var description: String
    public var hypothesis: String
    public var researcher: String
    public var status: ExperimentStatus
    /// The subject's metric (val_bpb for the GPT subject); nil for a crash.
    public var metric: Double?
    /// Peak memory in GB as autoresearch's results.tsv reports it; nil for a crash.
    public var memoryGB: Double?
    /// The researcher's own label for the move it made, e.g. "hp:LEARNING_RATE:up" or "idea:gelu".
    /// The search researcher learns from these; nil for moves without a label.
    public var move: String?
    /// SHA-256 (hex) of the editable files' contents after the change, so nobody runs the same files twice.
    public var filesHash: String?

    public init(number: Int, commit: String? = nil, parentCommit: String? = nil, description: String,
                hypothesis: String = "", researcher: String = "search", status: ExperimentStatus,
                metric: Double? = nil, memoryGB: Double? = nil, move: String? = nil, filesHash: String? = nil) {
        self.number = number; self.commit = commit; self.parentCommit = parentCommit
        self.description = description; self.hypothesis = hypothesis; self.researcher = researcher
        self.status = status; self.metric = metric; self.memoryGB = memoryGB; self.move = move
        self.filesHash = filesHash
    }
}

/// Where an experiment stands. `keep`, `discard` and `crash` are autoresearch's three final
/// statuses (and the only ones results.tsv prints); the rest are the harness's own.
public enum ExperimentStatus: String, Sendable, Codable, CaseIterable {
    case baseline, running, keep, discard, crash, interrupted
    case researcherError = "researcher-error"
}

/// What a researcher sees when it is asked for the next change.
public struct ResearchContext: Sendable {
    /// A clean worktree at the current best commit. Read the editable files from here.
    public var worktree: URL
    /// Paths (relative to the worktree) that a proposal may change.
    public var editableFiles: [String]
    /// Every experiment of this tag so far, oldest first.
    public var history: [ExperimentOutcome]
    /// The metric of the current best commit (lower is better), if known.
    public var bestMetric: Double?
    /// The noise σ of the metric estimated from repeated baseline runs, if known.
    public var noiseSigma: Double?
    /// SHA-256 hashes of editable-file contents already tried (or in flight); never propose one again.
    public var triedFilesHashes: Set<String>
    /// Seed for any randomness of the researcher, so a session is reproducible.
    public var seed: UInt64

    public init(worktree: URL, editableFiles: [String], history: [ExperimentOutcome], bestMetric: Double?,
                noiseSigma: Double?, triedFilesHashes: Set<String> = [], seed: UInt64 = 0) {
        self.worktree = worktree; self.editableFiles = editableFiles; self.history = history
        self.bestMetric = bestMetric; self.noiseSigma = noiseSigma; self.triedFilesHashes = triedFilesHashes
        self.seed = seed
    }
}

/// One change proposed by a researcher.
public struct Proposal: Sendable, Equatable {
    /// New full contents of changed files, keyed by path relative to the worktree.
    public var files: [String: String]
    /// One line, shown in results.tsv: e.g. "LEARNING_RATE 0.002 → 0.003".
    public var description: String
    /// Why this should lower the metric.
    public var hypothesis: String
    /// The researcher's label for the kind of move (see `ExperimentOutcome.move`).
    public var move: String?

    public init(files: [String: String], description: String, hypothesis: String, move: String? = nil) {
        self.files = files; self.description = description; self.hypothesis = hypothesis; self.move = move
    }
}

/// Anything that proposes changes: the built-in search researcher, an LLM agent, an external command.
public protocol Researcher: AnyObject, Sendable {
    /// Short name recorded in the ledger ("search", "anthropic", ...).
    var name: String { get }
    /// Propose one change to the editable files in `context.worktree`.
    /// Throws `ResearcherError` when no proposal can be made.
    func propose(_ context: ResearchContext) async throws -> Proposal
}

public enum ResearcherError: Error, CustomStringConvertible, Equatable {
    case nothingLeftToTry(String)
    case failed(String)
    public var description: String {
        switch self {
        case .nothingLeftToTry(let why): return "the researcher has nothing left to try: \(why)"
        case .failed(let why): return "the researcher failed: \(why)"
        }
    }
}
