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
    case phase(number: Int, Phase, limit: Double?)
    /// An experiment ended.
    case decided(number: Int, status: ExperimentStatus, metric: Double?, description: String, reason: String)
    /// The tag's standing after a decision.
    case standing(baseline: Double?, best: Double?, keeps: Int, experiments: Int)
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

    public func show(_ event: LoopEvent) { emit(Self.line(event)) }

    /// The line an event prints as (without the time stamp).
    public static func line(_ event: LoopEvent) -> String {
        switch event {
        case .note(let text): return text
        case .experiment(let n, let description): return "experiment \(n): \(description)"
        case .phase(let n, let phase, let limit):
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

/// One status line redrawn in place every second, with decisions printed above it.
public actor TerminalDisplay: Display {
    private var number = 0
    private var description = ""
    private var phase: Phase?
    private var phaseStart = Date()
    private var limit: Double?
    private var baseline: Double?
    private var best: Double?
    private var keeps = 0
    private var experiments = 0
    private var ticker: Task<Void, Never>?

    public init() {}

    public func show(_ event: LoopEvent) {
        startTicker()
        switch event {
        case .note(let text): printAbove(text)
        case .experiment(let n, let d): number = n; description = d; phase = nil
        case .phase(let n, let p, let l): number = n; phase = p; limit = l; phaseStart = Date()
        case .decided(let n, let status, let metric, let d, let reason):
            phase = nil
            printAbove("#\(n) \(status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(metricText(metric))  \(d)  — \(reason)")
        case .standing(let b, let bb, let k, let e): baseline = b; best = bb; keeps = k; experiments = e
        }
        redraw()
    }

    public func finish() {
        ticker?.cancel()
        ticker = nil
        FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8))
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

    private func printAbove(_ line: String) {
        FileHandle.standardOutput.write(Data("\r\u{1B}[2K\(line)\n".utf8))
    }

    private func redraw() {
        var parts = ["exp \(number)"]
        if let phase {
            let seconds = Date().timeIntervalSince(phaseStart)
            // Past the training budget, the subject is evaluating.
            let label = phase != .build && phase != .propose && limit.map({ seconds > $0 }) == true ? "eval" : phase.rawValue
            parts.append("\(label) \(clock(seconds))" + (limit.map { " / \(clock($0))" } ?? ""))
        }
        parts.append("best \(metricText(best)) (baseline \(metricText(baseline)))")
        parts.append("\(keeps) kept / \(experiments)")
        if !description.isEmpty { parts.append(String(description.prefix(40))) }
        FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + parts.joined(separator: " │ ")).utf8))
    }
}

/// Collects events without printing them (tests, embedding).
public actor RecordingDisplay: Display {
    public private(set) var events: [LoopEvent] = []
    public init() {}
    public func show(_ event: LoopEvent) { events.append(event) }
    public func finish() {}
}
