import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A control group per phase, where the machine lets the harness make one (root on cgroup v1, or a delegated v2
/// subtree): limits the kernel enforces on the phase's whole process tree, which `prlimit` cannot (the red team's
/// finding 8) — memory for all its processes together (`memory.limit_in_bytes` / `memory.max`; `prlimit --as` is
/// per process), its number of processes and threads (`pids.max`; `prlimit --nproc` counts every process of the
/// user), and the slot's cores (`cpuset.cpus`: `sched_setaffinity` beyond them fails).
///
/// Where none can be made (a normal user without delegation, no controller), phases run with `prlimit` alone, and
/// `Sandbox.limitsDescription` says so.
public struct PhaseCgroup: Sendable {
    /// The group's folders, one per controller hierarchy (one for v2).
    public let folders: [String]

    /// The parent folder in which the harness may make groups, per controller ("memory", "pids", "cpuset"), and
    /// whether the hierarchy is v2 (one folder for all).
    struct Parents: Sendable { var byController: [String: String]; var unified: Bool }

    static let parents: Parents? = detect()

    /// Which controllers this machine gives the harness, for `status` and the README ("memory, pids, cpuset (cgroup v1)").
    public static var available: String? {
        guard let p = parents, !p.byController.isEmpty else { return nil }
        return p.byController.keys.sorted().joined(separator: ", ") + (p.unified ? " (cgroup v2)" : " (cgroup v1)")
    }

    static func detect(procSelf: String = "/proc/self/cgroup", root: String = "/sys/fs/cgroup") -> Parents? {
        guard let text = try? String(contentsOfFile: procSelf, encoding: .utf8) else { return nil }
        var byController: [String: String] = [:]
        let wanted = ["memory", "pids", "cpuset"]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            for controller in parts[1].split(separator: ",").map(String.init) where wanted.contains(controller) {
                let dir = root + "/" + controller + parts[2]
                if access(dir, W_OK) == 0 { byController[controller] = dir }
            }
        }
        if !byController.isEmpty { return Parents(byController: byController, unified: false) }
        // v2: one hierarchy; the controllers our own group may hand to children.
        guard let own = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }).map({ String($0.dropFirst(3)) }) else { return nil }
        let dir = root + (own == "/" ? "" : own)
        guard access(dir, W_OK) == 0,
              let enabled = try? String(contentsOfFile: dir + "/cgroup.subtree_control", encoding: .utf8) else { return nil }
        for controller in wanted where enabled.split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == controller }) {
            byController[controller] = dir
        }
        return byController.isEmpty ? nil : Parents(byController: byController, unified: true)
    }

    /// A new group with these limits; nil where the machine gives none (or making it failed).
    public static func make(memoryMB: Int?, maxProcesses: Int, cpus: String?) -> PhaseCgroup? {
        guard let parents else { return nil }
        let name = "autoresearch-phase-\(UUID().uuidString.prefix(12).lowercased())"
        var folders: [String] = []
        func write(_ value: String, _ file: String) -> Bool {
            (try? value.write(toFile: file, atomically: false, encoding: .utf8)) != nil
        }
        let unique = Set(parents.byController.values)
        for parent in unique.sorted() {
            let folder = parent + "/" + name
            guard mkdir(folder, 0o755) == 0 else { continue }
            folders.append(folder)
        }
        let group = PhaseCgroup(folders: folders)
        for (controller, parent) in parents.byController {
            let folder = parent + "/" + name
            guard folders.contains(folder) else { continue }
            switch (controller, parents.unified) {
            case ("memory", false):
                if let memoryMB, !write(String(memoryMB * 1_048_576), folder + "/memory.limit_in_bytes") { group.remove(); return nil }
            case ("memory", true):
                if let memoryMB, !write(String(memoryMB * 1_048_576), folder + "/memory.max") { group.remove(); return nil }
            case ("pids", _):
                if !write(String(maxProcesses), folder + "/pids.max") { group.remove(); return nil }
            case ("cpuset", let unified):
                let mems = (try? String(contentsOfFile: parent + (unified ? "/cpuset.mems.effective" : "/cpuset.mems"), encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "0"
                let all = (try? String(contentsOfFile: parent + (unified ? "/cpuset.cpus.effective" : "/cpuset.cpus"), encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                if !unified || cpus != nil {
                    guard write(mems, folder + "/cpuset.mems"), write(cpus ?? all, folder + "/cpuset.cpus") else { group.remove(); return nil }
                }
            default: break
            }
        }
        return folders.isEmpty ? nil : group
    }

    /// Shell text that moves the shell running it (and so everything it starts) into the group, then `&&`.
    public var joinCommand: String {
        folders.map { "echo $$ > \(shellQuote($0 + "/cgroup.procs"))" }.joined(separator: " && ") + " && "
    }

    /// Removes the group's folders (once its processes are gone; retried briefly).
    public func remove() {
        for folder in folders {
            for _ in 0..<50 {
                if rmdir(folder) == 0 || errno == ENOENT { break }
                usleep(20_000)
            }
        }
    }
}
