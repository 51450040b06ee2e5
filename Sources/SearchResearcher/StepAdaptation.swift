import AutoResearchCore
import Foundation

/// What the ledger says about the steps of each real hyperparameter, replayed from `ResearchContext.history` on every
/// proposal (so it needs no state of its own and a resumed session continues where it left off):
///
/// - **Step-size adaptation**, Rprop-style (Riedmiller & Braun 1993, "A direct adaptive method for faster
///   backpropagation learning: the RPROP algorithm"): each parameter has its own step s (in units of the stepSize
///   setting: a move is ×/÷ 1.5^s). It starts at `stepSize`; every kept move of the parameter multiplies it by
///   `stepGrowth`, every discarded or crashed one divides it by `stepGrowth`, never below `stepSize` and never above a
///   quarter of the parameter's declared range (in log scale; 2^6 · stepSize without a range). So a direction that keeps
///   paying is followed with steps ×1.5, ×3.4, ×38 (for the default growth 3) instead of 14 steps of ×1.5 to cover 2.5
///   decades, and failures near the optimum bring the step back down.
/// - **A secant model** (the secant method on the derivative, i.e. successive quadratic interpolation, Brent 1973,
///   "Algorithms for minimization without derivatives", ch. 3): each finished move of a parameter from x₀ to x₁ that
///   has a metric gives the difference quotient g = (metric − parent's metric) / (ln x₁ − ln x₀), which for a metric
///   quadratic in ln x is exactly its derivative at the midpoint — whatever the other parameters were at the time, as
///   long as they add to the metric separately. A weighted least-squares line g = α + β·u through the last 6 such
///   quotients (weights (ln x₁ − ln x₀)², since the noise of g scales with 1 / step) is a quadratic surrogate of the
///   metric along that parameter; when it is convex (β > 0) its minimum u* = −α / β is where the next move jumps,
///   at most `surrogateTrust` × the adapted step away (a trust region: a noisy fit costs one bounded move, which then
///   refines the fit). The model's predicted gain, β/2 · ((u − u*)² − (u' − u*)²), ranks the parameters; a jump is
///   only proposed when the gain reaches the keep margin (the noise σ decides), so the search stops pushing a
///   parameter the model says is already at its optimum. The model also caps the adapted step at twice its distance to
///   the optimum.
///
/// Only positive `double` parameters without choices adapt and are modelled; integers, booleans and choices keep their
/// usual steps (`MoveGenerator`).
struct StepAdaptation {
    /// One finished move of one parameter.
    struct Trial: Equatable {
        var from: Double
        var to: Double
        /// The metric minus the metric of the experiment's parent (the best it started from), if both are known.
        var delta: Double?
        var kept: Bool
    }

    /// Where the secant model says a parameter should go next.
    struct Jump: Equatable {
        /// The new value (3 significant digits, inside the range).
        var to: Double
        /// The metric's predicted decrease.
        var gain: Double
    }

    /// The trials of each parameter, oldest first.
    let trials: [String: [Trial]]
    /// The noise σ of one delta (a single run against the best's mean), if known: the model must be significant
    /// against it.
    let noise: Double?

    /// How many of the latest quotients the secant model fits.
    static let window = 6
    private static let unit = log(1.5)

    init(trials: [String: [Trial]], noise: Double? = nil) { self.trials = trials; self.noise = noise }

    /// Collects the single-parameter moves (`hp:<NAME>:<direction>`, described "NAME from → to") of `history` that
    /// finished (keep, discard, crash). The parent's metric is that of the experiment whose commit is the move's
    /// parent commit, else the best kept or baseline metric before it. `noiseSigma` is the σ of one run; a delta's
    /// is taken as σ·√(1 + 1/3) (one run against the mean of three).
    init(history: [ExperimentOutcome], noiseSigma: Double? = nil) {
        var metricOfCommit: [String: Double] = [:]
        var trials: [String: [Trial]] = [:]
        var best: Double?
        for outcome in history {
            let parentMetric = outcome.parentCommit.flatMap { metricOfCommit[$0] } ?? best
            if outcome.status == .keep || outcome.status == .baseline, let m = outcome.metric {
                if let commit = outcome.commit { metricOfCommit[commit] = m }
                best = outcome.status == .baseline ? (best.map { min($0, m) } ?? m) : m
            }
            guard [.keep, .discard, .crash].contains(outcome.status), let key = outcome.move, key.hasPrefix("hp:") else { continue }
            let parts = key.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, let (from, to) = Self.values(in: outcome.description, parameter: String(parts[1])) else { continue }
            var delta: Double?
            if outcome.status != .crash, let m = outcome.metric, let p = parentMetric { delta = m - p }
            trials[String(parts[1]), default: []].append(Trial(from: from, to: to, delta: delta, kept: outcome.status == .keep))
        }
        self.trials = trials
        self.noise = noiseSigma.flatMap { $0 > 0 && $0.isFinite ? $0 * (4.0 / 3).squareRoot() : nil }
    }

    /// The two numbers of a move's description "NAME from → to", if it is one.
    static func values(in description: String, parameter: String) -> (Double, Double)? {
        guard description.hasPrefix(parameter + " ") else { return nil }
        let sides = description.dropFirst(parameter.count + 1).components(separatedBy: " → ")
        guard sides.count == 2 else { return nil }
        func number(_ s: String) -> Double? { Double(s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")) }
        guard let from = number(sides[0]), let to = number(sides[1]), from.isFinite, to.isFinite else { return nil }
        return (from, to)
    }

    /// The largest step (in stepSize units) for a parameter with `range`: a quarter of the range in log scale (a range
    /// from 0 or below counts as three decades below its top), at least `stepSize`; 2^6 · stepSize without a range.
    static func maximumStep(range: ClosedRange<Double>?, settings: SearchSettings) -> Double {
        guard let r = range, r.upperBound > 0, r.upperBound > r.lowerBound else { return settings.stepSize * 64 }
        let low = r.lowerBound > 0 ? r.lowerBound : r.upperBound / 1000
        return max(settings.stepSize, log(r.upperBound / low) / 4 / unit)
    }

    /// The Rprop step (in stepSize units: the next move is ×/÷ 1.5^step) after `trials`: starts at `stepSize`, × growth
    /// per keep, ÷ growth per discard or crash, within `stepSize`…`maximumStep`.
    static func step(after trials: [Trial], range: ClosedRange<Double>?, settings: SearchSettings) -> Double {
        let floor = settings.stepSize, ceiling = maximumStep(range: range, settings: settings)
        var s = floor
        for trial in trials {
            s = trial.kept ? min(ceiling, s * settings.stepGrowth) : max(floor, s / settings.stepGrowth)
        }
        return s
    }

    /// The secant model's fit over the last `window` quotients of `trials`: (α, β) of g = α + β·ln x, if at least two
    /// quotients at different places give a convex fit (β > 0) that is significant against the noise: β above twice
    /// its standard error noise / √Sxx (weighted least squares, weights (ln x₁ − ln x₀)², a delta's noise `noise`).
    static func fit(_ trials: [Trial], noise: Double? = nil) -> (alpha: Double, beta: Double)? {
        var points: [(u: Double, g: Double, w: Double)] = []
        for trial in trials.reversed() where points.count < window {
            guard let delta = trial.delta, trial.from > 0, trial.to > 0 else { continue }
            let h = log(trial.to) - log(trial.from)
            guard h != 0, h.isFinite else { continue }
            points.append(((log(trial.to) + log(trial.from)) / 2, delta / h, h * h))
        }
        guard points.count >= 2 else { return nil }
        let w = points.reduce(0) { $0 + $1.w }
        let mu = points.reduce(0) { $0 + $1.w * $1.u } / w, mg = points.reduce(0) { $0 + $1.w * $1.g } / w
        let sxx = points.reduce(0) { $0 + $1.w * ($1.u - mu) * ($1.u - mu) }
        let sxg = points.reduce(0) { $0 + $1.w * ($1.u - mu) * ($1.g - mg) }
        // Quotients closer together than a fifth of a ×1.5 step say nothing about the curvature.
        guard sxx > w * pow(unit / 5, 2) else { return nil }
        let beta = sxg / sxx
        guard beta > 0, beta.isFinite else { return nil }
        if let noise, beta <= 2 * noise / sxx.squareRoot() { return nil }
        return (mg - beta * mu, beta)
    }

    /// The adapted step of parameter `name` at `current` (in stepSize units), capped at twice the secant model's
    /// distance to its optimum when there is a model (never below `stepSize`).
    func step(of name: String, current: Double, range: ClosedRange<Double>?, settings: SearchSettings) -> Double {
        let history = trials[name] ?? []
        var s = Self.step(after: history, range: range, settings: settings)
        if settings.surrogateTrust > 0, current > 0, let (alpha, beta) = Self.fit(history, noise: noise) {
            let distance = abs(-alpha / beta - log(current)) / Self.unit
            s = max(settings.stepSize, min(s, 2 * distance))
        }
        return s
    }

    /// True when parameter `name` has a significant model (see `fit`).
    func isModelled(_ name: String, settings: SearchSettings) -> Bool {
        settings.surrogateTrust > 0 && Self.fit(trials[name] ?? [], noise: noise) != nil
    }

    /// Where the secant model of parameter `name` says to go from `current`, and the predicted gain; nil without a
    /// convex model, for a non-positive value, or when the jump rounds back to `current`.
    func jump(of name: String, current: Double, range: ClosedRange<Double>?, settings: SearchSettings) -> Jump? {
        guard settings.surrogateTrust > 0, current > 0, let history = trials[name], let (alpha, beta) = Self.fit(history, noise: noise) else { return nil }
        let u = log(current), optimum = -alpha / beta
        let reach = settings.surrogateTrust * Self.step(after: history, range: range, settings: settings) * Self.unit
        var target = u + min(max(optimum - u, -reach), reach)
        if let r = range, r.lowerBound > 0 { target = min(max(target, log(r.lowerBound)), log(r.upperBound)) }
        var value = MoveGenerator.roundSignificant(exp(target))
        if let r = range { value = min(max(value, r.lowerBound), r.upperBound) }
        guard value > 0, value != current, value.isFinite else { return nil }
        let landed = log(value)
        let gain = beta / 2 * ((u - optimum) * (u - optimum) - (landed - optimum) * (landed - optimum))
        return Jump(to: value, gain: gain)
    }
}
