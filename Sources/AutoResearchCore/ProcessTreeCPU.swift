import Foundation

/// The CPU time of a process and all its descendants, sampled from Linux's `/proc` while they run.
///
/// `wait4`'s resource usage counts only descendants that were waited for, and a sandbox (bubblewrap) exits without
/// waiting for the processes of its PID namespace, so the harness also walks the tree (`/proc/PID/task/TID/children`)
/// and keeps, per process, the largest user + system time it saw. It samples on a thread of its own (`start`), so
/// a busy task pool cannot starve it. A process that lives less than one sampling interval, or the last interval of
/// one, is missed: the figure is a lower bound, exact to about an interval × cores.
public final class ProcessTreeCPU: @unchecked Sendable {
    private let root: pid_t
    private let lock = NSLock()
    private var running = false
    private var seen: [pid_t: Double] = [:]
    /// The largest whole-tree total seen: every live process's own time plus what it reaped (cutime + cstime).
    private var largestTree = 0.0
    private let ticks: Double

    public init(root: pid_t) {
        self.root = root
        ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Samples every `interval` seconds on a thread of its own until `stop`.
    public func start(interval: Double = 0.2) {
        lock.withLock { running = true }
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                sample()
                Thread.sleep(forTimeInterval: interval)
            }
        }
        thread.start()
    }

    /// Samples once more and stops the sampling thread.
    public func stop() {
        sample()
        lock.withLock { running = false }
    }

    /// Samples the tree once.
    public func sample() {
        lock.lock(); defer { lock.unlock() }
        #if os(Linux)
        guard ticks > 0 else { return }
        var stack = [root]
        var visited = Set<pid_t>()
        var tree = 0.0
        defer { largestTree = max(largestTree, tree) }
        while let pid = stack.popLast(), visited.insert(pid).inserted {
            if let (own, reaped) = cpuSeconds(of: pid) {
                seen[pid] = max(seen[pid] ?? 0, own)
                tree += own + reaped
            }
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for task in tasks {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else { continue }
                stack += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
        }
        #endif
    }

    /// The CPU seconds seen so far, over every process of the tree: the larger of the per-process maxima and the
    /// largest whole-tree total (which also counts children reaped between samples).
    public var total: Double { lock.withLock { max(seen.values.reduce(0, +), largestTree) } }

    /// utime + stime of one process, and cutime + cstime (its reaped children's), in seconds.
    private func cpuSeconds(of pid: pid_t) -> (own: Double, reaped: Double)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3; utime, stime, cutime, cstime are fields 14–17.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let user = Double(fields[11]), let system = Double(fields[12]),
              let childUser = Double(fields[13]), let childSystem = Double(fields[14]) else { return nil }
        return ((user + system) / ticks, (childUser + childSystem) / ticks)
    }
}
