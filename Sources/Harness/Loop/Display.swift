import AutoResearchCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the loop tells the person watching it.
public enum LoopEvent: Sendable, Equatable {
    /// A line of information ("resuming tag nov29 ...").
    case note(String)
    /// Experiment `number` started (`description` may still be "(proposing)").
    case experiment(number: Int, description: String)
    /// Experiment `number` entered a phase; `limit` is the phase's budget in seconds, if any
    /// (for training: the training budget; once past it the subject is evaluating). In a swarm several
    /// experiments run at once, so each phase names its experiment.
    case stage(number: Int, ExperimentStage, limit: Double?)
    /// An experiment ended.
    case decided(number: Int, status: ExperimentStatus, metric: Double?, description: String, reason: String)
    /// The tag's standing after a decision.
    case standing(baseline: Double?, best: Double?, keeps: Int, experiments: Int)
    /// Experiment `number` writes its log here (the terminal display reads its training curve as it grows).
    case log(number: Int, path: String)
}

/// Shows the loop's progress. `TerminalDisplay` redraws one status line on a TTY;
/// `LineDisplay` prints plain lines (pipes, log files, CI).
public protocol Display: Sendable {
    func show(_ event: LoopEvent) async
    /// Called once when the loop ends: stop redrawing, leave the cursor on a fresh line.
    func finish() async
}

/// The display that fits stdout: a live status line when it is a terminal, plain lines otherwise.
public func makeDisplay() -> any Display {
    isatty(STDOUT_FILENO) == 1 ? TerminalDisplay() : LineDisplay()
}

/// Formats seconds as `m:ss` or `h:mm:ss`.
func clock(_ seconds: Double) -> String {
    let s = max(0, Int(seconds.rounded()))
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}

func metricText(_ value: Double?) -> String { value.map { String(format: "%.6f", $0) } ?? "—" }

/// Plain log lines, one per event (no redrawing): for a pipe or a file.
public actor LineDisplay: Display {
    public init() {}

    public func show(_ event: LoopEvent) { if let line = Self.line(event) { emit(line) } }

    /// The line an event prints as (without the time stamp); nil for events that print nothing.
    public static func line(_ event: LoopEvent) -> String? {
        switch event {
        case .log: return nil
        case .note(let text): return text
        case .experiment(let n, let description): return "experiment \(n): \(description)"
        case .stage(let n, let phase, let limit):
            return "experiment \(n): \(phase.rawValue)" + (limit.map { " (limit \(clock($0)))" } ?? "")
        case .decided(let n, let status, let metric, let description, let reason):
            return "experiment \(n): \(status.rawValue) \(metricText(metric)) \(description) (\(reason))"
        case .standing(let baseline, let best, let keeps, let experiments):
            return "standing: baseline \(metricText(baseline)) → best \(metricText(best)), \(keeps) kept of \(experiments)"
        }
    }

    public func finish() {}

    private func emit(_ line: String) {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withTime, .withColonSeparatorInTime])
        print("[\(stamp)] \(line)")
        fflush(stdout)
    }
}

/// Live lines redrawn in place every second, with decisions printed above them: one line per running experiment
/// (its phase, elapsed against the budget, and the last `step | loss | tok/s` its log shows) and the standing.
public actor TerminalDisplay: Display {
    /// What the display knows of a running experiment.
    struct Running: Equatable {
        var description = ""
        var phase: ExperimentStage?
        var phaseStart = Date()
        var limit: Double?
        var log: String?
    }
    private var running: [Int: Running] = [:]
    private var baseline: Double?
    private var best: Double?
    private var keeps = 0
    private var experiments = 0
    private var drawn = 0
    private var ticker: Task<Void, Never>?

    public init() {}

    public func show(_ event: LoopEvent) {
        startTicker()
        switch event {
        case .note(let text): printAbove(text)
        case .experiment(let n, let d): running[n, default: Running()].description = d
        case .stage(let n, let p, let l):
            running[n, default: Running()].phase = p; running[n]?.limit = l; running[n]?.phaseStart = Date()
        case .log(let n, let path): running[n, default: Running()].log = path
        case .decided(let n, let status, let metric, let d, let reason):
            running[n] = nil
            printAbove("#\(n) \(status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(metricText(metric))  \(d)  — \(reason)")
        case .standing(let b, let bb, let k, let e): baseline = b; best = bb; keeps = k; experiments = e
        }
        redraw()
    }

    public func finish() {
        ticker?.cancel()
        ticker = nil
        clear()
    }

    private func startTicker() {
        guard ticker == nil else { return }
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                await self?.redraw()
            }
        }
    }

    /// Erases the live lines, leaving the cursor at the start of the first.
    private func clear() {
        var text = "\r\u{1B}[2K"
        for _ in 0..<max(0, drawn - 1) { text += "\u{1B}[1A\u{1B}[2K" }
        FileHandle.standardOutput.write(Data(text.utf8))
        drawn = 0
    }

    private func printAbove(_ line: String) {
        clear()
        FileHandle.standardOutput.write(Data("\(line)\n".utf8))
    }

    private func redraw() {
        let lines = Self.lines(running: running, baseline: baseline, best: best, keeps: keeps, experiments: experiments, now: Date())
        clear()
        FileHandle.standardOutput.write(Data(lines.joined(separator: "\n").utf8))
        drawn = lines.count
    }

    /// The live lines: one per running experiment (by number), then the standing.
    static func lines(running: [Int: Running], baseline: Double?, best: Double?, keeps: Int, experiments: Int, now: Date,
                      tail: (String) -> String? = { LogFile.tail(URL(fileURLWithPath: $0), bytes: 4096) }) -> [String] {
        var lines: [String] = []
        for (n, r) in running.sorted(by: { $0.key < $1.key }) {
            var parts = ["#\(n)"]
            if let phase = r.phase {
                let seconds = now.timeIntervalSince(r.phaseStart)
                // Past the training budget, the subject is evaluating.
                let label = phase != .build && phase != .propose && r.limit.map({ seconds > $0 }) == true ? "eval" : phase.rawValue
                parts.append("\(label) \(clock(seconds))" + (r.limit.map { " / \(clock($0))" } ?? ""))
                if [.train, .rerun].contains(phase), let text = r.log.flatMap(tail), let point = TrainingCurve.last(text) {
                    parts.append(String(format: "step %d loss %.4f", point.step, point.loss) + (point.tokensPerSecond.map { String(format: " %.0f tok/s", $0) } ?? ""))
                }
            }
            if !r.description.isEmpty { parts.append(String(r.description.prefix(48))) }
            lines.append(parts.joined(separator: " │ "))
        }
        lines.append("best \(metricText(best)) (baseline \(metricText(baseline))) │ \(keeps) kept / \(experiments)")
        return lines
    }
}

/// Collects events without printing them (tests, embedding).
public actor RecordingDisplay: Display {
    public private(set) var events: [LoopEvent] = []
    public init() {}
    public func show(_ event: LoopEvent) { events.append(event) }
    public func finish() {}
}
