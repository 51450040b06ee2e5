import Foundation

/// What the training phase reports about itself, printed after a `---` line at its end. It is logged and
/// shown, never trusted for a decision: the harness measures the training time itself and computes val_bpb from
/// the evaluation phase's logits.
///
///     ---
///     training_seconds: 60.0
///     peak_memory_mb:   412.3
///     mfu_percent:      31.20
///     total_tokens_M:   1.6
///     num_steps:        2051
///     num_params_M:     0.8
///     depth:            4
public struct TrainingReport: Equatable, Sendable {
    public var trainingSeconds: Double
    public var peakMemoryMB: Double
    public var mfuPercent: Double
    public var totalTokensM: Double
    public var numSteps: Int
    public var numParamsM: Double
    public var depth: Int

    public init(trainingSeconds: Double, peakMemoryMB: Double, mfuPercent: Double, totalTokensM: Double,
                numSteps: Int, numParamsM: Double, depth: Int) {
        self.trainingSeconds = trainingSeconds; self.peakMemoryMB = peakMemoryMB; self.mfuPercent = mfuPercent
        self.totalTokensM = totalTokensM; self.numSteps = numSteps; self.numParamsM = numParamsM; self.depth = depth
    }

    public func render() -> String {
        func line(_ key: String, _ value: String) -> String { (key + ":").padding(toLength: 18, withPad: " ", startingAt: 0) + value }
        return ["---",
                line("training_seconds", String(format: "%.1f", trainingSeconds)),
                line("peak_memory_mb", String(format: "%.1f", peakMemoryMB)),
                line("mfu_percent", String(format: "%.2f", mfuPercent)),
                line("total_tokens_M", String(format: "%.1f", totalTokensM)),
                line("num_steps", String(numSteps)),
                line("num_params_M", String(format: "%.1f", numParamsM)),
                line("depth", String(depth))].joined(separator: "\n")
    }

    /// The last report in a log's text; nil when there is none or a value is missing (it is information only).
    public static func parse(_ text: String) -> TrainingReport? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.lastIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" }) else { return nil }
        var values: [String: Double] = [:]
        for line in lines[(start + 1)...] {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let v = Double(parts[1].trimmingCharacters(in: .whitespaces)), v.isFinite else { continue }
            values[parts[0].trimmingCharacters(in: .whitespaces)] = v
        }
        guard let seconds = values["training_seconds"], let memory = values["peak_memory_mb"], let mfu = values["mfu_percent"],
              let tokens = values["total_tokens_M"], let steps = values["num_steps"], let params = values["num_params_M"],
              let depth = values["depth"], let stepCount = Int(checking: steps), let layers = Int(checking: depth) else { return nil }
        return TrainingReport(trainingSeconds: seconds, peakMemoryMB: memory, mfuPercent: mfu, totalTokensM: tokens,
                              numSteps: stepCount, numParamsM: params, depth: layers)
    }
}

extension Int {
    /// `value` rounded to an Int when it is finite and in range, else nil: a printed `num_steps: 1e19` must never
    /// trap the reader (the red team's finding 7).
    public init?(checking value: Double) {
        guard value.isFinite, let exact = Int(exactly: value.rounded()) else { return nil }
        self = exact
    }
}
