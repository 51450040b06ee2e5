import Foundation

/// The block a training run prints last, which the harness parses (autoresearch's keys, with CPU
/// peak memory instead of VRAM):
///
///     ---
///     val_bpb:          2.612345
///     training_seconds: 60.0
///     total_seconds:    71.9
///     peak_memory_mb:   412.3
///     mfu_percent:      31.20
///     total_tokens_M:   1.6
///     num_steps:        2051
///     num_params_M:     0.8
///     depth:            4
///
/// plus `test_bpb:` after `val_bpb:` when the test split was evaluated.
public struct Summary: Equatable, Sendable {
    /// Validation bits per byte (`bitsPerByte` on the validation split).
    public var valBpb: Double
    /// Seconds counted by the budget as training.
    public var trainingSeconds: Double
    /// Wall seconds of the whole run.
    public var totalSeconds: Double
    /// Peak resident memory of the process, MiB.
    public var peakMemoryMB: Double
    /// Model FLOPs utilisation, percent of the machine's peak.
    public var mfuPercent: Double
    /// Training tokens, millions.
    public var totalTokensM: Double
    public var numSteps: Int
    /// Parameters, millions.
    public var numParamsM: Double
    /// Number of transformer layers.
    public var depth: Int
    /// Test bits per byte, only when the harness asked (`AUTORESEARCH_EVAL_TEST=1`).
    public var testBpb: Double?

    public init(
        valBpb: Double, trainingSeconds: Double, totalSeconds: Double, peakMemoryMB: Double,
        mfuPercent: Double, totalTokensM: Double, numSteps: Int, numParamsM: Double, depth: Int,
        testBpb: Double? = nil
    ) {
        self.valBpb = valBpb
        self.trainingSeconds = trainingSeconds
        self.totalSeconds = totalSeconds
        self.peakMemoryMB = peakMemoryMB
        self.mfuPercent = mfuPercent
        self.totalTokensM = totalTokensM
        self.numSteps = numSteps
        self.numParamsM = numParamsM
        self.depth = depth
        self.testBpb = testBpb
    }

    /// The block, lines joined by `\n`, no trailing newline (print it with `print`). Each key and
    /// its colon are padded to 18 columns; bpb has 6 decimals, mfu 2, seconds/MB/millions 1.
    public func render() -> String {
        func line(_ key: String, _ value: String) -> String {
            let label = key + ":"
            return label + String(repeating: " ", count: max(1, 18 - label.count)) + value
        }
        func fixed(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
        var lines = ["---", line("val_bpb", fixed(valBpb, 6))]
        if let testBpb { lines.append(line("test_bpb", fixed(testBpb, 6))) }
        lines += [
            line("training_seconds", fixed(trainingSeconds, 1)),
            line("total_seconds", fixed(totalSeconds, 1)),
            line("peak_memory_mb", fixed(peakMemoryMB, 1)),
            line("mfu_percent", fixed(mfuPercent, 2)),
            line("total_tokens_M", fixed(totalTokensM, 1)),
            line("num_steps", String(numSteps)),
            line("num_params_M", fixed(numParamsM, 1)),
            line("depth", String(depth)),
        ]
        return lines.joined(separator: "\n")
    }

    /// The summary in a run's output: the LAST line `---` that is followed by `key: value` lines
    /// (anything may come before it). `test_bpb` is optional; every other key is required.
    /// - Throws: `SubjectError.summaryNotFound`, `.summaryMissingKey`, `.summaryInvalidValue`
    ///   (not a number, not a whole number where one is expected, NaN or infinite). The harness
    ///   counts any of them as a crash.
    public static func parse(_ text: String) throws -> Summary {
        let values = try block(text)
        func number(_ key: String) throws -> Double {
            guard let raw = values[key] else { throw SubjectError.summaryMissingKey(key) }
            guard let value = Double(raw), value.isFinite else { throw SubjectError.summaryInvalidValue(key: key, value: raw) }
            return value
        }
        func integer(_ key: String) throws -> Int {
            guard let raw = values[key] else { throw SubjectError.summaryMissingKey(key) }
            guard let value = Int(raw) else { throw SubjectError.summaryInvalidValue(key: key, value: raw) }
            return value
        }
        return Summary(
            valBpb: try number("val_bpb"), trainingSeconds: try number("training_seconds"),
            totalSeconds: try number("total_seconds"), peakMemoryMB: try number("peak_memory_mb"),
            mfuPercent: try number("mfu_percent"), totalTokensM: try number("total_tokens_M"),
            numSteps: try integer("num_steps"), numParamsM: try number("num_params_M"),
            depth: try integer("depth"), testBpb: values["test_bpb"] == nil ? nil : try number("test_bpb"))
    }

    /// The raw `key: value` lines of the last `---` block in `text` (the first value of a repeated key), with no key
    /// required: for subjects whose block is not SubjectKit's (an adopted autoresearch repository prints
    /// `peak_vram_mb`, no `depth`, …). - Throws: `SubjectError.summaryNotFound`.
    public static func block(_ text: String) throws -> [String: String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        func keyValue(_ line: String) -> (String, String)? {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let key = String(line[..<colon])
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else { return nil }
            return (key, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        guard let start = lines.indices.last(where: { i in
            lines[i] == "---" && i + 1 < lines.count && keyValue(lines[i + 1]) != nil
        }) else { throw SubjectError.summaryNotFound }
        var values: [String: String] = [:]
        for line in lines[(start + 1)...] {
            guard let (key, value) = keyValue(line) else { break }
            if values[key] == nil { values[key] = value }
        }
        return values
    }
}
