import AutoResearchCore
import Foundation

/// Runs jobs on Slurm through its command-line tools (`sbatch`, `squeue`, `sacct`, `scancel`, `sinfo`),
/// each started with `ProcessRunner.capture` (short, blocking calls).
///
/// Every failure is a `HarnessError.other` whose message names the problem and the fix. A single-node
/// cluster for trying this out is `scripts/slurm-cluster.sh`.
public struct SlurmClient: Sendable {
    /// The tools `check` requires.
    public static let requiredCommands = ["sbatch", "squeue", "scancel", "sinfo"]

    /// Where the Slurm commands are looked up: a PATH-style list of directories; nil for the harness's own PATH.
    public var commandsPath: String?

    /// - Parameter commandsPath: directories (`:`-separated) to find `sbatch` and the other tools in; nil for PATH.
    public init(commandsPath: String? = nil) {
        self.commandsPath = commandsPath
    }

    // MARK: - Check

    /// Checks that Slurm can be used: its commands are on PATH (or `commandsPath`), the controller answers,
    /// and `partition` (when not nil) exists.
    /// - Throws: `HarnessError.other` — "sbatch is not on PATH: install Slurm (Debian: apt-get install slurm-wlm)
    ///   or run scripts/slurm-cluster.sh, or use local slots" (naming the first missing tool); "the Slurm
    ///   controller does not answer (…)"; "Slurm partition 'x' does not exist; the partitions are: …".
    public static func check(partition: String?, commandsPath: String? = nil) throws {
        try SlurmClient(commandsPath: commandsPath).check(partition: partition)
    }

    /// See `SlurmClient.check(partition:commandsPath:)`.
    public func check(partition: String?) throws {
        for tool in Self.requiredCommands { _ = try command(tool) }
        let partitions = try self.partitions()
        if let partition { try requirePartition(partition, in: partitions) }
    }

    /// The partitions of the cluster, the default one first flagged `isDefault`.
    /// - Throws: `HarnessError.other` when `sinfo` is missing or the controller does not answer.
    public func partitions() throws -> [(name: String, isDefault: Bool)] {
        let out = try run("sinfo", ["--noheader", "--format=%P"], doing: "list the partitions")
        var seen = Set<String>()
        var result: [(name: String, isDefault: Bool)] = []
        for line in out.split(whereSeparator: \.isNewline) {
            let raw = line.trimmingCharacters(in: .whitespaces)
            let name = raw.hasSuffix("*") ? String(raw.dropLast()) : raw
            guard !name.isEmpty, seen.insert(name).inserted else { continue }
            result.append((name, raw.hasSuffix("*")))
        }
        return result
    }

    func requirePartition(_ partition: String, in partitions: [(name: String, isDefault: Bool)]) throws {
        guard !partitions.contains(where: { $0.name == partition }) else { return }
        throw Self.missingPartition(partition, partitions)
    }

    static func missingPartition(_ partition: String, _ partitions: [(name: String, isDefault: Bool)]) -> HarnessError {
        if partitions.isEmpty {
            return .other("Slurm partition '\(partition)' does not exist, and this cluster has no partitions; add one to slurm.conf (scripts/slurm-cluster.sh makes 'debug').")
        }
        let list = partitions.map { $0.isDefault ? "\($0.name) (default)" : $0.name }.joined(separator: ", ")
        return .other("Slurm partition '\(partition)' does not exist; the partitions are: \(list). Use one of them, or none for the default partition.")
    }

    // MARK: - Jobs

    /// Submits a batch job and returns its id (digits, e.g. "42").
    ///
    /// Writes the batch script to `spec.batchScript` (next to the log, creating the log's directory), then runs
    /// `sbatch --parsable --export=ALL …` with `spec.environment` added to and `spec.removedEnvironment` removed from
    /// the environment `sbatch` passes on.
    /// - Throws: `HarnessError.other` for a spec Slurm could not use (see `SlurmJobSpec.validate`), a missing working
    ///   directory, a log directory that cannot be created, a partition that does not exist, GPUs or memory no node has,
    ///   or any other refusal of `sbatch` (its message quoted).
    public func submit(_ spec: SlurmJobSpec) throws -> String {
        try spec.validate()
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: spec.workingDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw HarnessError.other("Slurm job '\(spec.name)': the working directory \(spec.workingDirectory.path) does not exist; create it or fix workingDirectory")
        }
        let script = spec.batchScript
        do {
            try fm.createDirectory(at: spec.log.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(spec.batchScriptText.utf8).write(to: script, options: .atomic)
        } catch {
            throw HarnessError.other("Slurm job '\(spec.name)': cannot write its batch script \(script.path) (\(error.localizedDescription)); "
                                     + "make the log's directory writable")
        }
        let sbatch = try command("sbatch")
        var arguments = [sbatch] + spec.sbatchArguments + [script.path]
        if !spec.removedEnvironment.isEmpty {
            arguments = ["/usr/bin/env"] + spec.removedEnvironment.sorted().flatMap { ["-u", $0] } + arguments
        }
        let result = try capture(arguments, in: spec.workingDirectory, environment: spec.environment)
        guard result.status == 0 else { throw submitError(spec, result) }
        // --parsable prints "<id>" or "<id>;<cluster>".
        let id = result.stdout.split(whereSeparator: \.isNewline).last.map { String($0.split(separator: ";").first ?? "") } ?? ""
        guard Self.isJobID(id) else {
            throw HarnessError.other("sbatch accepted job '\(spec.name)' but printed no job id (it printed \(String(reflecting: result.stdout)))")
        }
        return id
    }

    /// What became of job `jobID`: from `squeue` while Slurm's controller still holds the job (for MinJobAge
    /// seconds after it ended; 10 minutes with scripts/slurm-cluster.sh), then from `sacct` (the accounting
    /// database, or the job-completion log with `sacct -c` where there is no slurmdbd).
    /// - Throws: `HarnessError.other` for an id that is not a job id, a job Slurm does not know (never existed,
    ///   or forgotten and not in accounting), or a controller that does not answer.
    public func state(_ jobID: String) throws -> SlurmJobState {
        try Self.requireJobID(jobID)
        let squeue = try command("squeue")
        let result = try capture([squeue, "--noheader", "--states=all", "--jobs=\(jobID)",
                                  "--Format=State:0|,exit_code:0|,TimeLimit:0|,Reason:0"], in: Self.neutralDirectory)
        if result.status == 0, let state = Self.parseSqueue(result.stdout) { return state }
        if result.status != 0 && !result.stderr.contains("Invalid job id") {
            throw failure("squeue", result, doing: "read the state of job \(jobID)")
        }
        if let state = try accountedState(jobID) { return state }
        throw HarnessError.other("Slurm does not know job \(jobID): it never existed, or it ended longer ago than the controller keeps jobs "
                                 + "(MinJobAge) and sacct has no record of it")
    }

    /// The state `sacct` records (accounting, else the job-completion log); nil when neither knows the job
    /// or `sacct` is missing or unusable.
    func accountedState(_ jobID: String) throws -> SlurmJobState? {
        guard let sacct = try? command("sacct") else { return nil }
        for extra in [[], ["--completion"]] {
            let args = [sacct] + extra + ["--noheader", "--parsable2", "--jobs=\(jobID)", "--format=JobID,State,ExitCode,Timelimit"]
            guard let result = try? capture(args, in: Self.neutralDirectory), result.status == 0 else { continue }
            if let state = Self.parseSacct(result.stdout, jobID: jobID) { return state }
        }
        return nil
    }

    /// The state in `squeue --Format=State:0|,exit_code:0|,TimeLimit:0|,Reason:0` output (exit_code is a wait
    /// status: exit code << 8 | signal); nil when there is no such line.
    static func parseSqueue(_ stdout: String) -> SlurmJobState? {
        guard let line = stdout.split(whereSeparator: \.isNewline).first else { return nil }
        let fields = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard fields.count == 4, let raw = Int32(fields[1]) else { return nil }
        return SlurmJobState.from(state: fields[0], reason: fields[3], exitStatus: (raw >> 8) & 0xff,
                                  signal: raw & 0x7f, timeLimit: fields[2])
    }

    /// The state in `sacct --parsable2 --format=JobID,State,ExitCode,Timelimit` output (ExitCode is
    /// `code:signal`): the job's own line, not its steps (42.batch); the last one when a reused id appears twice.
    static func parseSacct(_ stdout: String, jobID: String) -> SlurmJobState? {
        var found: SlurmJobState?
        for line in stdout.split(whereSeparator: \.isNewline) {
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4, f[0] == jobID else { continue }
            let codes = f[2].split(separator: ":").map { Int32($0) ?? 0 }
            found = SlurmJobState.from(state: f[1], reason: "", exitStatus: codes.first ?? 0,
                                       signal: codes.count > 1 ? codes[1] : 0, timeLimit: f[3])
        }
        return found
    }

    /// Cancels job `jobID` (`scancel`). Cancelling a job that already ended is not an error.
    /// - Throws: `HarnessError.other` when the id is not a job id, `scancel` is missing, or Slurm refuses.
    public func cancel(_ jobID: String) throws {
        try Self.requireJobID(jobID)
        let result = try capture([try command("scancel"), jobID], in: Self.neutralDirectory)
        if result.status != 0 && !result.stderr.contains("already completing or completed") {
            throw failure("scancel", result, doing: "cancel job \(jobID)")
        }
    }

    /// Polls `state` every `pollInterval` seconds until the job is over, and returns its final state.
    ///
    /// When the calling task is cancelled, it cancels the job (`scancel`) and returns `.cancelled` at once.
    /// A controller that does not answer is retried for up to 5 polls in a row before the error is thrown.
    /// - Parameter pollInterval: seconds between polls (at least 0.05).
    /// - Throws: what `state` throws, when it keeps throwing.
    public func wait(for jobID: String, pollInterval: Double = 2) async throws -> SlurmJobState {
        try Self.requireJobID(jobID)
        let interval = max(0.05, pollInterval)
        var failures = 0
        while true {
            if Task.isCancelled { return cancelForCancelledTask(jobID) }
            do {
                let state = try self.state(jobID)
                failures = 0
                if state.isFinal { return state }
            } catch {
                failures += 1
                if failures >= 5 { throw error }
            }
            do {
                try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
            } catch {
                return cancelForCancelledTask(jobID)
            }
        }
    }

    private func cancelForCancelledTask(_ jobID: String) -> SlurmJobState {
        let note: String
        do {
            try cancel(jobID)
            note = "AutoResearch cancelled it with scancel"
        } catch {
            note = "scancel failed: \(error)"
        }
        return .cancelled(reason: "CANCELLED: the task waiting for job \(jobID) was cancelled; \(note)")
    }

    // MARK: - Commands

    /// The absolute path of Slurm tool `name`, found in `commandsPath` (or PATH).
    /// - Throws: `HarnessError.other("<name> is not on PATH: install Slurm … or use local slots")`.
    public func command(_ name: String) throws -> String {
        let path = commandsPath ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError.other("\(name) is not on PATH: install Slurm (Debian: apt-get install slurm-wlm) or run scripts/slurm-cluster.sh, or use local slots")
    }

    /// Runs Slurm tool `tool` and returns its stdout; throws `failure` when it exits non-zero.
    private func run(_ tool: String, _ arguments: [String], doing what: String) throws -> String {
        let result = try capture([try command(tool)] + arguments, in: Self.neutralDirectory)
        guard result.status == 0 else { throw failure(tool, result, doing: what) }
        return result.stdout
    }

    private func capture(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> ProcessRunner.Captured {
        do {
            return try ProcessRunner.capture(arguments, in: directory, environment: environment)
        } catch {
            throw HarnessError.other("cannot run \(arguments.first ?? "a Slurm command"): \(error)")
        }
    }

    /// The error for a Slurm tool that exited non-zero: an unreachable controller is named as such.
    func failure(_ tool: String, _ result: ProcessRunner.Captured, doing what: String) -> HarnessError {
        let message = Self.errorText(result)
        if Self.controllerUnreachable(message) {
            return .other("the Slurm controller does not answer (\(tool): \(message)): start it with scripts/slurm-cluster.sh "
                          + "(or ask the cluster's admin), or use local slots")
        }
        return .other("\(tool) could not \(what): \(message)")
    }

    private func submitError(_ spec: SlurmJobSpec, _ result: ProcessRunner.Captured) -> HarnessError {
        let message = Self.errorText(result)
        if message.contains("Invalid partition"), let partition = spec.partition {
            if let partitions = try? self.partitions() { return Self.missingPartition(partition, partitions) }
        }
        if message.contains("Invalid generic resource") {
            return .other("Slurm job '\(spec.name)' asks for \(spec.gpus) GPU\(spec.gpus == 1 ? "" : "s") (--gres=gpu:\(spec.gpus)), "
                          + "but no node of partition \(spec.partition ?? "(default)") has GPUs configured (Gres=gpu:N in slurm.conf); "
                          + "ask for 0 GPUs or use a partition with GPU nodes")
        }
        if message.contains("Requested node configuration is not available") || message.contains("Memory specification can not be satisfied") {
            let memory = spec.memoryMB.map { ", \($0) MB" } ?? ""
            return .other("no node of Slurm partition \(spec.partition ?? "(default)") has what job '\(spec.name)' asks for "
                          + "(\(spec.cpusPerTask) CPU\(spec.cpusPerTask == 1 ? "" : "s")\(memory), \(spec.gpus) GPUs): ask for less "
                          + "(`sinfo -o '%P %c %m %G'` shows what the nodes have)")
        }
        return failure("sbatch", result, doing: "submit job '\(spec.name)'")
    }

    static func errorText(_ result: ProcessRunner.Captured) -> String {
        let lines = (result.stderr + "\n" + result.stdout).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !lines.isEmpty else { return "exit status \(result.status), no message" }
        // "sbatch: error: Batch job submission failed: X" → the part that says X, once per distinct line.
        var seen = Set<String>()
        return lines.suffix(3).filter { seen.insert($0).inserted }.joined(separator: "; ")
    }

    static func controllerUnreachable(_ message: String) -> Bool {
        ["Unable to contact slurm controller", "Connection refused", "Socket timed out", "Zero Bytes were transmitted",
         "Could not establish a configuration source", "s_p_parse_file", "unable to status file", "Munge", "munge"]
            .contains { message.contains($0) }
    }

    static func isJobID(_ id: String) -> Bool {
        // 42, or array / heterogeneous job components 42_3 and 42+1.
        let parts = id.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "_" || $0 == "+" })
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    static func requireJobID(_ id: String) throws {
        guard isJobID(id) else { throw HarnessError.other("'\(id)' is not a Slurm job id (expected digits, e.g. 42, as submit returns)") }
    }

    /// Where the query commands run; any existing directory would do.
    static let neutralDirectory = URL(fileURLWithPath: "/")
}
