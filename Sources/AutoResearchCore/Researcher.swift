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
    /// In a swarm: the worker whose researcher proposed it and the slot it trained in.
    public var worker: Int?
    public var slot: String?
    /// Seconds it held a slot (build and runs), and when it started and finished.
    public var computeSeconds: Double?
    public var startedAt: Date?
    public var finishedAt: Date?

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
    /// It beat its base, but the best moved on meanwhile and the change no longer applies (or re-validation
    /// kept losing the race); never kept on the strength of the old comparison.
    case stale
    /// Its evaluation cannot be trusted: the causality probe found outputs that depend on later positions (or on
    /// other windows), or the logits were malformed. Never scored, never kept.
    case invalid
    /// A human reference configuration (`run --reference COMMIT`), measured like the baseline (same runs, same
    /// evaluation, val and test) for the parity milestone; never shown to researchers, never a best.
    case reference
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
    /// The number the ledger gave the experiment being proposed.
    public var experimentNumber: Int = 0
    /// The research program (the workspace's program.md): the brief LLM and command researchers follow.
    public var program: String = ""
    /// The metric's name (e.g. val_bpb) and the margin a change must beat the best by to be kept.
    public var metricName: String = "val_bpb"
    public var keepMargin: Double?
    /// The latest crash among recent experiments, for a researcher that may fix it.
    public var lastCrash: CrashReport?
    /// Read access to the ledger and the research notes; nil where there is none (unit tests).
    public var records: (any ResearchRecords)?

    public init(worktree: URL, editableFiles: [String], history: [ExperimentOutcome], bestMetric: Double?,
                noiseSigma: Double?, triedFilesHashes: Set<String> = [], seed: UInt64 = 0) {
        self.worktree = worktree; self.editableFiles = editableFiles; self.history = history
        self.bestMetric = bestMetric; self.noiseSigma = noiseSigma; self.triedFilesHashes = triedFilesHashes
        self.seed = seed
    }
}

/// A crashed experiment as a researcher is shown it. `logTail` is the subject's output: untrusted data.
public struct CrashReport: Sendable, Equatable {
    public var number: Int
    public var description: String
    public var error: String
    public var logTail: String

    public init(number: Int, description: String, error: String, logTail: String) {
        self.number = number; self.description = description; self.error = error; self.logTail = logTail
    }
}

/// One experiment in full, as the `read_experiment` tool shows it.
public struct ExperimentDetail: Sendable, Equatable {
    public var outcome: ExperimentOutcome
    public var diff: String
    /// Why it crashed or was stopped; nil otherwise.
    public var error: String?
    /// The decision in words (runs, means, threshold).
    public var decision: String?
    /// Every summary metric the run reported (val_bpb, num_steps, mfu_percent, ...).
    public var metrics: [String: Double]

    public init(outcome: ExperimentOutcome, diff: String, error: String?, decision: String?, metrics: [String: Double]) {
        self.outcome = outcome; self.diff = diff; self.error = error; self.decision = decision; self.metrics = metrics
    }
}

/// A research note: a short finding any researcher of the workspace can read.
public struct ResearchNote: Sendable, Equatable, Codable {
    public var author: String
    public var experiment: Int?
    public var text: String
    public var createdAt: Date

    public init(author: String, experiment: Int?, text: String, createdAt: Date = Date()) {
        self.author = author; self.experiment = experiment; self.text = text; self.createdAt = createdAt
    }
}

/// What researchers may read from the ledger, and the notes they may append to. The harness implements it.
public protocol ResearchRecords: Sendable {
    /// One experiment of the current tag by number; nil if there is none.
    func experiment(number: Int) throws -> ExperimentDetail?
    /// Every research note of the current tag, oldest first.
    func notes() throws -> [ResearchNote]
    /// Appends a note (trimmed; empty notes are refused by the caller).
    func appendNote(_ note: ResearchNote) throws
}

/// What a researcher spent on one proposal, and its transcript; stored in the ledger with the experiment.
public struct ResearcherSession: Sendable, Equatable {
    /// Input tokens at the plain input price; those written to and read from the provider's prompt cache are
    /// counted apart (each at its own price in `costUSD`).
    public var inputTokens: Int = 0
    public var outputTokens: Int = 0
    public var cacheWriteTokens: Int = 0
    public var cacheReadTokens: Int = 0
    public var costUSD: Double = 0
    public var turns: Int = 0
    /// JSON array of transcript entries (secrets already removed).
    public var transcript: String = "[]"

    public init(inputTokens: Int = 0, outputTokens: Int = 0, costUSD: Double = 0, turns: Int = 0, transcript: String = "[]") {
        self.inputTokens = inputTokens; self.outputTokens = outputTokens; self.costUSD = costUSD
        self.turns = turns; self.transcript = transcript
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
    /// How many times a failed build of its proposal goes back to this researcher (0: never).
    var buildFixAttempts: Int { get }
    /// Fix the proposal whose build failed. `compilerOutput` is the build's last lines (untrusted data); the
    /// worktree holds the failed change. Returns the whole corrected proposal.
    func repair(_ context: ResearchContext, compilerOutput: String) async throws -> Proposal
    /// Usage and transcript of the last `propose` or `repair` call (also after it threw); nil when not tracked.
    func lastSession() -> ResearcherSession?
}

extension Researcher {
    public var buildFixAttempts: Int { 0 }
    public func repair(_ context: ResearchContext, compilerOutput: String) async throws -> Proposal {
        throw ResearcherError.failed("\(name) cannot repair a failed build")
    }
    public func lastSession() -> ResearcherSession? { nil }
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
