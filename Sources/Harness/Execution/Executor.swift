import AutoResearchCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One command of one phase (build, train, evaluate), ready to run: the shell command, what it may see, its
/// whole environment (an allowlist, see `SubjectEnvironment`) and its hard time limit.
public struct PhaseCommand: Sendable {
    public var command: String
    public var view: Sandbox.View
    public var environment: [String: String]
    public var timeout: Double

    public init(command: String, view: Sandbox.View, environment: [String: String], timeout: Double) {
        self.command = command; self.view = view; self.environment = environment; self.timeout = timeout
    }
}

/// Where a phase runs. The one seam between the experiment's path and the machines: `LocalExecutor` (a slot of
/// this machine, sandboxed, pinned) and `SlurmExecutor` (a batch job on a cluster).
public protocol Executor: Sendable {
    /// Runs `command` in `slot`, appending its output to `log`; `onStart` gets the local process group (if any).
    func run(_ command: PhaseCommand, in slot: Slot, log: URL, onStart: @escaping @Sendable (pid_t) -> Void) async throws -> ProcessResult
}

/// A slot of this machine: the command runs in bubblewrap (when a sandbox is given), pinned to the slot's cores,
/// in its own process group, with exactly its environment and a cap on the size of what it writes.
public struct LocalExecutor: Executor {
    public var sandbox: Sandbox?
    /// The largest file an unsandboxed command may write (a sandboxed one gets its sandbox's limits).
    public var maxFileMB: Int

    public init(sandbox: Sandbox?, maxFileMB: Int = SandboxSettings().maxFileMB) {
        self.sandbox = sandbox; self.maxFileMB = sandbox?.settings.maxFileMB ?? maxFileMB
    }

    /// The shell command line that runs `command` as this executor would.
    public func commandLine(_ command: PhaseCommand, in slot: Slot) -> String {
        if let sandbox {
            return slot.wrap(sandbox.commandLine(command.command, view: command.view, environment: command.environment))
        }
        // Unsandboxed: still capped in what it may write (its log included).
        let capped = "exec /usr/bin/prlimit --fsize=\(maxFileMB * 1_048_576) -- /bin/sh -c \(shellQuote(command.command))"
        return slot.wrap(FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") ? capped : command.command)
    }

    /// Runs the phase; a sandboxed one in a control group of its own where the machine has one (`PhaseCgroup`: memory
    /// of the whole tree, its process count, the slot's cores), removed when it ends.
    public func run(_ command: PhaseCommand, in slot: Slot, log: URL, onStart: @escaping @Sendable (pid_t) -> Void) async throws -> ProcessResult {
        var line = commandLine(command, in: slot)
        var group: PhaseCgroup?
        if let sandbox {
            let memory = command.view.limitMemory ? sandbox.memoryLimitMB : nil
            group = PhaseCgroup.make(memoryMB: memory, maxProcesses: sandbox.settings.maxProcesses, cpus: slot.cpus)
            if let group { line = group.joinCommand + line }
        }
        defer { group?.remove() }
        return try await ProcessRunner.run(shell: line, in: URL(fileURLWithPath: command.view.workingDirectory),
                                           environment: command.environment, exactEnvironment: true, log: log,
                                           timeout: command.timeout, onStart: onStart)
    }
}

/// A Slurm slot: the command (sandboxed, when a sandbox is given: the nodes need bubblewrap too) is a batch job
/// in the worktree, which must be on a path the nodes share. Slurm's own end (TIMEOUT, NODE_FAIL, …) comes back as
/// `.endedRemotely` with Slurm's reason; the job id and its output go to the experiment's log.
public struct SlurmExecutor: Executor {
    public var sandbox: Sandbox?
    public var jobName: String
    public var client = SlurmClient()

    public init(sandbox: Sandbox?, jobName: String) { self.sandbox = sandbox; self.jobName = jobName }

    public func run(_ command: PhaseCommand, in slot: Slot, log: URL, onStart: @escaping @Sendable (pid_t) -> Void) async throws -> ProcessResult {
        guard let resources = slot.slurm else {
            return try await LocalExecutor(sandbox: sandbox).run(command, in: slot, log: log, onStart: onStart)
        }
        let start = Date()
        let jobLog = log.deletingLastPathComponent().appendingPathComponent("\(jobName)-job-\(UUID().uuidString.prefix(6)).log")
        let line = sandbox.map { $0.commandLine(command.command, view: command.view, environment: command.environment) } ?? command.command
        // The job gets the phase's environment and none of the harness's own (its keys and tokens least of all).
        let keep: Set<String> = ["PATH", "HOME", "USER", "LOGNAME"]
        let removed = Set(ProcessInfo.processInfo.environment.keys.filter { !keep.contains($0) && !$0.hasPrefix("SLURM_") && !$0.hasPrefix("MUNGE") })
            .subtracting(command.environment.keys)
        let spec = SlurmJobSpec(name: jobName, command: line, workingDirectory: URL(fileURLWithPath: command.view.workingDirectory),
                                log: jobLog, partition: resources.partition, cpusPerTask: resources.cpusPerTask, gpus: resources.gpus,
                                memoryMB: resources.memoryMB, timeLimitSeconds: command.timeout, environment: command.environment,
                                removedEnvironment: removed)
        let id: String
        do { id = try client.submit(spec) } catch {
            LogFile.append(log, "# slurm: sbatch failed: \(error)\n")
            return ProcessResult(termination: .endedRemotely("sbatch failed: \(error)"), seconds: Date().timeIntervalSince(start))
        }
        LogFile.append(log, "# slurm: job \(id) in slot \(slot.name)\n")
        let state = try await client.wait(for: id, pollInterval: resources.pollSeconds)
        if let output = LogFile.tail(jobLog, bytes: LogFile.readLimit) {
            LogFile.append(log, output)
            try? FileManager.default.removeItem(at: jobLog)
        }
        try? FileManager.default.removeItem(at: spec.batchScript)
        LogFile.append(log, "# slurm: job \(id) \(state)\n")
        let termination: Termination
        switch state {
        case .completed(let code): termination = .exited(code)
        case .failed(let code, _) where code > 0 && code < 128: termination = .exited(code)
        case .cancelled where Task.isCancelled: termination = .cancelled
        default: termination = .endedRemotely("Slurm job \(id): \(state)")
        }
        return ProcessResult(termination: termination, seconds: Date().timeIntervalSince(start))
    }
}
