import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How fast the machine itself runs while a run trains, measured by the harness: every half second a fixed chain of
/// arithmetic (no memory traffic) is timed in the harness thread's own CPU time.
///
/// Waiting for a core costs no CPU time, so neither other local processes nor the trainer itself (however many
/// threads it starts, however it uses the caches) can slow the probe; what slows it is the machine under the
/// operating system: a hypervisor lending the core to another tenant without reporting steal, a lower clock. On the
/// development machine a Python version of the probe took 2.6–2.8 ms beside runs that trained at 25–26 steps/s and
/// 4.0–5.2 ms beside runs at 20–23 steps/s of the same configuration, with no other process running. The median of a run's probes is recorded
/// with it (`RunMeasurement.probeMilliseconds`), and `Disturbance` compares it with the machine's recent norm.
public final class MachineProbe: @unchecked Sendable {
    private let lock = NSLock()
    private var running = false
    private var samples: [Double] = []
    /// Keeps the arithmetic from being optimised away.
    private var sink: UInt64 = 0

    public init() {}

    /// Starts probing every `interval` seconds on a thread of its own.
    public func start(interval: Double = 0.5) {
        lock.withLock { running = true }
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                let ms = MachineProbe.measure(&sink)
                lock.withLock { samples.append(ms) }
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.start()
    }

    /// Stops probing; the median of the probes in milliseconds, nil when fewer than 3 were taken.
    public func stop() -> Double? {
        let taken = lock.withLock { running = false; return samples }
        guard taken.count >= 3 else { return nil }
        let sorted = taken.sorted()
        return sorted[sorted.count / 2]
    }

    /// Thread CPU milliseconds of one fixed chain of 2 million dependent multiply-adds.
    static func measure(_ sink: inout UInt64) -> Double {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
        var x: UInt64 = sink | 1
        for i in 0..<2_000_000 { x = x &* 6364136223846793005 &+ UInt64(truncatingIfNeeded: i) }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
        sink = x
        return Double(end.tv_sec - start.tv_sec) * 1000 + Double(end.tv_nsec - start.tv_nsec) / 1e6
    }
}
