import Foundation

/// Bits per byte of a model on a whole split: the fixed metric (val_bpb, test_bpb).
///
/// The split is cut into non-overlapping windows of `maxSeqLen` targets: window `i` has inputs
/// `split[i*T ..< i*T + T]` and targets `split[i*T + 1 ..< i*T + T + 1]`, so every byte after the
/// first is a target exactly once, seen with the context of its window only. Full windows go to
/// `nll` in batches of up to `batchSize` rows; the last partial window (if any) goes alone with a
/// shorter `seqLen`. The result is
///
///     sum of per-target NLL in nats / (ln 2 × (split.count - 1))
///
/// which for a byte-level model is bits per byte (autoresearch's `evaluate_bpb`, with bytes as
/// tokens). Deterministic: the same model gives the same value.
///
/// - Parameters:
///   - nll: given row-major `[batch, seqLen]` inputs and targets (Int32 byte ids), returns the SUM
///     over all `batch × seqLen` targets of `-ln p(target)` in nats.
/// - Precondition: `split.count >= 2`, `maxSeqLen >= 1`, `batchSize >= 1`.
public func bitsPerByte(
    _ split: [UInt8], maxSeqLen: Int = maxSeqLen, batchSize: Int,
    nll: (_ inputs: [Int32], _ targets: [Int32], _ batch: Int, _ seqLen: Int) throws -> Double
) rethrows -> Double {
    precondition(split.count >= 2, "a split needs at least 2 bytes to have a target")
    precondition(maxSeqLen >= 1 && batchSize >= 1, "maxSeqLen and batchSize must be positive")
    let targetCount = split.count - 1
    let fullWindows = targetCount / maxSeqLen
    let tail = targetCount % maxSeqLen

    func batch(windows: Range<Int>, seqLen: Int) -> ([Int32], [Int32]) {
        var inputs: [Int32] = []
        var targets: [Int32] = []
        inputs.reserveCapacity(windows.count * seqLen)
        targets.reserveCapacity(windows.count * seqLen)
        for w in windows {
            let start = w * maxSeqLen
            for t in start..<start + seqLen {
                inputs.append(Int32(split[t]))
                targets.append(Int32(split[t + 1]))
            }
        }
        return (inputs, targets)
    }

    var total = 0.0
    var first = 0
    while first < fullWindows {
        let last = min(first + batchSize, fullWindows)
        let (inputs, targets) = batch(windows: first..<last, seqLen: maxSeqLen)
        total += try nll(inputs, targets, last - first, maxSeqLen)
        first = last
    }
    if tail > 0 {
        let (inputs, targets) = batch(windows: fullWindows..<fullWindows + 1, seqLen: tail)
        total += try nll(inputs, targets, 1, tail)
    }
    return total / (log(2.0) * Double(targetCount))
}
