import Foundation

/// How long a run may train: a number of training seconds (the default) or a number of training
/// tokens. Only the time between `start()`/`resume()` and `pause()` counts, so start-up, compiling
/// and evaluation are not training seconds.
///
/// The trainer's loop: `budget.start()`, then per step `record(tokens:)` and stop when
/// `isExhausted`; wrap evaluation in `budget.excluding { ... }` (or `pause()`/`resume()`).
public final class TrainingBudget {
    public enum Mode: Equatable, Sendable {
        /// Train for this many seconds.
        case time(seconds: Double)
        /// Train on this many tokens.
        case tokens(Int)
    }

    public let mode: Mode
    private let clock: () -> Double
    private let createdAt: Double
    private var accumulated: Double = 0
    private var runningSince: Double?
    /// Training tokens recorded so far.
    public private(set) var tokens: Int = 0

    /// - Parameter clock: monotonic seconds; injectable for tests.
    public init(mode: Mode, clock: @escaping () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.mode = mode
        self.clock = clock
        createdAt = clock()
    }

    /// The budget the harness asked for: `AUTORESEARCH_TOKEN_BUDGET` tokens when it is > 0, else
    /// `AUTORESEARCH_TIME_BUDGET` seconds (default 60).
    /// - Throws: `SubjectError.invalidEnvironment` for a value that is not a positive number (time)
    ///   or a non-negative integer (tokens).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        clock: @escaping () -> Double = { ProcessInfo.processInfo.systemUptime }
    ) throws -> TrainingBudget {
        if let raw = environment[EnvironmentKey.tokenBudget], !raw.isEmpty {
            guard let tokens = Int(raw.trimmingCharacters(in: .whitespaces)), tokens >= 0 else {
                throw SubjectError.invalidEnvironment(
                    name: EnvironmentKey.tokenBudget, value: raw, expected: "a whole number of training tokens (0 = use the time budget)")
            }
            if tokens > 0 { return TrainingBudget(mode: .tokens(tokens), clock: clock) }
        }
        var seconds = defaultTimeBudget
        if let raw = environment[EnvironmentKey.timeBudget], !raw.isEmpty {
            guard let value = Double(raw.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0 else {
                throw SubjectError.invalidEnvironment(
                    name: EnvironmentKey.timeBudget, value: raw, expected: "a positive number of seconds")
            }
            seconds = value
        }
        return TrainingBudget(mode: .time(seconds: seconds), clock: clock)
    }

    /// Starts (or resumes) counting training seconds. Calling it while running does nothing.
    public func start() {
        if runningSince == nil { runningSince = clock() }
    }

    /// Same as `start()`.
    public func resume() { start() }

    /// Stops counting training seconds until `resume()`. Calling it while paused does nothing.
    public func pause() {
        if let since = runningSince {
            accumulated += clock() - since
            runningSince = nil
        }
    }

    /// Runs `body` (an evaluation, a checkpoint) with the clock paused, then restores the previous state.
    public func excluding<T>(_ body: () throws -> T) rethrows -> T {
        let wasRunning = isRunning
        pause()
        defer { if wasRunning { resume() } }
        return try body()
    }

    /// Adds `tokens` training tokens (inputs processed by a step: batch size × sequence length).
    public func record(tokens count: Int) { tokens += count }

    public var isRunning: Bool { runningSince != nil }

    /// Seconds counted as training so far.
    public var trainingSeconds: Double {
        accumulated + (runningSince.map { clock() - $0 } ?? 0)
    }

    /// Wall seconds since the budget was created (the `total_seconds` of the summary when the budget
    /// is created at start-up, as `Subject.load()` does).
    public var totalSeconds: Double { clock() - createdAt }

    /// Fraction of the budget used, in [0, 1]: training seconds / time budget, or tokens / token
    /// budget. Learning-rate schedules read this.
    public var progress: Double {
        switch mode {
        case let .time(seconds): return min(1, max(0, trainingSeconds / seconds))
        case let .tokens(budget): return min(1, Double(tokens) / Double(budget))
        }
    }

    /// True once the budget is used up; the trainer stops before its next step.
    public var isExhausted: Bool { progress >= 1 }
}
