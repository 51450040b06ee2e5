import Foundation

/// One batch job for Slurm: what to run, where, and what it may use.
///
/// `SlurmClient.submit` writes `command` into a small `/bin/sh` batch script next to `log`
/// (`batchScript`) and hands it to `sbatch`; stdout and stderr of the job are appended to `log`.
public struct SlurmJobSpec: Sendable, Equatable {
    /// The job's name in `squeue` (`--job-name`). Must not be empty or contain control characters.
    public var name: String
    /// A shell command (`/bin/sh`), run as the body of the batch script; its exit status is the job's.
    public var command: String
    /// The directory the job starts in (`--chdir`). Must exist, on a file system the node can see.
    public var workingDirectory: URL
    /// The file that collects the job's stdout and stderr (appended to, like `ProcessRunner.run`'s log).
    /// Its directory is created when missing. The batch script is written next to it.
    public var log: URL
    /// The partition (`--partition`); nil for the cluster's default one.
    public var partition: String?
    /// CPUs for the one task of the job (`--cpus-per-task`), at least 1.
    public var cpusPerTask: Int
    /// GPUs (`--gres=gpu:N`); 0 asks for none.
    public var gpus: Int
    /// Memory in megabytes (`--mem=<N>M`); nil for the cluster's default (DefMemPerCPU or the whole node).
    public var memoryMB: Int?
    /// Wall-clock limit in seconds; Slurm counts whole minutes, so it is rounded up (`--time=<minutes>`).
    /// nil for the partition's limit.
    public var timeLimitSeconds: Double?
    /// Variables added to the job's environment, on top of the submitter's own (`--export=ALL`).
    /// Names may not start with `SLURM_` or `SBATCH_` (Slurm owns those).
    public var environment: [String: String]
    /// Variables of the submitter's environment the job must not see (like `ProcessRunner.run`'s `removing`);
    /// they are removed before `sbatch` runs, so Slurm never stores them.
    public var removedEnvironment: Set<String>

    public init(name: String, command: String, workingDirectory: URL, log: URL, partition: String? = nil,
                cpusPerTask: Int = 1, gpus: Int = 0, memoryMB: Int? = nil, timeLimitSeconds: Double? = nil,
                environment: [String: String] = [:], removedEnvironment: Set<String> = []) {
        self.name = name
        self.command = command
        self.workingDirectory = workingDirectory
        self.log = log
        self.partition = partition
        self.cpusPerTask = cpusPerTask
        self.gpus = gpus
        self.memoryMB = memoryMB
        self.timeLimitSeconds = timeLimitSeconds
        self.environment = environment
        self.removedEnvironment = removedEnvironment
    }

    /// The time limit in whole minutes, rounded up (61 s → 2); nil when there is none.
    public var timeLimitMinutes: Int? {
        guard let seconds = timeLimitSeconds, seconds.isFinite, seconds > 0 else { return nil }
        return Int((seconds / 60).rounded(.up))
    }

    /// Where `submit` writes the batch script: next to the log, `<log without extension>.sbatch`.
    public var batchScript: URL {
        let base = log.deletingPathExtension()
        if log.pathExtension == "sbatch" || base.lastPathComponent.isEmpty { return URL(fileURLWithPath: log.path + ".sbatch") }
        return base.appendingPathExtension("sbatch")
    }

    /// Throws `HarnessError.other` naming the first field that Slurm could not use, and how to fix it.
    public func validate() throws {
        func bad(_ message: String) -> HarnessError { .other("Slurm job '\(name)': \(message)") }
        if name.trimmingCharacters(in: .whitespaces).isEmpty {
            throw HarnessError.other("a Slurm job needs a name (SlurmJobSpec.name is empty)")
        }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw HarnessError.other("Slurm job name \(String(reflecting: name)) has control characters (e.g. a newline); use a one-line name")
        }
        if command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw bad("the command is empty; give the shell command to run") }
        if let partition, partition.isEmpty || partition.contains(where: { $0.isWhitespace || $0 == "," }) {
            throw bad("'\(partition)' is not a partition name; pass one name (e.g. debug), or nil for the default partition")
        }
        if cpusPerTask < 1 { throw bad("cpusPerTask is \(cpusPerTask); ask for at least 1 CPU") }
        if gpus < 0 { throw bad("gpus is \(gpus); ask for 0 (none) or more") }
        if let memoryMB, memoryMB < 1 { throw bad("memoryMB is \(memoryMB); ask for at least 1 MB, or nil for the default") }
        if let seconds = timeLimitSeconds, !(seconds.isFinite && seconds > 0) {
            throw bad("timeLimitSeconds is \(seconds); give a positive number of seconds, or nil for the partition's limit")
        }
        for name in environment.keys.sorted() + removedEnvironment.sorted() where !Self.isVariableName(name) {
            throw bad("'\(name)' is not an environment variable name; use letters, digits and '_', not starting with a digit")
        }
        for name in environment.keys.sorted() where name.hasPrefix("SLURM_") || name.hasPrefix("SBATCH_") {
            throw bad("the environment variable \(name) belongs to Slurm (it sets SLURM_* and reads SBATCH_* as options); rename it")
        }
    }

    /// The text of the batch script.
    var batchScriptText: String {
        "#!/bin/sh\n# AutoResearch: batch script of Slurm job \(name); output goes to \(log.path)\n\(command)\n"
    }

    /// The options given to `sbatch` before the script (`--parsable` and `--export=ALL` included).
    var sbatchArguments: [String] {
        var args = ["--parsable", "--export=ALL", "--job-name=\(name)", "--chdir=\(workingDirectory.path)",
                    // '%' starts a file-name pattern in Slurm (%j = job id); '%%' is a literal '%'.
                    "--output=\(log.path.replacingOccurrences(of: "%", with: "%%"))", "--open-mode=append",
                    "--nodes=1", "--ntasks=1", "--cpus-per-task=\(cpusPerTask)"]
        if let partition { args.append("--partition=\(partition)") }
        if gpus > 0 { args.append("--gres=gpu:\(gpus)") }
        if let memoryMB { args.append("--mem=\(memoryMB)M") }
        if let minutes = timeLimitMinutes { args.append("--time=\(minutes)") }
        return args
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }
}
