import Foundation
import Synchronization

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
    @inline(__always)
    public static func forEachChunk(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(threads, max(1, count / max(1, grain)))
        if chunks <= 1 { body(0..<count); return }
        func run(_ c: Int) {
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
        if !WorkerPool.shared(threads).run(chunks: chunks, run) {
            for c in 0..<chunks { run(c) }   // the pool is busy (a nested or concurrent call): run here
        }
    }

    /// The number of chunks `forEachChunk` uses, for deterministic per-chunk reductions.
    public static func chunkCount(_ count: Int, grain: Int = 1) -> Int {
        min(threads, max(1, count / max(1, grain)))
    }
}

/// Persistent worker threads. One job at a time: chunk c runs on thread c mod `size` (0 = the caller).
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
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private var job: ((Int) -> Void)?
    private var chunks = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// How many times a worker polls for the next job before it sleeps (roughly 50–100 µs).
    private let spinLimit = 20_000

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

    /// Runs `body(c)` for c in 0..<chunks across the pool; false (nothing run) if the pool is busy.
    func run(chunks: Int, _ body: (Int) -> Void) -> Bool {
        guard size > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        withoutActuallyEscaping(body) { body in
            job = body
            self.chunks = chunks
            pending.store(size - 1, ordering: .relaxed)
            pthread_mutex_lock(mutex)
            generation.add(1, ordering: .releasing)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
            var c = 0
            while c < chunks { body(c); c += size }
            while pending.load(ordering: .acquiring) > 0 {}
            job = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    private func workerLoop(_ id: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins > spinLimit {
                    pthread_mutex_lock(mutex)
                    while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wake, mutex) }
                    pthread_mutex_unlock(mutex)
                }
            }
            seen = generation.load(ordering: .acquiring)
            if let job {
                var c = id
                while c < chunks { job(c); c += size }
            }
            pending.subtract(1, ordering: .releasing)
        }
    }
}
