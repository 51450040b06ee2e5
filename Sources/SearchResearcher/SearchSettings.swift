import Foundation

/// The knobs that steer the search researcher; a meta-loop may tune them. Decoding fills any missing
/// key with its default, so a settings file need only name what it changes.
public struct SearchSettings: Codable, Sendable, Equatable {
    /// Prior mean reward (0...1) of a hyperparameter move that has never been tried.
    public var hyperparameterPrior: Double
    /// Prior mean reward (0...1) of an idea that has never been tried; a template's ideas are hand-picked,
    /// so by default they start a little more promising than a blind step.
    public var ideaPrior: Double
    /// How many pseudo-trials the priors weigh, against the real trials of the history (> 0).
    public var priorWeight: Double
    /// The UCB exploration constant c (≥ 0): a move scores mean + c·√(2·ln N / n). 1 is UCB1 as in
    /// Auer, Cesa-Bianchi & Fischer (2002); smaller exploits more. The default, 0.3, is lower than
    /// UCB1's because the priors already give untried moves their chance.
    public var exploration: Double
    /// Probability (0...1) of picking an idea rather than a hyperparameter step when both are possible.
    public var ideaProbability: Double
    /// Multiplier (0 < stepSize ≤ 8) on every step's size: reals move by ×/÷ 1.5^stepSize, additive integers by
    /// max(1, round(stepSize)), power-of-two integers by ×/÷ 2^max(1, round(stepSize)).
    public var stepSize: Double
    /// After a keep, repeat the same move (same parameter, same direction) before anything else.
    public var momentum: Bool
    /// Probability (0...1) of combining two recent near-misses when such a pair is available.
    public var combineProbability: Double
    /// A discard is a near-miss when its metric is within this many noise σ of the best (≥ 0). Without a
    /// σ estimate the band is 0.1 % of the best metric per σ.
    public var nearMissSigmas: Double
    /// Rprop-style step adaptation of real hyperparameters (1…8; see `StepAdaptation`): each kept move of a
    /// parameter multiplies its step (in stepSize units) by this, each discard divides it, never below `stepSize`.
    /// 1 turns the adaptation off (every move ×/÷ 1.5^stepSize, as before it existed). The default, 3, beat 2 and 4 on
    /// simulations of the quadratic subject started 1.5, 2.5 and 3.5 decades from its optimum.
    public var stepGrowth: Double
    /// The secant model's trust region (0…64; see `StepAdaptation`): a model-guided jump of a real hyperparameter goes
    /// at most this many adapted steps. 0 turns the model off.
    public var surrogateTrust: Double

    public init(hyperparameterPrior: Double = 0.3, ideaPrior: Double = 0.4, priorWeight: Double = 1,
                exploration: Double = 0.3, ideaProbability: Double = 0.4, stepSize: Double = 1,
                momentum: Bool = true, combineProbability: Double = 0.25, nearMissSigmas: Double = 1,
                stepGrowth: Double = 3, surrogateTrust: Double = 4) {
        self.hyperparameterPrior = hyperparameterPrior; self.ideaPrior = ideaPrior; self.priorWeight = priorWeight
        self.exploration = exploration; self.ideaProbability = ideaProbability; self.stepSize = stepSize
        self.momentum = momentum; self.combineProbability = combineProbability; self.nearMissSigmas = nearMissSigmas
        self.stepGrowth = stepGrowth; self.surrogateTrust = surrogateTrust
    }

    /// The settings the search researcher uses unless told otherwise.
    public static let `default` = SearchSettings()

    /// The settings' names as they appear in JSON settings objects (and so in research programs).
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case hyperparameterPrior, ideaPrior, priorWeight, exploration, ideaProbability, stepSize, momentum,
             combineProbability, nearMissSigmas, stepGrowth, surrogateTrust
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SearchSettings.default
        self.init(
            hyperparameterPrior: try c.decodeIfPresent(Double.self, forKey: .hyperparameterPrior) ?? d.hyperparameterPrior,
            ideaPrior: try c.decodeIfPresent(Double.self, forKey: .ideaPrior) ?? d.ideaPrior,
            priorWeight: try c.decodeIfPresent(Double.self, forKey: .priorWeight) ?? d.priorWeight,
            exploration: try c.decodeIfPresent(Double.self, forKey: .exploration) ?? d.exploration,
            ideaProbability: try c.decodeIfPresent(Double.self, forKey: .ideaProbability) ?? d.ideaProbability,
            stepSize: try c.decodeIfPresent(Double.self, forKey: .stepSize) ?? d.stepSize,
            momentum: try c.decodeIfPresent(Bool.self, forKey: .momentum) ?? d.momentum,
            combineProbability: try c.decodeIfPresent(Double.self, forKey: .combineProbability) ?? d.combineProbability,
            nearMissSigmas: try c.decodeIfPresent(Double.self, forKey: .nearMissSigmas) ?? d.nearMissSigmas,
            stepGrowth: try c.decodeIfPresent(Double.self, forKey: .stepGrowth) ?? d.stepGrowth,
            surrogateTrust: try c.decodeIfPresent(Double.self, forKey: .surrogateTrust) ?? d.surrogateTrust)
    }

    /// Checks every setting's range.
    /// - Throws: `SearchError.invalidSettings` naming the first setting out of range.
    public func validate() throws {
        func unit(_ v: Double, _ name: String) throws {
            guard v.isFinite, (0...1).contains(v) else { throw SearchError.invalidSettings("\(name) is \(v); it must be between 0 and 1") }
        }
        try unit(hyperparameterPrior, "hyperparameterPrior")
        try unit(ideaPrior, "ideaPrior")
        try unit(ideaProbability, "ideaProbability")
        try unit(combineProbability, "combineProbability")
        guard priorWeight.isFinite, priorWeight > 0 else { throw SearchError.invalidSettings("priorWeight is \(priorWeight); it must be above 0") }
        guard exploration.isFinite, exploration >= 0 else { throw SearchError.invalidSettings("exploration is \(exploration); it must be 0 or more") }
        guard stepSize.isFinite, stepSize > 0, stepSize <= 8 else {
            throw SearchError.invalidSettings("stepSize is \(stepSize); it must be above 0 and at most 8")
        }
        guard stepGrowth.isFinite, (1...8).contains(stepGrowth) else {
            throw SearchError.invalidSettings("stepGrowth is \(stepGrowth); it must be between 1 and 8")
        }
        guard surrogateTrust.isFinite, (0...64).contains(surrogateTrust) else {
            throw SearchError.invalidSettings("surrogateTrust is \(surrogateTrust); it must be between 0 and 64")
        }
        guard nearMissSigmas.isFinite, nearMissSigmas >= 0 else { throw SearchError.invalidSettings("nearMissSigmas is \(nearMissSigmas); it must be 0 or more") }
    }
}
