import AutoResearchCore
import Foundation

/// The meta-loop's settings (`[meta]` in autoresearch.toml, or `run --meta --window N`). Not part of the evaluation,
/// so not in the tag's hash.
public struct MetaSettings: Sendable, Equatable {
    /// Experiments per arm in one window (the candidate program's and the control's each).
    public var window = 10
    /// A challenger is kept after at least this many windows (and at least 2), when a one-sided t-test says its mean score is above 0.
    public var minWindows = 2
    /// A challenger not kept after this many windows is retired.
    public var maxWindows = 4
    /// How many challengers are judged at once; below it the meta-researcher proposes a new one.
    public var population = 2
    /// UCB exploration constant c: a live challenger is chosen by mean score + c·√(2·ln N / n).
    public var exploration = 0.5
    /// Who proposes programs: "mutation" (offline: mutates the search researcher's settings), "anthropic" or "openai"
    /// (an LLM rewrites program.md, with the `[researcher]` table's model, URL and limits); nil = "mutation" when
    /// every researcher is the search researcher, else the researchers' LLM kind.
    public var researcher: String?

    public init(window: Int = 10, minWindows: Int = 2, maxWindows: Int = 4, population: Int = 2, exploration: Double = 0.5,
                researcher: String? = nil) {
        self.window = window; self.minWindows = minWindows; self.maxWindows = maxWindows; self.population = population
        self.exploration = exploration; self.researcher = researcher
    }

    /// The meta-researcher kinds.
    public static let researchers = ["mutation", "anthropic", "openai"]

    /// - Throws: `HarnessError.manifestKey` naming the first bad setting.
    public func validate() throws {
        guard window >= 1 else { throw HarnessError.manifestKey(key: "meta.window", problem: "must be at least 1 experiment per arm.") }
        guard minWindows >= 1 else { throw HarnessError.manifestKey(key: "meta.min_windows", problem: "must be at least 1.") }
        guard maxWindows >= minWindows else {
            throw HarnessError.manifestKey(key: "meta.max_windows", problem: "is \(maxWindows), below min_windows (\(minWindows)).")
        }
        guard population >= 1 else { throw HarnessError.manifestKey(key: "meta.population", problem: "must be at least 1.") }
        guard exploration.isFinite, exploration >= 0 else { throw HarnessError.manifestKey(key: "meta.exploration", problem: "must be 0 or more.") }
        if let researcher, !Self.researchers.contains(researcher) {
            throw HarnessError.manifestKey(key: "meta.researcher", problem: "is '\(researcher)'; use one of \(Self.researchers.joined(separator: ", ")).")
        }
    }
}

extension MetaSettings {
    /// The `[meta]` table's keys (`ManifestSchema`); `validate` checks them together.
    static var keys: [ManifestKey<MetaSettings>] {
        [.int("window", \.window, "The meta-loop (run --meta): programs are judged in windows of this many experiments per arm against a control."),
         .int("min_windows", \.minWindows, "A challenger is kept after at least this many windows, when a one-sided t-test says its mean score is above 0."),
         .int("max_windows", \.maxWindows, "A challenger not kept after this many windows is retired."),
         .int("population", \.population, "How many challengers are judged at once."),
         .number("exploration", \.exploration, "UCB exploration constant c: a live challenger is chosen by mean score + c·√(2·ln N / n)."),
         .optionalString("researcher", \.researcher, "Who proposes programs: \"mutation\", \"anthropic\" or \"openai\"; absent: from the researchers.")]
    }
}
