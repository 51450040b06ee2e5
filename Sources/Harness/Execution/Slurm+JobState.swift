import Foundation

/// Where a Slurm job is, as `SlurmClient.state` reads it from `squeue` (or `sacct` once Slurm forgot the job).
///
/// Every `reason` starts with Slurm's state and then says in words what happened, e.g.
/// "TIMEOUT: job ran past its time limit of 1 min".
public enum SlurmJobState: Sendable, Equatable, CustomStringConvertible {
    /// Waiting for resources or priority (also CONFIGURING, REQUEUED and held jobs).
    case pending
    /// Running (also COMPLETING, SUSPENDED, STOPPED, SIGNALING, STAGE_OUT, RESIZING: not over yet).
    case running
    /// COMPLETED: the script exited with status 0.
    case completed(exitCode: Int32)
    /// FAILED: a non-zero exit status (128 + N when killed by signal N), or Slurm could not launch it.
    case failed(exitCode: Int32, reason: String)
    /// TIMEOUT: killed at its time limit.
    case timedOut(reason: String)
    /// CANCELLED: by `scancel` (ours or anyone's) or an administrator.
    case cancelled(reason: String)
    /// Any other final state (NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, BOOT_FAIL, DEADLINE, …), or one this code does not know.
    case other(state: String, reason: String)

    /// Whether the job is over (everything but `pending` and `running`).
    public var isFinal: Bool {
        switch self {
        case .pending, .running: return false
        default: return true
        }
    }

    public var description: String {
        switch self {
        case .pending: return "PENDING"
        case .running: return "RUNNING"
        case .completed(let code): return "COMPLETED (exit status \(code))"
        case .failed(_, let reason), .timedOut(let reason), .cancelled(let reason), .other(_, let reason): return reason
        }
    }

    static let pendingStates: Set<String> = ["PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD"]
    static let runningStates: Set<String> = ["RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING"]

    /// Builds the state from what Slurm reports.
    /// - Parameters:
    ///   - state: Slurm's job state (`COMPLETED`; sacct's `CANCELLED by 0` is read as `CANCELLED`).
    ///   - reason: Slurm's Reason field (`NonZeroExitCode`, `None`, …); empty when unknown (sacct).
    ///   - exitStatus: the script's exit status, and the signal that killed it (0 for none).
    ///   - timeLimit: Slurm's time limit text (`1:00`, `1-02:00:00`, `UNLIMITED`); empty when unknown.
    static func from(state rawState: String, reason rawReason: String, exitStatus: Int32, signal: Int32,
                     timeLimit: String) -> SlurmJobState {
        let state = rawState.split(separator: " ").first.map { String($0).uppercased() } ?? ""
        let reason = rawReason == "None" || rawReason == "(null)" ? "" : rawReason
        let slurmReason = reason.isEmpty ? "" : " (Slurm's reason: \(reason))"
        if pendingStates.contains(state) { return .pending }
        if runningStates.contains(state) { return .running }
        switch state {
        case "COMPLETED":
            return .completed(exitCode: exitStatus)
        case "FAILED":
            if reason == "JobLaunchFailure" {
                return .failed(exitCode: signal != 0 ? 128 + signal : exitStatus,
                               reason: "FAILED: Slurm could not launch the job (JobLaunchFailure): its working directory or log file "
                                   + "is probably missing or not writable on the node; see slurmd's log there")
            }
            if signal != 0 {
                return .failed(exitCode: 128 + signal, reason: "FAILED: killed by signal \(signal)\(signalName(signal))"
                               + (reason == "NonZeroExitCode" ? "" : slurmReason))
            }
            return .failed(exitCode: exitStatus, reason: "FAILED: exited with status \(exitStatus)"
                           + (reason == "NonZeroExitCode" ? "" : slurmReason))
        case "TIMEOUT":
            let limit = humanDuration(timeLimit).map { " of \($0)" } ?? ""
            return .timedOut(reason: "TIMEOUT: job ran past its time limit\(limit)")
        case "CANCELLED":
            return .cancelled(reason: "CANCELLED: the job was cancelled (scancel or an administrator) before it finished\(slurmReason)")
        case "OUT_OF_MEMORY":
            return .other(state: state, reason: "OUT_OF_MEMORY: the job used more memory than it asked for; ask for more (memoryMB)\(slurmReason)")
        case "NODE_FAIL":
            return .other(state: state, reason: "NODE_FAIL: the node running the job failed\(slurmReason)")
        case "BOOT_FAIL":
            return .other(state: state, reason: "BOOT_FAIL: the node for the job could not be booted\(slurmReason)")
        case "PREEMPTED":
            return .other(state: state, reason: "PREEMPTED: a job of higher priority took its resources\(slurmReason)")
        case "DEADLINE":
            return .other(state: state, reason: "DEADLINE: the job could not finish before its deadline\(slurmReason)")
        case "":
            return .other(state: "UNKNOWN", reason: "UNKNOWN: Slurm reported no state for the job\(slurmReason)")
        default:
            return .other(state: state, reason: "\(state): Slurm ended the job in this state\(slurmReason)")
        }
    }

    /// " (SIGKILL)" for the common signals, "" otherwise.
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM"]
        return names[signal].map { " (\($0))" } ?? ""
    }

    /// Slurm's time text (`M`, `M:SS`, `H:MM:SS`, `D-H`, `D-H:M`, `D-H:M:S`) in words ("1 min", "1 h 30 min",
    /// "2 days 3 h", "45 s"); nil for UNLIMITED, INVALID or anything it cannot read.
    static func humanDuration(_ text: String) -> String? {
        var days = 0, rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if let dash = rest.firstIndex(of: "-") {
            guard let d = Int(rest[..<dash]) else { return nil }
            days = d
            rest = rest[rest.index(after: dash)...]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        let p = parts.map { $0! }
        var seconds: Int
        if days > 0 || text.contains("-") {
            // D-H, D-H:M, D-H:M:S
            guard p.count <= 3 else { return nil }
            seconds = days * 86_400 + p[0] * 3_600 + (p.count > 1 ? p[1] * 60 : 0) + (p.count > 2 ? p[2] : 0)
        } else {
            switch p.count {
            case 1: seconds = p[0] * 60                          // M
            case 2: seconds = p[0] * 60 + p[1]                   // M:SS
            case 3: seconds = p[0] * 3_600 + p[1] * 60 + p[2]    // H:MM:SS
            default: return nil
            }
        }
        var words: [String] = []
        let d = seconds / 86_400, h = seconds % 86_400 / 3_600, m = seconds % 3_600 / 60, s = seconds % 60
        if d > 0 { words.append(d == 1 ? "1 day" : "\(d) days") }
        if h > 0 { words.append("\(h) h") }
        if m > 0 { words.append("\(m) min") }
        if s > 0 || words.isEmpty { words.append("\(s) s") }
        return words.joined(separator: " ")
    }
}
