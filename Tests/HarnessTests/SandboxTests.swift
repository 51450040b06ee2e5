import AutoResearchCore
import Foundation
import Testing
@testable import Harness

/// The sandbox, the environment allowlist, the trust gate and git hardening, each on its own.
@Suite struct SandboxTests {
    static let bwrapAvailable = Sandbox.detect().isSuccess

    func manifest(scoring: EvaluationSettings.Scoring, sandbox: SandboxSettings.Mode = .auto) -> Manifest {
        var m = Manifest(name: "t", editable: ["train.py"], build: "true", run: "true")
        m.evaluation.scoring = scoring
        m.sandbox.mode = sandbox
        return m
    }

    @Test func theTrustGateRefusesResearchersThatEditCodeWhereTheNumbersCannotBeTrusted() throws {
        let available: () -> Result<String, SandboxUnavailable> = { .success("/usr/bin/bwrap") }
        let missing: () -> Result<String, SandboxUnavailable> = { .failure(SandboxUnavailable(reason: "bubblewrap is not installed (apt-get install bubblewrap)")) }

        let (sandbox, trust) = try Trust.establish(manifest: manifest(scoring: .harness), researchers: ["anthropic"], allowUntrusted: false, detect: available)
        #expect(sandbox != nil && trust.trusted)
        #expect(trust.summary == "trusted: the harness scores every run from its logits; builds, runs and agent commands are sandboxed (bubblewrap)")

        // No sandbox: the search researcher runs (with a warning), an LLM researcher is refused, unless allowed.
        let (none, untrusted) = try Trust.establish(manifest: manifest(scoring: .harness), researchers: ["search"], allowUntrusted: false, detect: missing)
        #expect(none == nil && untrusted.summary == "NOT TRUSTED: runs are not sandboxed (bubblewrap is not installed (apt-get install bubblewrap))")
        #expect(throws: HarnessError.other("the command researcher edits code, and in this workspace runs are not sandboxed (bubblewrap is not installed (apt-get install bubblewrap)): its results could be faked. Install bubblewrap (apt-get install bubblewrap) for a workspace made by `autoresearch init`, use the search researcher, or pass --allow-untrusted to run it anyway.")) {
            _ = try Trust.establish(manifest: manifest(scoring: .harness), researchers: ["search", "command"], allowUntrusted: false, detect: missing)
        }
        #expect(try Trust.establish(manifest: manifest(scoring: .harness), researchers: ["command"], allowUntrusted: true, detect: missing).1.trusted == false)

        // A subject that scores itself is never trusted; asking for bwrap where there is none is an error.
        let (_, selfScored) = try Trust.establish(manifest: manifest(scoring: .summary), researchers: ["search"], allowUntrusted: false, detect: available)
        #expect(selfScored.gaps.contains("the subject reports its own score (evaluation.scoring = \"summary\")"))
        #expect(throws: HarnessError.other("autoresearch.toml asks for a sandbox ([sandbox] mode = \"bwrap\"), but bubblewrap is not installed (apt-get install bubblewrap); install it, or set mode = \"auto\" to run unsandboxed")) {
            _ = try Trust.establish(manifest: manifest(scoring: .harness, sandbox: .bwrap), researchers: ["search"], allowUntrusted: false, detect: missing)
        }
    }

    @Test func theEnvironmentIsAnAllowlist() {
        let harness = ["PATH": "/usr/bin", "HOME": "/root", "OPENAI_API_KEY": "sk-1", "GITHUB_TOKEN": "ghp", "AWS_SECRET_ACCESS_KEY": "x",
                       "OPENBLAS_CORETYPE": "Haswell", "LANG": "C.UTF-8", "SSH_AUTH_SOCK": "/tmp/agent"]
        let sandboxed = SubjectEnvironment.make(subject: ["AUTORESEARCH_PHASE": "train"], sandboxed: true, harness: harness)
        #expect(sandboxed == ["PATH": "/usr/bin", "HOME": "/tmp/home", "TMPDIR": "/tmp", "OPENBLAS_CORETYPE": "Haswell",
                             "LANG": "C.UTF-8", "AUTORESEARCH_PHASE": "train"])
        let plain = SubjectEnvironment.make(subject: [:], sandboxed: false, harness: harness)
        #expect(plain["HOME"] == "/root" && plain["OPENAI_API_KEY"] == nil && plain["SSH_AUTH_SOCK"] == nil)
    }

    @Test func manifestEvaluationAndSandboxTablesAreChecked() throws {
        var m = manifest(scoring: .harness, sandbox: .bwrap)
        m.evaluation.probeCuts = 64
        m.sandbox.memoryMB = 8000
        let text = m.render()
        #expect(try Manifest.parse(text) == m)
        let cases: [(String, String, String)] = [
            ("scoring = \"harness\"", "scoring = \"printed\"", "evaluation.scoring: is 'printed'; use \"harness\" (the harness scores the model's logits) or \"summary\" (the subject's printed summary)."),
            ("probe_cuts = 64", "probe_cuts = 0", "evaluation.probe_cuts: must be at least 1: the causality probe cannot be turned off."),
            ("probe_tolerance = 0.001", "probe_tolerance = 2.0", "evaluation.probe_tolerance: must be between 0 and 1 (nats), e.g. 0.001."),
            ("mode = \"bwrap\"", "mode = \"docker\"", "sandbox.mode: is 'docker'; use \"auto\", \"bwrap\" or \"none\"."),
            ("max_processes = 4096", "max_processes = 0", "sandbox.max_processes: must be at least 1."),
        ]
        for (old, new, message) in cases {
            #expect(text.contains(old), "\(old)")
            #expect(throws: HarnessError.manifestKey(key: String(message.prefix { $0 != ":" }), problem: String(message.drop { $0 != ":" }.dropFirst(2)))) {
                _ = try Manifest.parse(text.replacingOccurrences(of: old, with: new))
            }
        }
    }

    /// What a sandboxed phase sees: its view and none of the harness's environment (the network: see TrustedEvaluationTests).
    @Test(.enabled(if: SandboxTests.bwrapAvailable)) func aSandboxedCommandSeesOnlyItsView() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString.prefix(8))")
        let visible = base.appendingPathComponent("worktree"), hidden = base.appendingPathComponent("ledger")
        for dir in [visible, hidden] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(at: base) }
        try "secret ledger".write(to: hidden.appendingPathComponent("ledger.sqlite"), atomically: true, encoding: .utf8)
        let log = base.appendingPathComponent("log")
        let sandbox = Sandbox(bwrap: try Sandbox.detect().get(), settings: SandboxSettings())
        let command = PhaseCommand(
            command: "echo env=$(env | cut -d= -f1 | sort | tr '\\n' ,); cat \(hidden.path)/ledger.sqlite 2>/dev/null || echo ledger-hidden; "
                + "touch ro-file 2>/dev/null && echo WROTE || echo worktree-read-only",
            view: Sandbox.View(workingDirectory: visible.path, readOnly: [visible.path]),
            environment: SubjectEnvironment.make(subject: ["AUTORESEARCH_PHASE": "train"], sandboxed: true, harness: ["PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-x"]),
            timeout: 60)
        let result = try await LocalExecutor(sandbox: sandbox).run(command, in: Slot(name: "local"), log: log, onStart: { _ in })
        #expect(result.termination == .exited(0))
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(output.contains("env=AUTORESEARCH_PHASE,HOME,PATH,PWD,TMPDIR,"), "\(output)")
        #expect(output.contains("ledger-hidden") && output.contains("worktree-read-only"), "\(output)")
        #expect(!output.contains("WROTE") && !output.contains("secret ledger"))
    }

    /// `[sandbox] home_read_only` shows a folder of the user's home in the sandbox's private home, read-only (an adopted
    /// repository's data cache); the rest of the home stays out of sight.
    @Test(.enabled(if: SandboxTests.bwrapAvailable)) func homeFoldersAreVisibleReadOnlyAndNothingElseOfTheHome() async throws {
        let home = FileManager.default.homeDirectoryForCurrentUser
        let name = ".cache/autoresearch-sandbox-test-\(UUID().uuidString.prefix(8))"
        let shared = home.appendingPathComponent(name), other = home.appendingPathComponent(name + "-other")
        for dir in [shared, other] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        defer { for dir in [shared, other] { try? FileManager.default.removeItem(at: dir) } }
        try "cached data".write(to: shared.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        try "private".write(to: other.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        // A prepared corpus of the harness's under the shared folder: its training and validation text is the
        // adopted repository's to use, its hidden test split reads as empty.
        let corpus = shared.appendingPathComponent("shakespeare-test")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        for file in ["meta.json", "val.txt", "test.txt"] { try "\(file) text".write(to: corpus.appendingPathComponent(file), atomically: true, encoding: .utf8) }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-home-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        var settings = SandboxSettings()
        settings.homeReadOnly = [name]
        let sandbox = Sandbox(bwrap: try Sandbox.detect().get(), settings: settings)
        let command = PhaseCommand(
            command: "cat $HOME/\(name)/data.txt; cat $HOME/\(name)-other/data.txt 2>/dev/null || echo other-hidden; "
                + "cat $HOME/\(name)/shakespeare-test/val.txt; echo \"[$(cat $HOME/\(name)/shakespeare-test/test.txt)]\"; "
                + "touch $HOME/\(name)/new 2>/dev/null && echo WROTE || echo cache-read-only",
            view: Sandbox.View(workingDirectory: base.path, readOnly: [base.path]),
            environment: SubjectEnvironment.make(subject: [:], sandboxed: true, harness: ["PATH": "/usr/bin:/bin"]), timeout: 60)
        let log = base.appendingPathComponent("log")
        let result = try await LocalExecutor(sandbox: sandbox).run(command, in: Slot(name: "local"), log: log, onStart: { _ in })
        #expect(result.termination == .exited(0))
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(output.contains("cached data") && output.contains("other-hidden") && output.contains("cache-read-only"), "\(output)")
        #expect(output.contains("val.txt text") && output.contains("[]") && !output.contains("test.txt text"), "\(output)")
        #expect(!output.contains("private") && !output.contains("WROTE"))
    }

    /// A GPU slot's phases get the NVIDIA device files (and /sys read-only); other phases only bubblewrap's minimal /dev.
    @Test func gpuDevicesAreBoundIntoTheSandbox() throws {
        let dev = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dev, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dev) }
        for name in ["nvidia0", "nvidiactl", "nvidia-uvm", "sda", "null"] { _ = FileManager.default.createFile(atPath: dev.appendingPathComponent(name).path, contents: nil) }
        for name in ["nvidia1", "nvidia12"] { _ = FileManager.default.createFile(atPath: dev.appendingPathComponent(name).path, contents: nil) }
        #expect(Sandbox.gpuDevices(in: dev.path) == ["nvidia-uvm", "nvidia0", "nvidia1", "nvidia12", "nvidiactl"].map { dev.path + "/" + $0 })
        // A slot sees only its own GPUs' nodes (and the shared control nodes).
        #expect(Sandbox.gpuDevices(in: dev.path, gpus: "1") == ["nvidia-uvm", "nvidia1", "nvidiactl"].map { dev.path + "/" + $0 })
        let devices = Sandbox.gpuDevices(in: dev.path, gpus: "0")
        #expect(devices == ["nvidia-uvm", "nvidia0", "nvidiactl"].map { dev.path + "/" + $0 })
        let sandbox = Sandbox(bwrap: "/usr/bin/bwrap", settings: SandboxSettings())
        var view = Sandbox.View(workingDirectory: "/w", readOnly: ["/w"])
        let plain = sandbox.arguments("true", view: view, environment: [:])
        #expect(!plain.contains("--dev-bind-try") && !plain.contains("/sys"))
        view.devices = devices
        let gpu = sandbox.arguments("true", view: view, environment: [:]).joined(separator: " ")
        #expect(gpu.contains("--tmpfs /tmp --dir /tmp/home --dev-bind-try \(dev.path)/nvidia-uvm \(dev.path)/nvidia-uvm"), "\(gpu)")
        #expect(gpu.contains("--ro-bind-try /sys /sys"))
    }

    /// Finding 2 of the red team: as root, bubblewrap kept every capability, so a run could remount a read-only bind
    /// writable and change the host file behind it. Now, as root or not, a phase is uid 65534 with no capability, and
    /// every way up fails: mount and remount, new user namespaces, ptrace, setuid, sysctls, /dev; /tmp and /dev/shm
    /// are capped.
    @Test(.enabled(if: SandboxTests.bwrapAvailable)) func aPhaseHasNoPrivilegeEvenAsRoot() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-root-\(UUID().uuidString.prefix(8))")
        let protected = base.appendingPathComponent("protected"), output = base.appendingPathComponent("out")
        for dir in [protected, output] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(at: base) }
        try "host file\n".write(to: protected.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        let script = """
            import ctypes, ctypes.util, os, subprocess
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            def report(name, ok): print("ESCAPE " + name if ok else "held " + name, flush=True)
            print("uid", os.getuid(), "caps", [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0], flush=True)
            r = subprocess.run(["mount", "-o", "remount,rw,bind", "\(protected.path)"], capture_output=True)
            report("remount", r.returncode == 0)
            try:
                open("\(protected.path)/file", "a").write("changed\\n"); report("write-protected", True)
            except OSError: report("write-protected", False)
            report("mount-tmpfs", libc.mount(b"none", b"/tmp/home", b"tmpfs", 0, None) == 0)
            report("unshare-user", libc.unshare(0x10000000) == 0)
            report("unshare-mount", libc.unshare(0x00020000) == 0)
            report("ptrace-attach", libc.ptrace(16, 1, 0, 0) == 0)
            report("setuid-root", libc.setuid(0) == 0)
            for path in ["/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches"]:
                try:
                    os.close(os.open(path, os.O_WRONLY)); report("sysctl " + path, True)
                except OSError: report("sysctl " + path, False)
            try:
                open("/dev/attack", "w"); report("dev-write", True)
            except OSError: report("dev-write", False)
            for folder in ["/tmp", "/dev/shm"]:
                try:
                    with open(folder + "/fill", "wb") as f:
                        for _ in range(40): f.write(b"x" * 1048576)
                    report("unbounded " + folder, True)
                except OSError: report("unbounded " + folder, False)
            open("\(output.path)/ok", "w").write("written")
            """
        try script.write(to: base.appendingPathComponent("attack.py"), atomically: true, encoding: .utf8)
        var settings = SandboxSettings()
        settings.tmpMB = 16
        let sandbox = Sandbox(bwrap: try Sandbox.detect().get(), settings: settings)
        let command = PhaseCommand(command: "python3 \(base.path)/attack.py",
                                   view: Sandbox.View(workingDirectory: base.path, readOnly: [base.path, protected.path], writable: [output.path]),
                                   environment: SubjectEnvironment.make(subject: [:], sandboxed: true, harness: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]),
                                   timeout: 60)
        let log = output.deletingLastPathComponent().appendingPathComponent("log")
        let result = try await LocalExecutor(sandbox: sandbox).run(command, in: Slot(name: "local"), log: log, onStart: { _ in })
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(result.termination == .exited(0), "\(text)")
        #expect(text.contains("uid 65534 caps 0000000000000000"), "\(text)")
        #expect(text.components(separatedBy: "held ").count - 1 == 12, "\(text)")
        #expect(!text.contains("ESCAPE"), "\(text)")
        #expect(try String(contentsOf: protected.appendingPathComponent("file"), encoding: .utf8) == "host file\n")
        #expect(try String(contentsOf: output.appendingPathComponent("ok"), encoding: .utf8) == "written")
    }

    /// Finding 8: the memory limit was per process and `--nproc` counted the user's processes. Where the machine gives
    /// the harness control groups (root on cgroup v1 here), a phase's whole tree shares one memory limit and one
    /// process count, and cannot leave the slot's cores.
    @Test(.enabled(if: SandboxTests.bwrapAvailable && PhaseCgroup.available != nil, "needs bubblewrap and a writable cgroup (root on cgroup v1, or a delegated v2 subtree)"))
    func aPhaseGroupLimitsTheWholeTree() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-cgroup-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let script = """
            import os, subprocess, sys, time
            # Memory: four children of 120 MB each, every page touched: each is under the per-process limit, together over.
            children = [subprocess.Popen([sys.executable, "-c", "b = bytearray(120 * 1048576)\\nfor i in range(0, len(b), 4096): b[i] = 1\\nimport time; time.sleep(3)"]) for _ in range(4)]
            codes = [c.wait() for c in children]
            print("memory:", "held" if any(code != 0 for code in codes) else "ESCAPED", codes, flush=True)
            # Processes: 60 sleepers against a limit of 40 (threads and all).
            started = 0
            try:
                for _ in range(60):
                    subprocess.Popen(["sleep", "5"]); started += 1
                print("pids: ESCAPED", started, flush=True)
            except OSError:
                print("pids: held", started, flush=True)
            # Cores: the slot has core 0 only.
            try:
                os.sched_setaffinity(0, set(range(os.cpu_count()))); print("cpuset:", "ESCAPED" if os.sched_getaffinity(0) != {0} else "held", flush=True)
            except OSError:
                print("cpuset: held", flush=True)
            """
        try script.write(to: base.appendingPathComponent("tree.py"), atomically: true, encoding: .utf8)
        var settings = SandboxSettings()
        settings.memoryMB = 300
        settings.maxProcesses = 40
        let sandbox = Sandbox(bwrap: try Sandbox.detect().get(), settings: settings)
        let command = PhaseCommand(command: "/usr/bin/python3 \(base.path)/tree.py", view: Sandbox.View(workingDirectory: base.path, readOnly: [base.path]),
                                   environment: SubjectEnvironment.make(subject: [:], sandboxed: true, harness: ["PATH": "/usr/bin:/bin"]), timeout: 120)
        let log = base.appendingPathComponent("log")
        _ = try await LocalExecutor(sandbox: sandbox).run(command, in: Slot(name: "cpu0", cpus: "0"), log: log, onStart: { _ in })
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(text.contains("memory: held") && text.contains("pids: held") && !text.contains("ESCAPED"), "\(text)")
        if ProcessInfo.processInfo.activeProcessorCount > 1 { #expect(text.contains("cpuset: held"), "\(text)") }
    }

    @Test func theSeccompProgramRefusesWhatItNames() throws {
        let program = try #require(SeccompFilter.program)
        #expect(program.count % 8 == 0)
        // check arch, deny other ABIs, load nr, (x32 bit), one compare per call, allow, deny
        #expect(program.count / 8 == 4 + (SeccompFilter.refusedNames.count) + 2 + (program.count / 8 == 4 + SeccompFilter.refusedNames.count + 2 ? 0 : 1))
        #expect(SeccompFilter.printfCommand([0, 8, 255]) == "printf '\\0\\10\\377'")
        #expect(SeccompFilter.refusedNames.contains("ptrace") && SeccompFilter.refusedNames.contains("mount") && SeccompFilter.refusedNames.contains("setns"))
    }

    /// The harness sees the CPU time of a sandboxed run (bubblewrap does not wait for its namespace, so `wait4` alone
    /// reports almost nothing): the disturbed-run rule needs it to tell the run's own work from other processes'.
    @Test(.enabled(if: SandboxTests.bwrapAvailable)) func theCPUTimeOfASandboxedRunIsMeasured() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-cpu-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let sandbox = Sandbox(bwrap: try Sandbox.detect().get(), settings: SandboxSettings())
        // A child process spins for 1.5 s of CPU time (not wall time: the machine may be busy).
        let spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.5: pass"
        let command = PhaseCommand(command: "python3 -c '\(spin)' & wait", view: Sandbox.View(workingDirectory: base.path, readOnly: [base.path]),
                                   environment: SubjectEnvironment.make(subject: [:], sandboxed: true, harness: ["PATH": "/usr/bin:/bin"]),
                                   timeout: 60)
        let result = try await LocalExecutor(sandbox: sandbox).run(command, in: Slot(name: "local"), log: base.appendingPathComponent("log"), onStart: { _ in })
        #expect(result.termination == .exited(0))
        let cpu = try #require(result.cpuSeconds)
        #expect(cpu >= 1.0 && cpu < 5, "measured \(cpu) CPU seconds")
    }

    /// When the process that started bwrap is killed (as a harness killed with SIGKILL would be), everything in the
    /// sandbox dies with it, including a child that called setsid.
    @Test(.enabled(if: SandboxTests.bwrapAvailable)) func nothingOutlivesAKilledHarness() async throws {
        let sandbox = Sandbox(bwrap: try Sandbox.detect().get(), settings: SandboxSettings())
        let line = sandbox.commandLine("setsid sleep 876543 & sleep 876544", view: Sandbox.View(workingDirectory: "/usr"),
                                       environment: ["PATH": "/usr/bin:/bin"])
        let harness = Process()
        harness.executableURL = URL(fileURLWithPath: "/bin/sh")
        harness.arguments = ["-c", line + " & wait"]
        try harness.run()
        try await Task.sleep(nanoseconds: 1_500_000_000)
        #expect(try !ProcessRunner.capture(["pgrep", "-f", "sleep 87654"], in: URL(fileURLWithPath: "/")).stdout.isEmpty, "the sandbox did not start")
        kill(harness.processIdentifier, SIGKILL)
        harness.waitUntilExit()
        var left = "?"
        for _ in 0..<50 {
            left = try ProcessRunner.capture(["pgrep", "-f", "sleep 87654"], in: URL(fileURLWithPath: "/")).stdout
            if left.isEmpty { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test func secretsAreRedactedFromEveryTextTheLedgerStores() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("redact-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let secret = "sk-ledger-secret-6a5b4c3d"
        setenv("LEDGER_TEST_API_KEY", secret, 1)
        defer { unsetenv("LEDGER_TEST_API_KEY") }
        let ledger = try Ledger(url: dir.appendingPathComponent("ledger.sqlite"))
        try ledger.insert(TagRecord(tag: "t", branch: "autoresearch/t", manifestHash: "h", createdAt: Date(), baselineCommit: "c"))
        var record = try ledger.start(ExperimentRecord(tag: "t", number: -1, parentCommit: nil, description: "key \(secret)", researcher: "command"))
        record.hypothesis = "because \(secret)"; record.error = "crashed with \(secret)"; record.diff = "+KEY = \"\(secret)\""
        try ledger.save(record)
        try ledger.appendNote(ResearchNote(author: "a", experiment: 0, text: "note \(secret)"), tag: "t")
        let stored = try #require(ledger.experiments(tag: "t").first)
        #expect(stored.description == "key [redacted]" && stored.hypothesis == "because [redacted]")
        #expect(stored.error == "crashed with [redacted]" && stored.diff == "+KEY = \"[redacted]\"")
        #expect(try ledger.notes(tag: "t").map(\.text) == ["note [redacted]"])
        let bytes = try Data(contentsOf: dir.appendingPathComponent("ledger.sqlite"))
        #expect(bytes.range(of: Data(secret.utf8)) == nil)
    }

    @Test func gitNeverRunsAHookOrAnFsmonitorCommand() throws {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repo) }
        let git = Git(repo)
        try git.initialize()
        let marker = repo.appendingPathComponent("ran")
        for hook in ["pre-commit", "post-commit", "commit-msg"] {
            let url = repo.appendingPathComponent(".git/hooks/\(hook)")
            try "#!/bin/sh\ntouch \(marker.path)\n".write(to: url, atomically: true, encoding: .utf8)
            chmod(url.path, 0o755)
        }
        _ = try ProcessRunner.capture(["git", "config", "core.fsmonitor", "touch \(marker.path)"], in: repo)
        try "a\n".write(to: repo.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        try git.run(["add", "a.txt"])
        _ = try git.commit("one")
        _ = try git.run(["status", "--porcelain"])
        #expect(!FileManager.default.fileExists(atPath: marker.path), "a hook or the fsmonitor ran")
    }
}

/// Admission's index of the held-out splits: a verbatim copy is found whatever its quoting, case or line breaks;
/// the baseline's own text and ordinary code are not.
@Suite struct SplitLeakIndexTests {
    static let held = Array("""
        To be, or not to be, that is the question:
        Whether 'tis nobler in the mind to suffer
        The slings and arrows of outrageous fortune,
        Or to take arms against a sea of troubles
        """.utf8)

    @Test func aCopyIsFoundHoweverItIsQuoted() {
        let index = SplitLeakIndex([Self.held])
        let literal = "let table = \"WHETHER 'TIS NOBLER IN THE MIND TO SUFFER\\nThe slings and arrows of outrageous fortune,\\nOr to take\""
        #expect(index.copiedStretches(in: literal) > 0)
        #expect(index.copiedStretches(in: "let table = \"whether 'tis nobler in the mind to suffer the slings\"") == 0, "under 64 letters")
        #expect(index.copiedStretches(in: "let WIDTH = 128\nlet DEPTH = 4\nfor step in 0..<steps { loss.backward() }") == 0)
        // What the file held before the edit is not the researcher's copy.
        #expect(index.copiedStretches(in: literal + "\nlet DEPTH = 3", allowed: literal) == 0)
    }
}
