import SubjectKit
import AutoResearchCore
import Foundation

/// The built-in researcher: needs no LLM. It steps the hyperparameters of the editable files' blocks
/// (see `HyperparameterBlock`, `MoveGenerator`), applies the template's ideas (see `Idea`), and learns
/// which moves pay off.
///
/// Real hyperparameters step by their own adapted step sizes, and a secant model of each one's past moves proposes
/// jumps toward its optimum (see `StepAdaptation`: Rprop-style growth while a direction keeps paying, a quadratic fit
/// trusted only when significant against the noise σ). Each proposal, in order of precedence:
/// 1. Momentum: after a kept hyperparameter step, the model's jump for that parameter when it predicts a gain of at
///    least the keep margin; else, when the parameter has no significant model, the same step again (same parameter,
///    same direction, the step grown by `stepGrowth`).
/// 2. The model's jump with the largest predicted gain, when one reaches the keep margin.
/// 3. With probability `combineProbability`: two recent near-misses (discards within
///    `nearMissSigmas` noise σ of the best, on different parameters or ideas) applied together.
/// 4. A bandit over moves (`hp:<NAME>:<direction>`, `idea:<name>`): an idea with probability
///    `ideaProbability` (when one applies), else a hyperparameter step; within the family the move
///    with the highest UCB score mean + c·√(2·ln N / n) (UCB1, Auer, Cesa-Bianchi & Fischer 2002,
///    "Finite-time analysis of the multiarmed bandit problem"), where the mean and n include
///    `priorWeight` pseudo-trials at the family's prior, so untried moves are not forced first;
///    the steps of parameters the model calls settled (a significant model, no jump worth a keep) come last.
///    Rewards come from `ResearchContext.history` and from the policy file of earlier sessions
///    (see `SearchPolicy.reward(of:previousBest:noiseSigma:)`).
/// A move whose best step was already tried falls back to a bigger, then a smaller step; a proposal
/// whose resulting editable files hash (`filesHash`) is in `triedFilesHashes` is never made. Each
/// idea is tried at most once per history on its own. Deterministic for a given seed, context and
/// policy file as loaded at init.
public final class SearchResearcher: Researcher {
    /// Recorded in the ledger as the experiments' researcher: "search".
    public let name = "search"
    /// The template's ideas.
    public let ideas: [Idea]
    /// The knobs of the policy (see `SearchSettings`).
    public let settings: SearchSettings
    /// Where the learned statistics are read at init and written after each proposal; nil to keep none.
    public let policyFile: URL?
    /// Mixed with `ResearchContext.seed` and the history's length into each proposal's random choices.
    public let seed: UInt64
    /// What earlier sessions learned, as read from `policyFile` at init.
    public let learned: SearchPolicy
    /// True for a metric where higher is better (a tensorcore workspace's tokens_per_second): the researcher then
    /// reads every metric negated, so its rewards, near-misses and secant models, written for a loss, point the right way.
    public let maximize: Bool
    /// The metric's name, for the words of the hypotheses ("should raise speedup").
    public let metric: String
    var goal: Goal { Goal(metric: metric, maximize: maximize) }

    /// - Throws: `SearchError.invalidSettings` for settings out of range, `SearchError.unreadablePolicy`
    ///   when `policyFile` exists but is not a policy file. A missing policy file is fine.
    public init(ideas: [Idea], settings: SearchSettings = .default, policyFile: URL?, seed: UInt64, maximize: Bool = false,
                metric: String = "val_bpb") throws {
        try settings.validate()
        self.ideas = ideas; self.settings = settings; self.policyFile = policyFile; self.seed = seed; self.maximize = maximize
        self.metric = metric
        self.learned = try policyFile.map { try SearchPolicy.load(from: $0) } ?? SearchPolicy()
    }

    /// The fingerprint of a set of files, the one the harness records in `triedFilesHashes`: SHA-256
    /// (hex) over each path, a NUL, its content and a NUL, in sorted path order
    /// (`AutoResearchCore.filesFingerprint`).
    public static func filesHash(_ files: [String: String]) -> String {
        filesFingerprint(files)
    }

    /// Proposes one change: the full new contents of the changed editable files, a one-line
    /// description ("LEARNING_RATE 0.002 → 0.003", "idea: …", "combine: A + B"), a hypothesis and the
    /// move key. Saves the merged statistics to `policyFile` first (a write failure is ignored: the
    /// proposal matters more than the bookkeeping).
    /// - Throws: see `proposeNow(_:)`.
    public func propose(_ context: ResearchContext) async throws -> Proposal {
        try proposeNow(context)
    }

    /// `propose(_:)` without the `async`.
    /// - Throws: `ResearcherError.failed` when an editable file cannot be read or has a bad annotation;
    ///   `ResearcherError.nothingLeftToTry` when every move is exhausted.
    public func proposeNow(_ context: ResearchContext) throws -> Proposal {
        let context = maximize ? context.negatingMetrics() : context
        let adaptation = StepAdaptation(history: context.history, noiseSigma: context.noiseSigma)
        var snapshot = try Snapshot(context: context, settings: settings, adaptation: adaptation)
        snapshot.goal = goal
        let policy = learned.merging(context.history, noiseSigma: context.noiseSigma)
        if let policyFile { try? policy.save(to: policyFile) }
        var rng = SplitMix64(seed: seed ^ (context.seed &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(context.history.count) &* 0xD1B5_4A32_D192_ED03))
        let finished = context.history.filter { [.keep, .discard, .crash].contains($0.status) && $0.move != nil }
        let triedKeys = Set(finished.compactMap(\.move))

        // The secant model's jumps worth a keep: a predicted gain of at least the keep margin (else 2.74 σ, the margin
        // of 2 runs against 3 at z = 3).
        let margin = context.keepMargin ?? context.noiseSigma.map { 2.74 * $0 } ?? 0
        let jumps = snapshot.jumps(adaptation, settings: settings).filter { $0.gain >= margin && $0.gain > 0 }
        // 1. Momentum: the model's jump for the parameter when it has one, else the same step again (grown).
        if settings.momentum, let last = finished.last, last.status == .keep, let key = last.move, key.hasPrefix("hp:") {
            let name = String(key.split(separator: ":").dropFirst().first ?? "")
            if let jump = jumps.first(where: { $0.parameter == name }) {
                return jump.candidate.proposal(hypothesisPrefix: "The last step of \(key) was kept. ")
            }
            if !adaptation.isModelled(name, settings: settings), let candidate = snapshot.hyperparameterCandidate(key) {
                return candidate.proposal(hypothesisPrefix: "The last step of \(key) was kept, so the same direction again: ")
            }
        }
        // 1b. The secant model's most promising jump.
        if let jump = jumps.first { return jump.candidate.proposal() }
        // 2. Near-miss combinations.
        let combinationDraw = rng.unit()
        if combinationDraw < settings.combineProbability, let candidate = combination(snapshot, context, triedKeys) {
            return candidate.proposal()
        }
        // 3. The bandit.
        let hpKeys = snapshot.hyperparameterKeys
        let ideaKeys = ideas.filter { !triedKeys.contains($0.key) }.map(\.key)
        let total = Double(policy.totalTrials)
        func ranked(_ keys: [String], prior: Double) -> [String] {
            keys.map { key -> (String, Double) in
                let arm = policy.moves[key] ?? SearchPolicy.Arm()
                let n = Double(arm.trials) + settings.priorWeight
                let mean = (arm.reward + settings.priorWeight * prior) / n
                let bonus = settings.exploration * (2 * log(total + 1) / n).squareRoot()
                return (key, mean + bonus + rng.unit() * 1e-9)
            }
            .sorted { $0.1 > $1.1 }
            .map(\.0)
        }
        // Parameters whose model says they are at their optimum (no jump worth a keep) come after the others.
        let settled = Set(snapshot.blocks.flatMap { $0.block.parameters.map(\.name) }.filter { name in
            adaptation.isModelled(name, settings: settings) && !jumps.contains { $0.parameter == name }
        })
        func parameter(_ key: String) -> String { String(key.split(separator: ":").dropFirst().first ?? "") }
        let hpByScore = ranked(hpKeys, prior: settings.hyperparameterPrior)
        let hpRanking = hpByScore.filter { !settled.contains(parameter($0)) } + hpByScore.filter { settled.contains(parameter($0)) }
        let ideaRanking = ranked(ideaKeys, prior: settings.ideaPrior)
        let ideasFirst = rng.unit() < settings.ideaProbability
        let families = ideasFirst ? [(ideaRanking, true), (hpRanking, false)] : [(hpRanking, false), (ideaRanking, true)]
        for (ranking, isIdea) in families {
            for key in ranking {
                let candidate = isIdea ? ideas.first { $0.key == key }.flatMap(snapshot.ideaCandidate)
                                       : snapshot.hyperparameterCandidate(key)
                if let candidate { return candidate.proposal() }
            }
        }
        if let candidate = combination(snapshot, context, triedKeys) { return candidate.proposal() }
        if snapshot.blocks.isEmpty && ideas.isEmpty {
            throw ResearcherError.nothingLeftToTry("no editable file has a hyperparameter block and the template has no ideas")
        }
        throw ResearcherError.nothingLeftToTry(
            "every hyperparameter step from the current best was already tried and no untried idea applies; widen the ranges or add ideas")
    }

    /// Two recent near-miss discards on different targets, applied together, if such a pair gives files
    /// not tried yet.
    private func combination(_ snapshot: Snapshot, _ context: ResearchContext, _ triedKeys: Set<String>) -> Candidate? {
        let bests = context.history.filter { $0.status == .keep || $0.status == .baseline }.compactMap(\.metric)
        guard let best = context.bestMetric ?? bests.min() else { return nil }
        let sigma = context.noiseSigma.flatMap { $0 > 0 ? $0 : nil } ?? 0.001 * abs(best)
        let band = settings.nearMissSigmas * sigma
        var keys: [String] = []
        for outcome in context.history.reversed() where outcome.status == .discard {
            guard let key = outcome.move, key.hasPrefix("hp:") || key.hasPrefix("idea:"),
                  let metric = outcome.metric, metric - best <= band, !keys.contains(key) else { continue }
            keys.append(key)
            if keys.count == 6 { break }
        }
        func target(_ key: String) -> String {
            key.hasPrefix("hp:") ? String(key.split(separator: ":").dropFirst().first ?? "") : key
        }
        for i in keys.indices {
            for j in keys.indices where j > i && target(keys[i]) != target(keys[j]) {
                let key = "combine:" + [keys[i], keys[j]].sorted().joined(separator: "+")
                guard !triedKeys.contains(key), let first = apply(keys[i], to: snapshot.files, settings: settings) else { continue }
                let after = snapshot.files.merging(first.files) { $1 }
                guard let second = apply(keys[j], to: after, settings: settings) else { continue }
                let changes = first.files.merging(second.files) { $1 }
                guard snapshot.isFresh(changes) else { continue }
                return Candidate(files: changes, description: "combine: \(first.description) + \(second.description)",
                                 hypothesis: "Both came within the noise band of the best on their own; together their small gains may add up to a real improvement.",
                                 key: key)
            }
        }
        return nil
    }

    /// The usual step of move `key` (hyperparameter or idea) applied to `files`, if it applies.
    private func apply(_ key: String, to files: [String: String], settings: SearchSettings) -> Candidate? {
        if key.hasPrefix("idea:") {
            guard let idea = ideas.first(where: { $0.key == key }), case .applied(let changes) = idea.apply(to: files),
                  !changes.isEmpty else { return nil }
            return Candidate(files: changes, description: "idea: \(idea.description)", hypothesis: idea.hypothesis, key: key)
        }
        var snapshot = Snapshot(files: files, paths: files.keys.sorted(), tried: [], settings: settings)
        snapshot.goal = goal
        return snapshot.hyperparameterCandidates(key).first
    }
}

/// A proposal before it becomes one: the changed files and how to describe them.
struct Candidate {
    var files: [String: String]
    var description: String
    var hypothesis: String
    var key: String

    func proposal(hypothesisPrefix: String = "") -> Proposal {
        Proposal(files: files, description: description, hypothesis: hypothesisPrefix + hypothesis, move: key)
    }
}

/// The editable files at the current best, their blocks, and the moves they allow.
struct Snapshot {
    let files: [String: String]
    let paths: [String]
    let tried: Set<String>
    let blocks: [(path: String, block: HyperparameterBlock)]
    /// Hyperparameter moves grouped by key, keys in file and parameter order.
    let hyperparameterKeys: [String]
    private let moves: [String: [(path: String, block: HyperparameterBlock, move: HyperparameterMove)]]
    /// The metric and its direction, for the hypotheses' words.
    var goal = Goal.valBPB

    init(context: ResearchContext, settings: SearchSettings, adaptation: StepAdaptation? = nil) throws {
        var files: [String: String] = [:]
        for path in context.editableFiles {
            let url = context.worktree.appendingPathComponent(path)
            do { files[path] = try String(contentsOf: url, encoding: .utf8) } catch {
                throw ResearcherError.failed("cannot read the editable file \(path) in \(context.worktree.path): \(error.localizedDescription)")
            }
        }
        do {
            try self.init(parsing: files, paths: context.editableFiles, tried: context.triedFilesHashes, settings: settings,
                          adaptation: adaptation)
        } catch let error as SearchError {
            throw ResearcherError.failed(error.description)
        }
    }

    /// Like `init(parsing:…)`, skipping files whose block cannot be parsed.
    init(files: [String: String], paths: [String], tried: Set<String>, settings: SearchSettings) {
        // Only `invalidAnnotation` can throw here, and the files were parsed before; fall back to no blocks.
        self = (try? Snapshot(parsing: files, paths: paths, tried: tried, settings: settings))
            ?? Snapshot(files: files, paths: paths, tried: tried, blocks: [], settings: settings)
    }

    private init(parsing files: [String: String], paths: [String], tried: Set<String>, settings: SearchSettings,
                 adaptation: StepAdaptation? = nil) throws {
        var blocks: [(path: String, block: HyperparameterBlock)] = []
        for path in paths {
            guard let source = files[path] else { continue }
            do { blocks.append((path, try HyperparameterBlock.parse(source, path: path))) } catch SearchError.noHyperparameterBlock {
                continue
            }
        }
        self.init(files: files, paths: paths, tried: tried, blocks: blocks, settings: settings, adaptation: adaptation)
    }

    private init(files: [String: String], paths: [String], tried: Set<String>,
                 blocks: [(path: String, block: HyperparameterBlock)], settings: SearchSettings, adaptation: StepAdaptation? = nil) {
        self.files = files; self.paths = paths; self.tried = tried; self.blocks = blocks
        var keys: [String] = []
        var moves: [String: [(path: String, block: HyperparameterBlock, move: HyperparameterMove)]] = [:]
        var owned: Set<String> = []
        for (path, block) in blocks {
            for parameter in block.parameters where owned.insert(parameter.name).inserted {
                var own = settings
                if let adaptation, case .double(let v) = parameter.value, parameter.choices == nil {
                    own.stepSize = adaptation.step(of: parameter.name, current: v, range: parameter.range, settings: settings)
                }
                for move in MoveGenerator.moves(for: parameter, in: block, settings: own) {
                    if moves[move.key] == nil { keys.append(move.key) }
                    moves[move.key, default: []].append((path, block, move))
                }
            }
        }
        self.hyperparameterKeys = keys
        self.moves = moves
    }

    /// True when `changes` alter the files and the result (or the changed files alone) was never tried.
    func isFresh(_ changes: [String: String]) -> Bool {
        guard changes.contains(where: { files[$0.key] != $0.value }) else { return false }
        let state = files.merging(changes) { $1 }
        return !tried.contains(SearchResearcher.filesHash(state)) && !tried.contains(SearchResearcher.filesHash(changes))
    }

    /// Every step of move `key`, in order of preference, without the freshness check.
    func hyperparameterCandidates(_ key: String) -> [Candidate] {
        (moves[key] ?? []).compactMap { path, block, move in
            guard let source = files[path], let parameter = block.parameter(named: move.parameter) else { return nil }
            let updated = block.replacing(move.parameter, with: move.to, in: source)
            guard updated != source else { return nil }
            let from = Self.shown(parameter.literal(for: move.from)), to = Self.shown(parameter.literal(for: move.to))
            return Candidate(files: [path: updated], description: "\(move.parameter) \(from) → \(to)",
                             hypothesis: Hypotheses.forMove(move, from: from, to: to, goal: goal), key: key)
        }
    }

    /// The first step of move `key` that gives files not tried yet.
    func hyperparameterCandidate(_ key: String) -> Candidate? {
        hyperparameterCandidates(key).first { isFresh($0.files) }
    }

    /// The secant model's jumps (see `StepAdaptation`) of the real parameters that give files not tried yet, with their
    /// predicted gains, largest gain first.
    func jumps(_ adaptation: StepAdaptation, settings: SearchSettings) -> [(parameter: String, gain: Double, candidate: Candidate)] {
        var owned: Set<String> = []
        var out: [(parameter: String, gain: Double, candidate: Candidate)] = []
        for (path, block) in blocks {
            for parameter in block.parameters where owned.insert(parameter.name).inserted {
                guard !MoveGenerator.frozen.contains(parameter.name), parameter.choices == nil, case .double(let v) = parameter.value,
                      let jump = adaptation.jump(of: parameter.name, current: v, range: parameter.range, settings: settings),
                      let source = files[path] else { continue }
                let updated = block.replacing(parameter.name, with: .double(jump.to), in: source)
                guard updated != source, isFresh([path: updated]) else { continue }
                let move = HyperparameterMove(parameter: parameter.name, direction: jump.to > v ? "up" : "down", from: .double(v), to: .double(jump.to))
                let from = Self.shown(parameter.literal(for: move.from)), to = Self.shown(parameter.literal(for: move.to))
                let hypothesis = "A quadratic fit to \(parameter.name)'s past moves puts its optimum toward \(to) and predicts \(goal.metric) "
                    + String(format: "%.4g", jump.gain) + (goal.maximize ? " higher." : " lower.")
                out.append((parameter.name, jump.gain, Candidate(files: [path: updated], description: "\(parameter.name) \(from) → \(to)",
                                                                  hypothesis: hypothesis, key: move.key)))
            }
        }
        return out.sorted { $0.gain > $1.gain }
    }

    /// `idea` applied to the files, if it applies and gives files not tried yet.
    func ideaCandidate(_ idea: Idea) -> Candidate? {
        guard case .applied(let changes) = idea.apply(to: files), isFresh(changes) else { return nil }
        let hypothesis = idea.hypothesis.isEmpty ? "\(idea.description) should \(goal.better)." : idea.hypothesis
        return Candidate(files: changes, description: "idea: \(idea.description)", hypothesis: hypothesis, key: idea.key)
    }

    private static func shown(_ literal: String) -> String {
        if literal.count >= 2, let q = literal.first, q == "\"" || q == "'", literal.last == q {
            return String(literal.dropFirst().dropLast())
        }
        return literal
    }
}

extension ResearchContext {
    /// The context with every metric (the history's and the best's) negated: a higher-is-better metric as a loss.
    /// The noise σ and the keep margin are magnitudes and stay as they are.
    func negatingMetrics() -> ResearchContext {
        var negated = self
        negated.history = history.map { outcome in var o = outcome; o.metric = o.metric.map { -$0 }; return o }
        negated.bestMetric = bestMetric.map { -$0 }
        return negated
    }
}
