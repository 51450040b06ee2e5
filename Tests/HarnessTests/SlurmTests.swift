import AutoResearchCore
import Foundation
import Testing
@testable import Harness
#if canImport(Glibc)
import Glibc
#endif

/// SlurmClient against a real Slurm cluster (scripts/slurm-cluster.sh makes a single-node one; CI starts it
/// through scripts/test.sh). Without a running cluster these tests fail and say how to start it.
@Suite(.serialized) struct SlurmTests {
    struct ClusterNotRunning: Error, CustomStringConvertible {
        var cause: String
        var description: String {
            "Slurm is not running on this machine: start the single-node cluster with `sudo scripts/slurm-cluster.sh` "
                + "(scripts/test.sh does it), then run the tests again. The check said: \(cause)"
        }
    }

    /// What `SlurmClient.check` said, asked once for the suite (an absent controller takes sinfo ~9 s to report).
    static let clusterProblem: String? = {
        do { try SlurmClient.check(partition: nil); return nil } catch { return "\(error)" }
    }()

    let client = SlurmClient()

    /// Fails the test (never skips it) when no Slurm controller answers.
    func requireCluster() throws {
        if let problem = Self.clusterProblem { throw ClusterNotRunning(cause: problem) }
    }

    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func spec(_ name: String, _ command: String, in dir: URL, timeLimitSeconds: Double? = 120) -> SlurmJobSpec {
        SlurmJobSpec(name: name, command: command, workingDirectory: dir, log: dir.appendingPathComponent("logs/\(name).log"),
                     timeLimitSeconds: timeLimitSeconds)
    }

    /// Polls until the job is running (at most `seconds`).
    func waitUntilRunning(_ id: String, seconds: Double = 180) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let state = try client.state(id)
            if state == .running { return }
            #expect(state == .pending, "job \(id) ended before it ran: \(state)")
            if state != .pending { return }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        Issue.record("job \(id) did not start within \(seconds) s")
    }

    // MARK: - Real jobs

    @Test func jobThatExitsZeroCompletesWithItsLog() async throws {
        try requireCluster()
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        setenv("AR_TEST_HIDDEN_KEY", "must-not-reach-the-job", 1)
        defer { unsetenv("AR_TEST_HIDDEN_KEY") }
        var job = spec("hello", "echo hello from slurm; echo to-stderr >&2; echo \"var=$AR_TEST_VAR\"; echo \"hidden=[$AR_TEST_HIDDEN_KEY]\"; pwd",
                       in: dir)
        job.environment = ["AR_TEST_VAR": "it's \"quoted\", with a comma"]
        job.removedEnvironment = ["AR_TEST_HIDDEN_KEY"]
        let id = try client.submit(job)
        #expect(SlurmClient.isJobID(id))
        let state = try await client.wait(for: id, pollInterval: 0.3)
        #expect(state == .completed(exitCode: 0))
        let log = try String(contentsOf: job.log, encoding: .utf8)
        #expect(log.contains("hello from slurm\n"))
        #expect(log.contains("to-stderr\n"))
        #expect(log.contains("var=it's \"quoted\", with a comma\n"))
        #expect(log.contains("hidden=[]\n"))
        #expect(log.contains(dir.lastPathComponent + "\n"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("logs/hello.sbatch").path))
    }

    @Test func jobThatExitsThreeFails() async throws {
        try requireCluster()
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try client.submit(spec("exit3", "echo failing; exit 3", in: dir))
        let state = try await client.wait(for: id, pollInterval: 0.3)
        #expect(state == .failed(exitCode: 3, reason: "FAILED: exited with status 3"))
        #expect(try String(contentsOf: dir.appendingPathComponent("logs/exit3.log"), encoding: .utf8).contains("failing\n"))
    }

    /// Slurm checks time limits about every 30 s, so a 1-minute limit ends the job 60–100 s after it started
    /// (more when other suites' jobs hold the node's CPUs and this one waits).
    @Test func jobPastItsTimeLimitTimesOut() async throws {
        try requireCluster()
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let start = Date()
        let id = try client.submit(spec("overtime", "echo started; sleep 600", in: dir, timeLimitSeconds: 30))
        let state = try await client.wait(for: id, pollInterval: 1)
        #expect(state == .timedOut(reason: "TIMEOUT: job ran past its time limit of 1 min"))
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 59 && elapsed < 300, "the job took \(Int(elapsed)) s to time out")
    }

    @Test func cancelledJobIsCancelled() async throws {
        try requireCluster()
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try client.submit(spec("to-cancel", "sleep 600", in: dir))
        try await waitUntilRunning(id)
        try client.cancel(id)
        let state = try await client.wait(for: id, pollInterval: 0.3)
        guard case .cancelled(let reason) = state else { Issue.record("expected cancelled, got \(state)"); return }
        #expect(reason.hasPrefix("CANCELLED: "))
        try client.cancel(id) // cancelling again is not an error
    }

    @Test func cancellingTheWaitingTaskCancelsTheJob() async throws {
        try requireCluster()
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try client.submit(spec("wait-cancel", "sleep 600", in: dir))
        try await waitUntilRunning(id)
        let client = self.client
        let waiter = Task { try await client.wait(for: id, pollInterval: 0.3) }
        try await Task.sleep(nanoseconds: 500_000_000)
        waiter.cancel()
        let returned = try await waiter.value
        #expect(returned == .cancelled(reason: "CANCELLED: the task waiting for job \(id) was cancelled; AutoResearch cancelled it with scancel"))
        var state = try client.state(id)
        for _ in 0..<50 where !state.isFinal {
            try await Task.sleep(nanoseconds: 200_000_000)
            state = try client.state(id)
        }
        guard case .cancelled = state else { Issue.record("Slurm says job \(id) is \(state), not cancelled"); return }
    }

    // MARK: - Errors

    @Test func missingPartitionIsNamedWithThoseThatExist() throws {
        try requireCluster()
        let expected = HarnessError.other("Slurm partition 'no-such-partition' does not exist; the partitions are: debug (default). "
                                          + "Use one of them, or none for the default partition.")
        #expect(throws: expected) { try SlurmClient.check(partition: "no-such-partition") }
        try SlurmClient.check(partition: "debug")
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = spec("bad-partition", "true", in: dir)
        job.partition = "no-such-partition"
        #expect(throws: expected) { try client.submit(job) }
    }

    @Test func missingCommandsAreNamedWithTheFix() throws {
        let empty = try tempDir()
        defer { try? FileManager.default.removeItem(at: empty) }
        let expected = HarnessError.other("sbatch is not on PATH: install Slurm (Debian: apt-get install slurm-wlm) or run "
                                          + "scripts/slurm-cluster.sh, or use local slots")
        #expect(throws: expected) { try SlurmClient.check(partition: nil, commandsPath: empty.path) }
        #expect(throws: expected) {
            try SlurmClient(commandsPath: empty.path).submit(spec("x", "true", in: empty))
        }
    }

    @Test func unreachableControllerIsNamed() throws {
        // Stand-in tools that answer like Slurm's when slurmctld is down.
        let bin = try tempDir()
        defer { try? FileManager.default.removeItem(at: bin) }
        for tool in SlurmClient.requiredCommands {
            let url = bin.appendingPathComponent(tool)
            try "#!/bin/sh\necho 'slurm_load_partitions: Unable to contact slurm controller (connect failure)' >&2\nexit 1\n"
                .write(to: url, atomically: true, encoding: .utf8)
            chmod(url.path, 0o755)
        }
        #expect(throws: HarnessError.other("the Slurm controller does not answer (sinfo: slurm_load_partitions: Unable to contact slurm "
                                           + "controller (connect failure)): start it with scripts/slurm-cluster.sh (or ask the "
                                           + "cluster's admin), or use local slots")) {
            try SlurmClient.check(partition: nil, commandsPath: bin.path)
        }
    }

    @Test func gpusOnANodeWithoutGPUsAreRefusedClearly() throws {
        try requireCluster()
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var job = spec("gpu", "true", in: dir)
        job.gpus = 1
        #expect(throws: HarnessError.other("Slurm job 'gpu' asks for 1 GPU (--gres=gpu:1), but no node of partition (default) has GPUs "
                                           + "configured (Gres=gpu:N in slurm.conf); ask for 0 GPUs or use a partition with GPU nodes")) {
            try client.submit(job)
        }
    }

    @Test func unknownJobAndBadIDsAreNamed() throws {
        try requireCluster()
        #expect(throws: HarnessError.other("'12; rm' is not a Slurm job id (expected digits, e.g. 42, as submit returns)")) {
            try client.state("12; rm")
        }
        #expect(throws: HarnessError.other("Slurm does not know job 999999999: it never existed, or it ended longer ago than the "
                                           + "controller keeps jobs (MinJobAge) and sacct has no record of it")) {
            try client.state("999999999")
        }
    }

    // MARK: - No cluster needed

    @Test func specBecomesSbatchOptions() throws {
        let dir = URL(fileURLWithPath: "/tmp/w")
        let job = SlurmJobSpec(name: "exp 7", command: "make && ./train", workingDirectory: dir,
                               log: URL(fileURLWithPath: "/tmp/w/logs/run-100%.log"), partition: "gpu", cpusPerTask: 4, gpus: 2,
                               memoryMB: 8000, timeLimitSeconds: 61, environment: ["SEED": "1"])
        try job.validate()
        #expect(job.timeLimitMinutes == 2)
        #expect(job.batchScript.path == "/tmp/w/logs/run-100%.sbatch")
        #expect(job.sbatchArguments == ["--parsable", "--export=ALL", "--job-name=exp 7", "--chdir=/tmp/w",
                                        "--output=/tmp/w/logs/run-100%%.log", "--open-mode=append", "--nodes=1", "--ntasks=1",
                                        "--cpus-per-task=4", "--partition=gpu", "--gres=gpu:2", "--mem=8000M", "--time=2"])
        #expect(job.batchScriptText.hasPrefix("#!/bin/sh\n"))
        #expect(job.batchScriptText.hasSuffix("\nmake && ./train\n"))
        var exact = job
        exact.timeLimitSeconds = 60
        exact.gpus = 0
        exact.memoryMB = nil
        exact.partition = nil
        #expect(exact.timeLimitMinutes == 1)
        #expect(!exact.sbatchArguments.contains { $0.hasPrefix("--gres") || $0.hasPrefix("--mem") || $0.hasPrefix("--partition") })
    }

    @Test func badSpecsAreRefusedWithTheFix() {
        let dir = URL(fileURLWithPath: "/tmp")
        func refused(_ change: (inout SlurmJobSpec) -> Void) -> String {
            var job = SlurmJobSpec(name: "j", command: "true", workingDirectory: dir, log: dir.appendingPathComponent("j.log"))
            change(&job)
            do { try job.validate(); return "accepted" } catch { return "\(error)" }
        }
        #expect(refused { $0.cpusPerTask = 0 } == "Slurm job 'j': cpusPerTask is 0; ask for at least 1 CPU")
        #expect(refused { $0.timeLimitSeconds = 0 } == "Slurm job 'j': timeLimitSeconds is 0.0; give a positive number of seconds, or nil for the partition's limit")
        #expect(refused { $0.environment = ["1BAD": "x"] } == "Slurm job 'j': '1BAD' is not an environment variable name; use letters, digits and '_', not starting with a digit")
        #expect(refused { $0.environment = ["SLURM_JOB_ID": "x"] } == "Slurm job 'j': the environment variable SLURM_JOB_ID belongs to Slurm (it sets SLURM_* and reads SBATCH_* as options); rename it")
        #expect(refused { $0.name = "" } == "a Slurm job needs a name (SlurmJobSpec.name is empty)")
        #expect(refused { $0.command = " " } == "Slurm job 'j': the command is empty; give the shell command to run")
        #expect(refused { $0.gpus = -1 } == "Slurm job 'j': gpus is -1; ask for 0 (none) or more")
    }

    @Test func slurmStatesReadAsHumanReasons() {
        #expect(SlurmJobState.from(state: "TIMEOUT", reason: "TimeLimit", exitStatus: 0, signal: 15, timeLimit: "1:00")
                == .timedOut(reason: "TIMEOUT: job ran past its time limit of 1 min"))
        #expect(SlurmJobState.from(state: "TIMEOUT", reason: "", exitStatus: 0, signal: 0, timeLimit: "1-02:30:00")
                == .timedOut(reason: "TIMEOUT: job ran past its time limit of 1 day 2 h 30 min"))
        #expect(SlurmJobState.from(state: "FAILED", reason: "NonZeroExitCode", exitStatus: 0, signal: 9, timeLimit: "")
                == .failed(exitCode: 137, reason: "FAILED: killed by signal 9 (SIGKILL)"))
        #expect(SlurmJobState.from(state: "CANCELLED by 0", reason: "", exitStatus: 0, signal: 0, timeLimit: "") ==
                .cancelled(reason: "CANCELLED: the job was cancelled (scancel or an administrator) before it finished"))
        #expect(SlurmJobState.from(state: "OUT_OF_MEMORY", reason: "OutOfMemory", exitStatus: 0, signal: 0, timeLimit: "") ==
                .other(state: "OUT_OF_MEMORY", reason: "OUT_OF_MEMORY: the job used more memory than it asked for; ask for more (memoryMB) (Slurm's reason: OutOfMemory)"))
        #expect(SlurmJobState.from(state: "COMPLETING", reason: "", exitStatus: 0, signal: 0, timeLimit: "") == .running)
        #expect(SlurmJobState.from(state: "PENDING", reason: "Resources", exitStatus: 0, signal: 0, timeLimit: "") == .pending)
        // What squeue and sacct -c (the job-completion log, once the controller forgot the job) print.
        #expect(SlurmClient.parseSqueue("FAILED|768|1:00|NonZeroExitCode\n") == .failed(exitCode: 3, reason: "FAILED: exited with status 3"))
        #expect(SlurmClient.parseSqueue("TIMEOUT|15|1:00|TimeLimit\n") == .timedOut(reason: "TIMEOUT: job ran past its time limit of 1 min"))
        #expect(SlurmClient.parseSqueue("") == nil)
        #expect(SlurmClient.parseSacct("3|TIMEOUT|0:0|1\n3.batch|CANCELLED|0:15|\n", jobID: "3")
                == .timedOut(reason: "TIMEOUT: job ran past its time limit of 1 min"))
        #expect(SlurmClient.parseSacct("2|FAILED|3:0|2\n", jobID: "2") == .failed(exitCode: 3, reason: "FAILED: exited with status 3"))
        #expect(SlurmClient.parseSacct("1|COMPLETED|0:0|2\n", jobID: "1") == .completed(exitCode: 0))
        #expect(SlurmClient.parseSacct("1|COMPLETED|0:0|2\n", jobID: "12") == nil)
        #expect(SlurmJobState.humanDuration("45") == "45 min")
        #expect(SlurmJobState.humanDuration("01:30:00") == "1 h 30 min")
        #expect(SlurmJobState.humanDuration("0:45") == "45 s")
        #expect(SlurmJobState.humanDuration("UNLIMITED") == nil)
    }
}
