import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a child process ended.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    /// It exited by itself with this status.
    case exited(Int32)
    /// It was killed by this signal, not by us.
    case signaled(Int32)
    /// It ran past its hard limit; its whole process group was killed.
    case timedOut
    /// The task that waited for it was cancelled (Ctrl-C); its whole process group was killed.
    case cancelled
    /// It ran elsewhere (a Slurm job) and ended badly there; the text is the scheduler's state and reason.
    case endedRemotely(String)

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signaled(let sig): return "killed by signal \(sig)"
        case .timedOut: return "ran past its hard limit and was killed"
        case .cancelled: return "was interrupted"
        case .endedRemotely(let reason): return "ended on the cluster: \(reason)"
        }
    }
}

/// Why a child process could not be started.
public enum ProcessError: Error, Equatable, CustomStringConvertible {
    case cannotStart(command: String, errno: Int32)
    case cannotOpen(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .cannotStart(let command, let code): return "could not start `\(command)`: \(String(cString: strerror(code)))"
        case .cannotOpen(let path, let code): return "cannot write the log \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// The result of `ProcessRunner.run`: how the process ended and how long it ran (seconds).
public struct ProcessResult: Sendable, Equatable {
    public var termination: Termination
    public var seconds: Double
    /// CPU seconds (user + system) the child and the descendants it waited for used; nil when not measured
    /// (stopped by a timeout or a cancellation, or run elsewhere).
    public var cpuSeconds: Double?
    public var succeeded: Bool { termination == .exited(0) }

    public init(termination: Termination, seconds: Double, cpuSeconds: Double? = nil) {
        self.termination = termination; self.seconds = seconds; self.cpuSeconds = cpuSeconds
    }
}

/// Starts child processes with `posix_spawn`, each in its own process group, and makes sure that
/// every one is reaped and its whole group killed, whatever happens to the task that waits for it.
public enum ProcessRunner {
    /// Seconds between SIGTERM and SIGKILL when a process group is stopped.
    public static let terminationGrace: Double = 3

    /// Runs `command` with `/bin/sh -c` in `directory`, appending stdout and stderr to `log`.
    ///
    /// The child gets its own process group. On a timeout or when the calling task is cancelled,
    /// the whole group gets SIGTERM, then SIGKILL after `terminationGrace` seconds; the child is always reaped,
    /// and any process left in its group after it exits is killed too.
    /// - Parameters:
    ///   - environment: variables added to (or replacing those of) the harness's own environment; with
    ///     `exactEnvironment` the child's whole environment.
    ///   - removed: variables of the harness's environment the child must not see.
    ///   - exactEnvironment: the child gets `environment` and nothing of the harness's.
    ///   - timeout: hard limit in seconds; nil for none.
    ///   - input: a file the child reads as its standard input; nil for /dev/null.
    ///   - onStart: called with the child's pid (= its process group id) right after it started.
    /// - Throws: `ProcessError` when the log cannot be opened or the process cannot be started.
    public static func run(shell command: String, in directory: URL, environment: [String: String] = [:],
                           removing removed: Set<String> = [], exactEnvironment: Bool = false, input: URL? = nil, log: URL,
                           timeout: Double?, onStart: (pid_t) -> Void = { _ in }) async throws -> ProcessResult {
        let logFD = open(log.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard logFD >= 0 else { throw ProcessError.cannotOpen(path: log.path, errno: errno) }
        defer { close(logFD) }
        let start = Date()
        let pid = try spawn(["/bin/sh", "-c", command], in: directory, environment: environment, removing: removed,
                            exactEnvironment: exactEnvironment, input: input, stdout: logFD, stderr: logFD)
        ActiveProcessGroups.shared.insert(pid)
        defer { ActiveProcessGroups.shared.remove(pid) }
        onStart(pid)
        let tree = ProcessTreeCPU(root: pid)
        tree.start()
        defer { tree.stop() }
        while true {
            if let (status, cpu) = reapMeasured(pid, blocking: false) {
                killpg(pid, SIGKILL) // nothing of it may outlive it
                return ProcessResult(termination: decode(status), seconds: Date().timeIntervalSince(start),
                                     cpuSeconds: cpu.map { max($0, tree.total) })
            }
            if Task.isCancelled {
                stopGroup(pid)
                return ProcessResult(termination: .cancelled, seconds: Date().timeIntervalSince(start))
            }
            if let timeout, Date().timeIntervalSince(start) > timeout {
                stopGroup(pid)
                return ProcessResult(termination: .timedOut, seconds: Date().timeIntervalSince(start))
            }
            try? await Task.sleep(nanoseconds: 25_000_000)
        }
    }

    /// The output of a short command run by `capture`.
    public struct Captured: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `arguments` (no shell) in `directory`, waits for it, and returns its exit status and output.
    /// For short commands such as git; the caller's thread blocks while it runs.
    public static func capture(_ arguments: [String], in directory: URL,
                               environment: [String: String] = [:]) throws -> Captured {
        let tmp = FileManager.default.temporaryDirectory
        let outURL = tmp.appendingPathComponent("ar-\(UUID().uuidString).out")
        let errURL = tmp.appendingPathComponent("ar-\(UUID().uuidString).err")
        let outFD = open(outURL.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let errFD = open(errURL.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer {
            close(outFD); close(errFD)
            unlink(outURL.path); unlink(errURL.path)
        }
        guard outFD >= 0, errFD >= 0 else { throw ProcessError.cannotStart(command: arguments.joined(separator: " "), errno: errno) }
        let pid = try spawn(arguments, in: directory, environment: environment, stdout: outFD, stderr: errFD)
        let status = reap(pid, blocking: true) ?? 0
        killpg(pid, SIGKILL)
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        let code: Int32
        switch decode(status) {
        case .exited(let c): code = c
        case .signaled(let s): code = 128 + s
        default: code = 1
        }
        return Captured(status: code, stdout: out, stderr: err)
    }

    // MARK: - Internals

    /// SIGTERM to the group, SIGKILL after the grace period, then reap.
    static func stopGroup(_ pid: pid_t) {
        killpg(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(terminationGrace)
        while Date() < deadline {
            if reap(pid, blocking: false) != nil { killpg(pid, SIGKILL); return }
            usleep(20_000)
        }
        killpg(pid, SIGKILL)
        _ = reap(pid, blocking: true)
    }

    /// `waitpid`, retried on EINTR. Returns the raw status once the child has ended, nil if it is still running.
    static func reap(_ pid: pid_t, blocking: Bool) -> Int32? { reapMeasured(pid, blocking: blocking)?.status }

    /// `wait4`, retried on EINTR: the raw status and the CPU seconds of the child (with the descendants it reaped)
    /// once it has ended; nil while it runs.
    static func reapMeasured(_ pid: pid_t, blocking: Bool) -> (status: Int32, cpuSeconds: Double?)? {
        var status: Int32 = 0
        var usage = rusage()
        while true {
            let r = wait4(pid, &status, blocking ? 0 : WNOHANG, &usage)
            if r == pid {
                let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                    + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
                return (status, cpu)
            }
            if r == 0 { return nil }
            if errno == EINTR { continue }
            return (0, nil) // ECHILD: already reaped
        }
    }

    static func decode(_ status: Int32) -> Termination {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// `posix_spawn` in a new process group, with default signal handlers and an empty signal mask
    /// (the harness ignores SIGINT itself; its children must not inherit that).
    static func spawn(_ arguments: [String], in directory: URL, environment: [String: String],
                      removing removed: Set<String> = [], exactEnvironment: Bool = false, input: URL? = nil,
                      stdout: Int32, stderr: Int32) throws -> pid_t {
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, input?.path ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var env = exactEnvironment ? [:] : ProcessInfo.processInfo.environment
        for key in removed { env[key] = nil }
        for (key, value) in environment { env[key] = value }
        // `cd` through a tiny shell trampoline: posix_spawn_file_actions_addchdir_np is not exported by every libc module.
        let trampoline = ["/bin/sh", "-c", "cd \"$0\" || exit 127; exec \"$@\"", directory.path] + arguments
        let argv = trampoline.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        guard rc == 0 else { throw ProcessError.cannotStart(command: arguments.joined(separator: " "), errno: rc) }
        return pid
    }
}

/// The process groups of the children running now, so that a second Ctrl-C can kill them before the harness exits.
/// A lock rather than an actor because it is read from a signal handler's dispatch queue, synchronously.
public final class ActiveProcessGroups: @unchecked Sendable {
    public static let shared = ActiveProcessGroups()
    private let lock = NSLock()
    private var groups: Set<pid_t> = []

    public func insert(_ pid: pid_t) { lock.lock(); groups.insert(pid); lock.unlock() }
    public func remove(_ pid: pid_t) { lock.lock(); groups.remove(pid); lock.unlock() }

    /// SIGKILL every registered process group (used on a second Ctrl-C, just before exiting).
    public func killAll() {
        lock.lock(); let all = groups; lock.unlock()
        for pid in all { killpg(pid, SIGKILL) }
    }
}

/// How the harness calls git: never running a hook (`core.hooksPath=/dev/null`) or an fsmonitor command, and
/// ignoring the user's global and the system's config, so that nothing a researcher or an agent wrote into a
/// repository's hooks or config runs with the harness's environment.
public enum SafeGit {
    /// `git` and `args` with the hardening options in front.
    public static func command(_ args: [String]) -> [String] {
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "protocol.allow=never"] + args
    }

    /// The environment git runs with: no global or system config, no prompts, C locale.
    public static let environment = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
                                     "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"]
}
