import Foundation

/// The CPU time of a process and all its descendants, sampled from Linux's `/proc` while they run.
///
/// `wait4`'s resource usage counts only descendants that were waited for, and a sandbox (bubblewrap) exits without
/// waiting for the processes of its PID namespace, so the harness also walks the tree (`/proc/PID/task/TID/children`)
/// and keeps, per process, the largest user + system time it saw. A process that lives less than one sampling
/// interval, or the last interval of one, is missed: the figure is a lower bound, exact to about an interval × cores.
public final class ProcessTreeCPU: @unchecked Sendable {
    private let root: pid_t
    private var seen: [pid_t: Double] = [:]
    private let ticks: Double

    public init(root: pid_t) {
        self.root = root
        ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Samples the tree once.
    public func sample() {
        #if os(Linux)
        guard ticks > 0 else { return }
        var stack = [root]
        var visited = Set<pid_t>()
        while let pid = stack.popLast(), visited.insert(pid).inserted {
            if let cpu = cpuSeconds(of: pid) { seen[pid] = max(seen[pid] ?? 0, cpu) }
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            for task in tasks {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else { continue }
                stack += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
        }
        #endif
    }

    /// The CPU seconds seen so far, over every process of the tree.
    public var total: Double { seen.values.reduce(0, +) }

    /// utime + stime of one process, in seconds.
    private func cpuSeconds(of pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / ticks
    }
}
