import AutoResearchCore
import Foundation
import SubjectKit

/// The offline meta-researcher: proposes a new program from the parent's search settings (the program's text is
/// kept), in one of two ways, using the archive (`ProgramContext.programs`):
/// - a *pattern move* (Hooke & Jeeves 1961, "Direct search solution of numerical and statistical problems"): when
///   the parent was kept over its own parent, half the time the same change is made again (step size 1 → 1.5 kept:
///   propose 2.25), so a direction that paid off is followed further;
/// - else a *mutation*: one or two knobs change, drawn by weight (step size 3, exploration 2, the others 1, the two
///   idea knobs ½ each: the knobs that change how far and how often the search moves come first): step size,
///   exploration, prior weight, step growth and surrogate trust multiplicatively (× e^{N(0, 0.6²)}), the probabilities
///   and priors additively
///   (+ N(0, 0.15²)), momentum flips, all clamped to their valid ranges — the Gaussian mutation of evolution
///   strategies (Beyer & Schwefel 2002, "Evolution strategies: a comprehensive introduction"). A knob that a retired
///   sibling (same parent, mean score ≤ 0) moved one way is moved the other way.
/// A proposal never repeats the settings of a program already in the archive (it is drawn again, up to 20 times).
/// Deterministic for a given `ProgramContext.seed`, parent and archive.
public struct SettingsMutator: ProgramResearcher {
    public let name = "mutation"

    public init() {}

    /// - Throws: `ResearcherError.failed` when the parent's settings are not search settings.
    public func proposeProgram(_ context: ProgramContext) async throws -> ProgramProposal {
        let parent: SearchSettings
        do {
            parent = try JSONDecoder().decode(SearchSettings.self, from: Data(context.parent.settings.utf8))
        } catch {
            throw ResearcherError.failed("the parent program's settings are not search settings: \(error)")
        }
        var rng = SplitMix64(seed: context.seed ^ (UInt64(context.parentNumber) &* 0x9E37_79B9_7F4A_7C15))
        func settings(_ json: String) -> SearchSettings? { try? JSONDecoder().decode(SearchSettings.self, from: Data(json.utf8)) }
        let archived = context.programs.compactMap { settings($0.settings) }
        func proposal(_ child: SearchSettings, _ description: String, _ hypothesis: String) throws -> ProgramProposal {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return ProgramProposal(draft: ProgramDraft(text: context.parent.text, settings: String(decoding: try encoder.encode(child), as: UTF8.self)),
                                   description: description, hypothesis: hypothesis)
        }

        // A pattern move when the parent was kept over its own parent.
        let me = context.programs.first { $0.number == context.parentNumber }
        if let me, me.status == "kept", let grandparentNumber = me.parent,
           let grandparent = context.programs.first(where: { $0.number == grandparentNumber }).flatMap({ settings($0.settings) }),
           rng.unit() < 0.5 {
            var child = parent
            var changes: [String] = []
            for knob in Knob.allCases where knob.shown(grandparent) != knob.shown(parent) {
                knob.extrapolate(from: grandparent, to: parent, into: &child)
                if knob.shown(child) != knob.shown(parent) { changes.append("\(knob.rawValue) \(knob.shown(parent)) → \(knob.shown(child))") }
            }
            if !changes.isEmpty, child != parent, !archived.contains(child) {
                return try proposal(child, "pattern move: " + changes.joined(separator: ", "),
                                    "Program \(context.parentNumber) made this change to program \(grandparentNumber) and was kept; more of it may help again.")
            }
        }

        let failed = failedDirections(context, parent: parent, settings: settings)
        var last = mutation(of: parent, avoiding: failed, &rng)
        for _ in 1..<20 where archived.contains(last.child) { last = mutation(of: parent, avoiding: failed, &rng) }
        return try proposal(last.child, last.changes.joined(separator: ", "), last.reasons.joined(separator: " "))
    }

    /// The directions retired siblings (same parent, mean score ≤ 0) moved each knob in: knob → went up.
    func failedDirections(_ context: ProgramContext, parent: SearchSettings, settings: (String) -> SearchSettings?) -> [Knob: Bool] {
        var failed: [Knob: Bool] = [:]
        for sibling in context.programs where sibling.parent == context.parentNumber && sibling.status == "retired"
            && !sibling.scores.isEmpty && sibling.scores.reduce(0, +) <= 0 {
            guard let s = settings(sibling.settings) else { continue }
            for knob in Knob.allCases where knob != .momentum && knob.shown(s) != knob.shown(parent) {
                failed[knob] = (Double(knob.shown(s)) ?? 0) > (Double(knob.shown(parent)) ?? 0)
            }
        }
        return failed
    }

    /// One Gaussian mutation of one or two knobs of `parent` (a knob in `failed` only the other way), with what
    /// changed and why.
    func mutation(of parent: SearchSettings, avoiding failed: [Knob: Bool], _ rng: inout SplitMix64)
        -> (child: SearchSettings, changes: [String], reasons: [String]) {
        var child = parent
        var changes: [String] = []
        var reasons: [String] = []
        let count = rng.unit() < 0.5 ? 1 : 2
        var picked: [Knob] = []
        while picked.count < count {
            let knob = Knob.draw(&rng)
            if !picked.contains(knob) { picked.append(knob) }
        }
        for knob in picked {
            let before = knob.shown(child)
            knob.mutate(&child, &rng, avoidingUp: failed[knob])
            let after = knob.shown(child)
            if before != after {
                changes.append("\(knob.rawValue) \(before) → \(after)")
                reasons.append(knob.hypothesis(up: (Double(after) ?? 0) > (Double(before) ?? 0)))
            }
        }
        if changes.isEmpty {  // every draw clamped back to the same value: take a fixed step instead
            child.stepSize = min(8, parent.stepSize * 1.5)
            changes.append("stepSize \(Knob.stepSize.shown(parent)) → \(Knob.stepSize.shown(child))")
            reasons.append(Knob.stepSize.hypothesis(up: true))
        }
        return (child, changes, reasons)
    }

    /// The settings a mutation may change.
    enum Knob: String, CaseIterable {
        case stepSize, exploration, priorWeight, hyperparameterPrior, ideaPrior, ideaProbability, combineProbability, momentum,
             stepGrowth, surrogateTrust

        /// How often each knob is drawn, relative to the others.
        var weight: Double {
            switch self {
            case .stepSize: return 3
            case .exploration: return 2
            case .ideaPrior, .ideaProbability: return 0.5
            default: return 1
            }
        }

        static func draw(_ rng: inout SplitMix64) -> Knob {
            var x = rng.unit() * allCases.reduce(0) { $0 + $1.weight }
            for knob in allCases {
                x -= knob.weight
                if x < 0 { return knob }
            }
            return .stepSize
        }

        func shown(_ s: SearchSettings) -> String {
            switch self {
            case .stepSize: return Self.round(s.stepSize)
            case .exploration: return Self.round(s.exploration)
            case .priorWeight: return Self.round(s.priorWeight)
            case .hyperparameterPrior: return Self.round(s.hyperparameterPrior)
            case .ideaPrior: return Self.round(s.ideaPrior)
            case .ideaProbability: return Self.round(s.ideaProbability)
            case .combineProbability: return Self.round(s.combineProbability)
            case .momentum: return s.momentum ? "on" : "off"
            case .stepGrowth: return Self.round(s.stepGrowth)
            case .surrogateTrust: return Self.round(s.surrogateTrust)
            }
        }

        /// Mutates this knob of `s`; `avoidingUp` true (false): never upwards (downwards), as a retired sibling went.
        func mutate(_ s: inout SearchSettings, _ rng: inout SplitMix64, avoidingUp: Bool? = nil) {
            func draw() -> Double {
                let g = rng.gaussian()
                guard let avoidingUp else { return g }
                return avoidingUp ? -abs(g) : abs(g)
            }
            func scaled(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
                Double(Self.round(min(hi, max(lo, max(v, 0.01) * exp(0.6 * draw())))))!
            }
            func shifted(_ v: Double) -> Double { Double(Self.round(min(1, max(0, v + 0.15 * draw()))))! }
            switch self {
            case .stepSize: s.stepSize = scaled(s.stepSize, 0.25, 8)
            case .exploration: s.exploration = scaled(s.exploration, 0, 3)
            case .priorWeight: s.priorWeight = scaled(s.priorWeight, 0.1, 10)
            case .hyperparameterPrior: s.hyperparameterPrior = shifted(s.hyperparameterPrior)
            case .ideaPrior: s.ideaPrior = shifted(s.ideaPrior)
            case .ideaProbability: s.ideaProbability = shifted(s.ideaProbability)
            case .combineProbability: s.combineProbability = shifted(s.combineProbability)
            case .momentum: s.momentum.toggle()
            case .stepGrowth: s.stepGrowth = scaled(s.stepGrowth, 1, 8)
            case .surrogateTrust: s.surrogateTrust = scaled(s.surrogateTrust, 0, 64)
            }
        }

        /// Sets this knob of `child` to make the change from `from` to `to` once more: × (to / from) for the
        /// multiplicative knobs, + (to − from) for the additive ones, clamped; momentum stays as `to` has it.
        func extrapolate(from: SearchSettings, to: SearchSettings, into child: inout SearchSettings) {
            func scaled(_ a: Double, _ b: Double, _ lo: Double, _ hi: Double) -> Double {
                Double(Self.round(min(hi, max(lo, b * b / max(a, 0.01)))))!
            }
            func shifted(_ a: Double, _ b: Double) -> Double { Double(Self.round(min(1, max(0, 2 * b - a))))! }
            switch self {
            case .stepSize: child.stepSize = scaled(from.stepSize, to.stepSize, 0.25, 8)
            case .exploration: child.exploration = scaled(from.exploration, to.exploration, 0, 3)
            case .priorWeight: child.priorWeight = scaled(from.priorWeight, to.priorWeight, 0.1, 10)
            case .hyperparameterPrior: child.hyperparameterPrior = shifted(from.hyperparameterPrior, to.hyperparameterPrior)
            case .ideaPrior: child.ideaPrior = shifted(from.ideaPrior, to.ideaPrior)
            case .ideaProbability: child.ideaProbability = shifted(from.ideaProbability, to.ideaProbability)
            case .combineProbability: child.combineProbability = shifted(from.combineProbability, to.combineProbability)
            case .momentum: child.momentum = to.momentum
            case .stepGrowth: child.stepGrowth = scaled(from.stepGrowth, to.stepGrowth, 1, 8)
            case .surrogateTrust: child.surrogateTrust = scaled(from.surrogateTrust, to.surrogateTrust, 0, 64)
            }
        }

        func hypothesis(up: Bool) -> String {
            switch self {
            case .stepSize: return up ? "Bigger steps cover the ranges in fewer experiments." : "Smaller steps stop overshooting near the optimum."
            case .exploration: return up ? "More exploration finds moves the priors undervalue." : "Less exploration repeats what already pays off."
            case .priorWeight: return up ? "Heavier priors keep one lucky result from dominating." : "Lighter priors let real results count sooner."
            case .hyperparameterPrior: return up ? "Hyperparameter steps deserve more trust up front." : "Hyperparameter steps deserve less trust up front."
            case .ideaPrior: return up ? "The template's ideas deserve more trust up front." : "The template's ideas deserve less trust up front."
            case .ideaProbability: return up ? "Ideas pay off more than blind steps here." : "Blind steps pay off more than ideas here."
            case .combineProbability: return up ? "Near-misses add up when combined." : "Combining near-misses wastes experiments."
            case .momentum: return "Repeating a kept step is worth testing the other way."
            case .stepGrowth: return up ? "Steps that grow faster along a paying direction cover the ranges sooner." : "Steps that grow slower overshoot less."
            case .surrogateTrust: return up ? "The quadratic model of each parameter deserves longer jumps." : "The quadratic model of each parameter is too noisy for long jumps."
            }
        }

        static func round(_ v: Double) -> String { String(format: "%.3g", v) }
    }
}

extension SplitMix64 {
    /// A standard normal draw (Box–Muller).
    mutating func gaussian() -> Double {
        let u = max(unit(), 1e-12), v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
