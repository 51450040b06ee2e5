/// Seeded random training windows from a byte corpus.
///
/// Each row is a window of `seqLen + 1` consecutive bytes starting at a uniform random offset in
/// `0...(data.count - seqLen - 1)`: inputs are its first `seqLen` bytes, targets the last `seqLen`
/// (the same window shifted by one). The offsets come from `SplitMix64(seed)`, so a seed gives the
/// same batches on every platform.
public struct BatchLoader {
    public let data: [UInt8]
    public let batchSize: Int
    public let seqLen: Int
    private var random: SplitMix64

    /// - Precondition: `batchSize >= 1`, `seqLen >= 1`, `data.count >= seqLen + 1`.
    public init(data: [UInt8], batchSize: Int, seqLen: Int, seed: UInt64) {
        precondition(batchSize >= 1 && seqLen >= 1, "batchSize and seqLen must be positive")
        precondition(data.count >= seqLen + 1, "need at least seqLen + 1 = \(seqLen + 1) bytes, have \(data.count)")
        self.data = data
        self.batchSize = batchSize
        self.seqLen = seqLen
        random = SplitMix64(seed: seed)
    }

    /// Tokens per batch (`batchSize * seqLen`), for `TrainingBudget.record(tokens:)`.
    public var tokensPerBatch: Int { batchSize * seqLen }

    /// The next batch: `inputs` and `targets` are row-major `[batchSize, seqLen]` token ids with
    /// `targets[b, t] == inputs[b, t + 1]` for `t < seqLen - 1`.
    public mutating func next() -> (inputs: [Int32], targets: [Int32]) {
        var inputs = [Int32](repeating: 0, count: batchSize * seqLen)
        var targets = inputs
        let starts = UInt64(data.count - seqLen)  // offsets 0..<starts
        data.withUnsafeBufferPointer { bytes in
            for row in 0..<batchSize {
                let start = Int(random.next(below: starts))
                for t in 0..<seqLen {
                    inputs[row * seqLen + t] = Int32(bytes[start + t])
                    targets[row * seqLen + t] = Int32(bytes[start + t + 1])
                }
            }
        }
        return (inputs, targets)
    }
}
