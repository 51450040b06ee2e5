import Dispatch
import Foundation

/// Our own parallel loops for the elementwise, normalisation and attention ops (BLAS has its own threads).
///
/// Work is split into at most `threads` contiguous chunks whose boundaries depend only on the range and
/// the thread count, so results are deterministic for a fixed thread count.
public enum Parallel {
    /// Threads used by `forEachChunk`; defaults to env `AUTORESEARCH_THREADS` or the active core count.
    nonisolated(unsafe) public static var threads: Int = {
        if let s = ProcessInfo.processInfo.environment["AUTORESEARCH_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body` on disjoint contiguous sub-ranges of `0..<count`, in parallel when the work is large enough.
    /// - Parameters:
    ///   - count: the number of items.
    ///   - grain: the smallest number of items worth a thread of its own (items × grain ≈ 10k flops is a good size).
    @inline(__always)
    public static func forEachChunk(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(threads, max(1, count / max(1, grain)))
        if chunks <= 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// The chunk boundaries `forEachChunk` would use, for deterministic per-chunk reductions.
    public static func chunkCount(_ count: Int, grain: Int = 1) -> Int {
        min(threads, max(1, count / max(1, grain)))
    }
}
