import AutoResearchCore
import Foundation
import Synchronization

/// What one phase of a run may see and do, and the command line that confines it with bubblewrap
/// (`bwrap`, Debian's `bubblewrap`).
///
/// Every phase gets: no network (a new, empty network namespace), a read-only view of the system folders
/// (`/usr`, `/bin`, `/lib*`, `/opt`, a few files of `/etc`), a private `/tmp` and `HOME`, its own PID namespace
/// (when the phase ends or the harness dies, `--die-with-parent` and the namespace take every process with it,
/// `setsid` or not), the environment the harness gives it and nothing else (`--clearenv`), and limits on
/// address space, file size (its log included) and processes (`prlimit`). It runs as an unprivileged user
/// (uid/gid 65534 in a user namespace of its own) with every capability dropped and no way to make another user
/// namespace (`--cap-drop ALL`, `--disable-userns`), under a seccomp filter (`SeccompFilter`: no ptrace, mount or
/// setns), with `/proc/sys` read-only, `/dev` read-only, and `/tmp` and `/dev/shm` size-capped tmpfs: so a run as
/// root (CI, containers) can neither remount a read-only bind writable nor write a sysctl. Beyond that only the paths of its
/// `View` exist: the worktree (writable to the build, read-only to every run), the training split's files, the
/// phase's output folder. The workspace — ledger, manifest, program.md, other workers' worktrees — is not there.
public struct Sandbox: Sendable {
    /// Paths a phase sees; each at the same path as on the host.
    public struct View: Sendable, Equatable {
        public var readOnly: [String] = []
        public var writable: [String] = []
        public var workingDirectory: String
        /// Training and evaluation get the memory limit; the build (the compiler) does not.
        public var limitMemory = true
        /// CPU seconds each process may use (`prlimit --cpu`); nil for none.
        public var cpuSeconds: Int?
        /// The host's network (agents call their APIs); phases never have it.
        public var network = false
        /// Paths hidden under an empty tmpfs (an agent's view of the worktree's build outputs).
        public var masked: [String] = []
        /// Whether the command keeps the caller's standard input (an agent reading its prompt there).
        public var keepsInput = false
        /// Device files the phase may use (a GPU slot's `/dev/nvidia*`); with any, `/sys` is visible read-only too
        /// (the CUDA runtime reads the PCI topology there).
        public var devices: [String] = []

        public init(workingDirectory: String, readOnly: [String] = [], writable: [String] = [], limitMemory: Bool = true) {
            self.workingDirectory = workingDirectory; self.readOnly = readOnly; self.writable = writable; self.limitMemory = limitMemory
        }
    }

    /// The bwrap executable.
    public let bwrap: String
    public let settings: SandboxSettings

    /// System folders every phase sees read-only (those that exist).
    static let systemFolders = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt"]
    /// Files and folders of /etc a program needs to start (dynamic linker, users, time zone, BLAS alternatives).
    static let etcEntries = ["/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/passwd",
                             "/etc/group", "/etc/nsswitch.conf", "/etc/localtime", "/etc/ssl", "/etc/ca-certificates"]

    /// The NVIDIA device files of this machine (`/dev/nvidia0`, `/dev/nvidiactl`, `/dev/nvidia-uvm`, …), for GPU slots.
    /// With `gpus` (a slot's `CUDA_VISIBLE_DEVICES`, e.g. "0,2"), only those GPUs' nodes (`nvidia0`, `nvidia2`) and the
    /// shared control nodes (`nvidiactl`, `nvidia-uvm`, …): a slot never sees another slot's GPU.
    public static func gpuDevices(in dev: String = "/dev", gpus: String? = nil) -> [String] {
        let wanted = gpus.map { Set($0.split(separator: ",").map { "nvidia" + $0.trimmingCharacters(in: .whitespaces) }) }
        return ((try? FileManager.default.contentsOfDirectory(atPath: dev)) ?? []).filter { name in
            guard name.hasPrefix("nvidia") else { return false }
            let isGPU = name.dropFirst("nvidia".count).allSatisfy(\.isNumber) && name.count > "nvidia".count
            return !isGPU || wanted.map { $0.contains(name) } ?? true
        }.sorted().map { dev + "/" + $0 }
    }

    /// The private home inside the sandbox.
    public static let home = "/tmp/home"

    /// `bwrap` when it is installed and can create namespaces here, else why not (probed once per process).
    public static func detect() -> Result<String, SandboxUnavailable> {
        detected.withLock { cached in
            if let cached { return cached }
            let result = probe()
            cached = result
            return result
        }
    }

    private static let detected = Mutex<Result<String, SandboxUnavailable>?>(nil)

    private static func probe() -> Result<String, SandboxUnavailable> {
        guard let path = ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return .failure(SandboxUnavailable(reason: "bubblewrap is not installed (apt-get install bubblewrap)"))
        }
        let trial = try? ProcessRunner.capture([path, "--die-with-parent", "--unshare-all"] + confinement + ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"],
                                               in: URL(fileURLWithPath: "/"))
        guard let trial, trial.status == 0 else {
            return .failure(SandboxUnavailable(reason: "bubblewrap cannot create namespaces here: \(trial?.stderr.trimmingCharacters(in: .whitespacesAndNewlines) ?? "it did not start")"))
        }
        return .success(path)
    }

    /// The uid and gid a phase runs as inside its user namespace (`nobody`; outside it is the harness's own user).
    public static let phaseUID = 65534

    /// Arguments that take every privilege away: an unprivileged uid in a user namespace of its own, no capability,
    /// no further user namespaces (bubblewrap 0.8). As root too: without them root inside keeps every capability.
    static let confinement = ["--unshare-user", "--uid", String(phaseUID), "--gid", String(phaseUID), "--disable-userns", "--cap-drop", "ALL"]

    /// The file descriptor bubblewrap reads the seccomp program from (fed by `commandLine`'s pipeline).
    static let seccompDescriptor = 9

    public init(bwrap: String, settings: SandboxSettings) {
        self.bwrap = bwrap; self.settings = settings
    }

    /// The folders of `folder` that hold a prepared corpus with a hidden test split (meta.json beside test.txt).
    static func preparedCorpora(in folder: String) -> [String] {
        let fm = FileManager.default
        return ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { name in
            fm.fileExists(atPath: folder + "/" + name + "/meta.json") && fm.fileExists(atPath: folder + "/" + name + "/test.txt")
        }.sorted()
    }

    /// A training or evaluation phase's memory limit, MiB: `[sandbox] memory_mb`, or three quarters of the machine's.
    public var memoryLimitMB: Int { settings.memoryMB > 0 ? settings.memoryMB : Self.machineMemoryMB * 3 / 4 }

    /// The machine's memory in MiB (from /proc/meminfo), for the default memory limit.
    static var machineMemoryMB: Int {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 16_384 }
        return kb / 1024
    }

    /// Arguments that run `command` (a shell command line) confined to `view`, with exactly `environment`.
    public func arguments(_ command: String, view: View, environment: [String: String]) -> [String] {
        let fm = FileManager.default
        var args = ["/usr/bin/prlimit",
                    "--fsize=\(settings.maxFileMB * 1_048_576)", "--nproc=\(settings.maxProcesses)"]
        if view.limitMemory { args.append("--as=\(memoryLimitMB * 1_048_576)") }
        if let cpu = view.cpuSeconds { args.append("--cpu=\(max(1, cpu))") }
        args += ["--", bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--clearenv"] + Self.confinement
        if view.network { args.append("--share-net") }
        if SeccompFilter.program != nil { args += ["--seccomp", String(Self.seccompDescriptor)] }
        let tmpBytes = String(settings.tmpMB * 1_048_576)
        args += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev",
                 "--size", tmpBytes, "--tmpfs", "/dev/shm", "--size", tmpBytes, "--tmpfs", "/tmp", "--dir", Self.home]
        for device in view.devices { args += ["--dev-bind-try", device, device] }
        if !view.devices.isEmpty { args += ["--ro-bind-try", "/sys", "/sys"] }
        for folder in Self.systemFolders where fm.fileExists(atPath: folder) {
            // /bin, /lib, … may be links into /usr (merged /usr): keep them links.
            if let target = try? fm.destinationOfSymbolicLink(atPath: folder) {
                args += ["--symlink", target, folder]
            } else {
                args += ["--ro-bind", folder, folder]
            }
        }
        for entry in Self.etcEntries + (view.network ? ["/etc/resolv.conf", "/etc/hosts", "/etc/gai.conf"] : []) { args += ["--ro-bind-try", entry, entry] }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        for path in settings.homeReadOnly {
            args += ["--ro-bind-try", home + "/" + path, Self.home + "/" + path]
            // The hidden test split of a prepared corpus of ours under it reads as empty: an adopted repository may
            // train and self-score on the corpus, never see the held-out test text (the red team's finding 11).
            for corpus in Self.preparedCorpora(in: home + "/" + path) {
                args += ["--ro-bind", "/dev/null", Self.home + "/" + path + "/" + corpus + "/test.txt"]
            }
        }
        for path in view.readOnly { args += ["--ro-bind", path, path] }
        for path in view.writable { args += ["--bind", path, path] }
        for path in view.masked { args += ["--size", tmpBytes, "--tmpfs", path] }
        // Everything else read-only, the folders bwrap made to mount on included (so nothing new can be created
        // at a path that looks like the workspace's); /tmp and the writable binds stay writable.
        args += ["--remount-ro", "/", "--remount-ro", "/dev"]
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) { args += ["--setenv", key, value] }
        args += ["--chdir", view.workingDirectory, "/bin/sh", "-c", command]
        return args
    }

    /// `arguments` as one shell command line (for `ProcessRunner.run(shell:)` and Slurm batch scripts): the seccomp
    /// program is piped to bubblewrap on descriptor 9, and the phase's standard input is /dev/null.
    public func commandLine(_ command: String, view: View, environment: [String: String]) -> String {
        let line = arguments(command, view: view, environment: environment).map(shellQuote).joined(separator: " ")
        guard let program = SeccompFilter.program else { return line }
        if view.keepsInput {
            return "exec 8<&0; " + SeccompFilter.printfCommand(program) + " | { exec \(line) \(Self.seccompDescriptor)<&0 0<&8 8<&-; }"
        }
        return SeccompFilter.printfCommand(program) + " | { exec \(line) \(Self.seccompDescriptor)<&0 </dev/null; }"
    }
}

/// Why no sandbox can be had on this machine.
public struct SandboxUnavailable: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// `s` quoted for /bin/sh.
func shellQuote(_ s: String) -> String {
    if !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0)) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// The environment of every build and run: an allowlist, never the harness's own environment (which holds API
/// keys and tokens). `PATH` and `LANG` come from the harness; `HOME` is private in a sandbox; BLAS settings
/// and thread counts are kept; the subject's `AUTORESEARCH_*` keys are set by the harness for the phase.
public enum SubjectEnvironment {
    /// Variables passed on from the harness's environment when set there.
    public static let passed = ["PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "AUTORESEARCH_THREADS", "CUDA_VISIBLE_DEVICES"]

    /// The allowlisted environment: `passed` from `harness`, then `subject` (budget, data, phase, slot), then HOME and TMPDIR.
    public static func make(subject: [String: String], sandboxed: Bool,
                            harness: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var env: [String: String] = [:]
        for key in passed { if let value = harness[key] { env[key] = value } }
        if env["PATH"] == nil { env["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        for (key, value) in subject { env[key] = value }
        if sandboxed {
            env["HOME"] = Sandbox.home
            env["TMPDIR"] = "/tmp"
        } else {
            env["HOME"] = harness["HOME"] ?? NSTemporaryDirectory()
            if let tmp = harness["TMPDIR"] { env["TMPDIR"] = tmp }
        }
        return env
    }
}
