import AutoResearchCore
import Foundation

/// A compute slot: where one experiment builds and trains, alone.
///
/// A local slot is a set of CPU cores (the subject is pinned to them with `taskset`, and its thread counts —
/// `AUTORESEARCH_THREADS` for our tensor core, `OMP_NUM_THREADS` and `OPENBLAS_NUM_THREADS` for other subjects — match their number)
/// or a set of GPUs (`CUDA_VISIBLE_DEVICES`). A slot with neither takes the whole machine (the default: one slot).
public struct Slot: Sendable, Equatable {
    public var name: String
    /// CPU list for `taskset -c` (e.g. "0-3" or "0,2"); nil = not pinned.
    public var cpus: String?
    /// GPU ids for `CUDA_VISIBLE_DEVICES` (e.g. "0" or "0,1"); nil = none.
    public var gpus: String?
    /// Set for a Slurm slot: every build and run of an experiment in it is a batch job with these resources.
    public var slurm: SlurmResources?

    public init(name: String, cpus: String? = nil, gpus: String? = nil, slurm: SlurmResources? = nil) {
        self.name = name; self.cpus = cpus; self.gpus = gpus; self.slurm = slurm
    }

    /// The cores of `cpus` (e.g. "0-2,5" → [0, 1, 2, 5]); nil when it is not a valid list.
    public static func cores(_ list: String) -> [Int]? {
        var cores: [Int] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard bounds.allSatisfy({ $0 != nil }), let lo = bounds.first!, let hi = bounds.last!, bounds.count <= 2, lo >= 0, hi >= lo else { return nil }
            cores += Array(lo...hi)
        }
        return cores.isEmpty ? nil : cores
    }

    /// Slots of the same kind are interchangeable for the noise estimate: same core count, same GPU count.
    public var kind: String {
        if let slurm { return "slurm:\(slurm.partition ?? "default")/cpu\(slurm.cpusPerTask)/gpu\(slurm.gpus)" }
        if let gpus { return "gpu\(gpus.split(separator: ",").count)" }
        if let cpus, let cores = Slot.cores(cpus) { return "cpu\(cores.count)" }
        return "machine"
    }

    /// Variables the subject gets in this slot.
    public var environment: [String: String] {
        var env: [String: String] = [:]
        if let cpus, let n = Slot.cores(cpus)?.count {
            env["AUTORESEARCH_THREADS"] = String(n)
            env["OMP_NUM_THREADS"] = String(n)
            env["OPENBLAS_NUM_THREADS"] = String(n)
        }
        if let gpus { env["CUDA_VISIBLE_DEVICES"] = gpus }
        if let slurm {
            env["AUTORESEARCH_THREADS"] = String(slurm.cpusPerTask)
            env["OMP_NUM_THREADS"] = String(slurm.cpusPerTask)
        }
        env["AUTORESEARCH_SLOT"] = name
        return env
    }

    /// `command` as it runs in this slot: pinned to the slot's cores when it has some.
    public func wrap(_ command: String) -> String {
        guard let cpus else { return command }
        return "exec taskset -c \(cpus) /bin/sh -c '" + command.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `count` slots that split this machine's cores evenly (the last gets the remainder), pinned.
    public static func splitting(cores: Int, into count: Int) -> [Slot] {
        let each = max(1, cores / max(1, count))
        return (0..<count).map { i in
            let lo = i * each
            let hi = i == count - 1 ? max(lo, cores - 1) : lo + each - 1
            return Slot(name: "cpu\(i)", cpus: lo == hi ? "\(lo)" : "\(lo)-\(hi)")
        }
    }
}

/// What a swarm's researchers build on: the global best (default), or islands — groups of workers with a best
/// of their own that adopt the global best every `exchangeEvery` experiments (`[swarm]` in the manifest).
public struct SwarmPolicy: Sendable, Equatable {
    public enum Base: String, Sendable, CaseIterable { case best, islands }
    public var base: Base = .best
    /// Workers are dealt round-robin onto this many islands.
    public var islands = 2
    /// Every this many decided experiments, each island whose best is worse than the global best adopts it.
    public var exchangeEvery = 10

    public init(base: Base = .best, islands: Int = 2, exchangeEvery: Int = 10) {
        self.base = base; self.islands = islands; self.exchangeEvery = exchangeEvery
    }
}

/// What each Slurm job of a Slurm slot asks for (the manifest's `[slurm]` table).
public struct SlurmResources: Sendable, Equatable {
    /// nil = the cluster's default partition.
    public var partition: String?
    public var cpusPerTask = 1
    public var gpus = 0
    public var memoryMB: Int?
    /// Seconds between `squeue` polls while a job runs.
    public var pollSeconds: Double = 2

    public init(partition: String? = nil, cpusPerTask: Int = 1, gpus: Int = 0, memoryMB: Int? = nil, pollSeconds: Double = 2) {
        self.partition = partition; self.cpusPerTask = cpusPerTask; self.gpus = gpus; self.memoryMB = memoryMB; self.pollSeconds = pollSeconds
    }
}

extension SwarmPolicy {
    /// The `[swarm]` table's keys (`ManifestSchema`).
    static var keys: [ManifestKey<SwarmPolicy>] {
        [.choice("base", \.base, "What researchers build on: \"best\" (the global best) or \"islands\" exchanging their best every exchange_every experiments.",
                 problem: { "is '\($0)'; use \"best\" (everyone builds on the global best) or \"islands\"." }),
         .int("islands", \.islands, "Workers are dealt round-robin onto this many islands.", check: { $0 >= 1 }, problem: "must be at least 1."),
         .int("exchange_every", \.exchangeEvery, "Every this many decided experiments, an island whose best is worse than the global best adopts it.",
              check: { $0 >= 1 }, problem: "must be at least 1.")]
    }
}

extension SlurmResources {
    /// The `[slurm]` table's keys (`ManifestSchema`), besides `jobs` (how many Slurm slots).
    static var keys: [ManifestKey<SlurmResources>] {
        [.optionalString("partition", \.partition, "The partition each job asks for; absent: the cluster's default.", problem: { partition in
            partition.isEmpty || partition.contains(where: { $0.isWhitespace || $0 == "," }) ? "is '\(partition)', not a partition name." : nil }),
         .int("cpus_per_task", \.cpusPerTask, "CPUs each job asks for.", check: { $0 >= 1 }, problem: "must be at least 1."),
         .int("gpus", \.gpus, "GPUs each job asks for.", check: { $0 >= 0 }, problem: "must be 0 or more."),
         .optionalInt("memory_mb", \.memoryMB, "Memory each job asks for, MiB; absent: the partition's default.", check: { $0 >= 1 }, problem: "must be at least 1."),
         .number("poll_seconds", \.pollSeconds, "Seconds between squeue polls while a job runs.", check: { $0 > 0 }, problem: "must be positive.")]
    }
}
