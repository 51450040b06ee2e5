import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The CPU time of a machine's cores, from Linux's `/proc/stat`: how the harness sees other processes' load.
public enum MachineLoad {
    /// Busy seconds (user, nice, system, irq, softirq, steal) summed over `cores` (all when nil) since boot; nil
    /// where `/proc/stat` cannot be read (not Linux).
    public static func busySeconds(cores: [Int]?) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard ticks > 0 else { return nil }
        var total = 0.0, found = false
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") {
            let fields = line.split(separator: " ")
            let name = fields[0]
            if let cores {
                guard let core = Int(name.dropFirst(3)), cores.contains(core) else { continue }
            } else if name != "cpu" { continue }
            let v = fields.dropFirst().map { Double($0) ?? 0 }
            guard v.count >= 8 else { continue }
            total += v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
            found = true
        }
        return found ? total / ticks : nil
    }

    /// Cores other processes kept busy on average: (busy seconds of the cores − the run's own CPU seconds) / wall seconds.
    public static func foreignCores(busyBefore: Double?, busyAfter: Double?, ownCPUSeconds: Double?, wallSeconds: Double) -> Double? {
        guard let busyBefore, let busyAfter, let ownCPUSeconds, wallSeconds > 0 else { return nil }
        return max(0, (busyAfter - busyBefore - ownCPUSeconds) / wallSeconds)
    }
}
