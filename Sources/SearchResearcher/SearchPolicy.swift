import AutoResearchCore
import Foundation

/// What the search researcher has learned about its moves: per-move trial counts and rewards,
/// persisted as JSON so the next session starts from them.
///
/// File format (version 1):
/// ```json
/// {
///   "version": 1,
///   "moves": { "hp:LEARNING_RATE:up": { "trials": 4, "reward": 2.6, "keeps": 3 } },
///   "counted": ["<filesHash or commit of each experiment already folded in>"]
/// }
/// ```
/// `counted` makes merging idempotent: an experiment seen again (a resumed session hands the same
/// history again) is not counted twice.
public struct SearchPolicy: Codable, Sendable, Equatable {
    /// The statistics of one move (one bandit arm).
    public struct Arm: Codable, Sendable, Equatable {
        /// How many finished experiments made this move (keep, discard or crash).
        public var trials: Int
        /// The sum of their rewards, each in 0...1 (see `reward(of:previousBest:noiseSigma:)`).
        public var reward: Double
        /// How many of them were kept.
        public var keeps: Int

        public init(trials: Int = 0, reward: Double = 0, keeps: Int = 0) {
            self.trials = trials; self.reward = reward; self.keeps = keeps
        }
    }

    /// The file format version; 1.
    public var version: Int
    /// Statistics by move key (`hp:LEARNING_RATE:up`, `idea:gelu`, `combine:A+B`).
    public var moves: [String: Arm]
    /// Identities of the experiments already folded into `moves`, sorted.
    public var counted: [String]

    public init(moves: [String: Arm] = [:], counted: [String] = []) {
        self.version = 1; self.moves = moves; self.counted = counted
    }

    /// The total number of trials over all moves.
    public var totalTrials: Int { moves.values.reduce(0) { $0 + $1.trials } }

    /// Reads a policy file; a file that does not exist yet gives an empty policy.
    /// - Throws: `SearchError.unreadablePolicy` when the file exists but is not a policy.
    public static func load(from url: URL) throws -> SearchPolicy {
        guard FileManager.default.fileExists(atPath: url.path) else { return SearchPolicy() }
        do {
            let policy = try JSONDecoder().decode(SearchPolicy.self, from: Data(contentsOf: url))
            guard policy.version == 1 else {
                throw SearchError.unreadablePolicy(path: url.path, reason: "version \(policy.version) is not supported; this build reads version 1")
            }
            return policy
        } catch let error as SearchError {
            throw error
        } catch {
            throw SearchError.unreadablePolicy(path: url.path, reason: "\(error)")
        }
    }

    /// Writes the policy as pretty-printed, key-sorted JSON, atomically.
    public func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    /// This policy plus every finished experiment of `history` that carries a move label and has not
    /// been counted yet. Experiments are identified by `filesHash`, else `commit`, else number and
    /// description.
    public func merging(_ history: [ExperimentOutcome], noiseSigma: Double?) -> SearchPolicy {
        var result = self
        var counted = Set(counted)
        var best: Double?
        for outcome in history {
            let previousBest = best
            if outcome.status == .keep || outcome.status == .baseline, let m = outcome.metric {
                best = min(best ?? m, m)
            }
            guard let key = outcome.move, [.keep, .discard, .crash].contains(outcome.status) else { continue }
            let identity = Self.identity(of: outcome)
            guard counted.insert(identity).inserted else { continue }
            var arm = result.moves[key] ?? Arm()
            arm.trials += 1
            arm.reward += Self.reward(of: outcome, previousBest: previousBest, noiseSigma: noiseSigma)
            if outcome.status == .keep { arm.keeps += 1 }
            result.moves[key] = arm
        }
        result.counted = counted.sorted()
        return result
    }

    /// The reward of one finished experiment, in 0...1: 0 for a discard or a crash; for a keep,
    /// 0.5 plus up to 0.5 in proportion to its improvement over the best before it, full at 4 σ of
    /// noise (or, without a σ, at 1 % of the best); 0.75 for a keep whose improvement is unknown.
    public static func reward(of outcome: ExperimentOutcome, previousBest: Double?, noiseSigma: Double?) -> Double {
        guard outcome.status == .keep else { return 0 }
        guard let metric = outcome.metric, let previousBest else { return 0.75 }
        let scale: Double
        if let sigma = noiseSigma, sigma > 0 { scale = 4 * sigma } else { scale = 0.01 * abs(previousBest) }
        guard scale > 0 else { return 0.75 }
        return 0.5 + 0.5 * min(max((previousBest - metric) / scale, 0), 1)
    }

    static func identity(of outcome: ExperimentOutcome) -> String {
        if let hash = outcome.filesHash, !hash.isEmpty { return hash }
        if let commit = outcome.commit, !commit.isEmpty { return "commit:\(commit)" }
        return "#\(outcome.number):\(outcome.description)"
    }
}
