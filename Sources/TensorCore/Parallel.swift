import Foundation
import Synchronization

// Tunables (ALL_CAPS, one per line, with the range the search researcher may move them in): the tensorcore
// research template's moves. Changing one changes speed, never results beyond float summation order.
public let PARALLEL_CHUNKS_PER_THREAD = 4      // range: 1..16
public let PARALLEL_SPIN_LIMIT = 100_000       // range: 1000..1000000

/// Our own parallel loops for the elementwise, normalisation and attention ops, and for splitting
/// large matrix products (BLAS itself runs single-threaded).
///
/// Work is split into at most `threads` contiguous chunks whose boundaries depend only on the range and
/// the thread count, so results are deterministic for a fixed thread count. The chunks run on a small
/// pool of persistent worker threads that spin briefly between ops (an op every few microseconds is
/// common in a training step) and sleep on a condition variable when idle, so a parallel op costs
/// about a microsecond of hand-off rather than a kernel wake-up.
public enum Parallel {
    /// Threads used by `forEachChunk` (the caller plus `threads − 1` workers); defaults to env
    /// `AUTORESEARCH_THREADS` or the active core count. Set it before the first parallel op.
    nonisolated(unsafe) public static var threads: Int = {
        if let s = ProcessInfo.processInfo.environment["AUTORESEARCH_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body` on disjoint contiguous sub-ranges of `0..<count`, in parallel when the work is large enough.
    /// - Parameters:
    ///   - count: the number of items.
    ///   - grain: the smallest number of items worth a thread of its own.
    /// The work is cut into up to `PARALLEL_CHUNKS_PER_THREAD` chunks per thread, claimed dynamically, so a thread that is
    /// descheduled (other processes on the cores) or starts late leaves its share to the others.
    @inline(__always)
    public static func forEachChunk(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        forEachChunk(count, grain: grain, perThread: PARALLEL_CHUNKS_PER_THREAD, body)
    }

    /// As ``forEachChunk(_:grain:_:)`` with at most `perThread` chunks per thread (1 for matrix products,
    /// where every extra piece repacks the shared operand).
    @inline(__always)
    static func forEachChunk(_ count: Int, grain: Int, perThread: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(threads == 1 ? 1 : threads * perThread, max(1, count / max(1, grain)))
        if chunks <= 1 { body(0..<count); return }
        func run(_ c: Int) {
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
        if !WorkerPool.shared(threads).run(chunks: chunks, run) {
            for c in 0..<chunks { run(c) }   // the pool is busy (a nested or concurrent call): run here
        }
    }

    /// A fixed number of pieces (at most one per thread) for deterministic per-piece partial sums.
    public static func chunkCount(_ count: Int, grain: Int = 1) -> Int {
        min(threads, max(1, count / max(1, grain)))
    }
}

/// Persistent worker threads. One job at a time, split into `chunks` fixed pieces that the caller and
/// the workers claim dynamically from a shared ticket (whoever is free takes the next piece), so a
/// worker that is asleep or descheduled never holds the caller up: the caller then runs the piece itself.
/// The pieces' boundaries do not depend on which thread runs them, so results stay deterministic.
///
/// The ticket packs (generation: 32 bits, chunk count: 16 bits, next chunk: 16 bits) in one atomic, so a
/// late worker can never claim a piece of a job that has already finished.
final class WorkerPool: @unchecked Sendable {
    nonisolated(unsafe) private static var pool: WorkerPool?
    private static let creation = NSLock()

    static func shared(_ size: Int) -> WorkerPool {
        if let p = pool, p.size == size { return p }
        creation.lock(); defer { creation.unlock() }
        if let p = pool, p.size == size { return p }
        let p = WorkerPool(size: size)
        pool = p
        return p
    }

    let size: Int
    private let busy = Atomic<Bool>(false)
    /// (generation << 32) | (chunks << 16) | next chunk.
    private let ticket = Atomic<Int>(0)
    /// Pieces of the current job finished so far.
    private let done = Atomic<Int>(0)
    /// Workers asleep on the condition variable (a job wakes them only when this is non-zero).
    private let sleepers = Atomic<Int>(0)
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// How many times a worker polls for the next job before it sleeps (a few hundred µs).
    private let spinLimit = PARALLEL_SPIN_LIMIT

    private init(size: Int) {
        self.size = size
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        for id in 1..<max(1, size) {
            let thread = Thread { [unowned self] in self.workerLoop(id) }
            thread.name = "tensorcore-\(id)"
            thread.start()
        }
    }

    /// Claims the next piece of generation `gen`; nil when that job has no pieces left (or is over).
    @inline(__always)
    private func claim(_ gen: Int) -> Int? {
        var t = ticket.load(ordering: .acquiring)
        while true {
            let index = t & 0xFFFF, chunks = (t >> 16) & 0xFFFF
            guard t >> 32 == gen, index < chunks else { return nil }
            let (exchanged, original) = ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing)
            if exchanged { return index }
            t = original
        }
    }

    /// Runs `body(c)` for c in 0..<chunks across the pool; false (nothing run) if the pool is busy.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        guard size > 1, chunks < 0x10000,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        withoutActuallyEscaping(body) { body in
            job = body
            done.store(0, ordering: .relaxed)
            let gen = ((ticket.load(ordering: .relaxed) >> 32) &+ 1) & 0x7FFF_FFFF
            ticket.store(gen << 32 | chunks << 16, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            var finished = 0
            while let c = claim(gen) { body(c); finished += 1 }
            if finished < chunks {
                done.add(finished, ordering: .releasing)
                while done.load(ordering: .acquiring) < chunks {}
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    private func workerLoop(_ id: Int) {
        var seen = 0
        while true {
            var spins = 0
            var gen = ticket.load(ordering: .acquiring) >> 32
            while gen == seen {
                spins += 1
                if spins > spinLimit {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while ticket.load(ordering: .sequentiallyConsistent) >> 32 == seen { pthread_cond_wait(wake, mutex) }
                    sleepers.subtract(1, ordering: .relaxed)
                    pthread_mutex_unlock(mutex)
                    spins = 0
                }
                gen = ticket.load(ordering: .acquiring) >> 32
            }
            seen = gen
            var finished = 0
            while let c = claim(gen) { job!(c); finished += 1 }
            if finished > 0 { done.add(finished, ordering: .releasing) }
        }
    }
}
