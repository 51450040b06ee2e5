import SubjectKit
import Foundation

/// What the researcher is asked to improve, in the words of its hypotheses: "lower val_bpb", "raise speedup".
struct Goal {
    var metric: String
    var maximize: Bool
    static let valBPB = Goal(metric: "val_bpb", maximize: false)
    /// "lower val_bpb" / "raise speedup".
    var better: String { (maximize ? "raise " : "lower ") + metric }
}

/// One-sentence hypotheses for hyperparameter moves, by what the parameter's name suggests it is.
enum Hypotheses {
    static func forMove(_ move: HyperparameterMove, from: String, to: String, goal: Goal = .valBPB) -> String {
        let name = move.parameter
        let up = move.direction == "up"
        func has(_ parts: String...) -> Bool { parts.contains { name.contains($0) } }
        switch move.direction {
        case "on": return "Turning \(name) on should \(goal.better) if what it enables helps this model."
        case "off": return "Turning \(name) off should \(goal.better) if what it enables costs more than it gives."
        case "up", "down": break
        default: return "\(name) = \(to) may suit this model better than \(from) and \(goal.better)."
        }
        // An engine's tunables (the tensorcore subject): how work is split over threads and blocked for the caches.
        if has("GRAIN", "CHUNKS", "PARALLEL_MIN", "_MIN_MNK") {
            // A grain or a threshold up makes pieces coarser; more chunks per thread make them finer.
            return up != has("CHUNKS") ? "A coarser \(name) (\(to)) hands the threads fewer, larger pieces: fewer hand-offs, which should \(goal.better) if they cost more than the threads' imbalance."
                      : "A finer \(name) (\(to)) hands the threads more, smaller pieces: better balance between them, which should \(goal.better) if that outweighs the extra hand-offs."
        }
        if has("SPIN") {
            return up ? "Idle workers spinning longer (\(name) = \(to)) pick up the next op sooner, which should \(goal.better) if ops follow each other closely enough."
                      : "Idle workers sleeping sooner (\(name) = \(to)) leave the cores to the thread that has work, which should \(goal.better) if the spinning competes with it."
        }
        if has("BLOCK") && !has("BLOCK_SIZE") {
            return up ? "A bigger \(name) (\(to)) makes fewer passes over the data with more in each, which should \(goal.better) if the working set still fits its cache."
                      : "A smaller \(name) (\(to)) keeps each pass's working set in a faster cache, which should \(goal.better) if that outweighs the extra passes."
        }
        if has("DECAY", "DROPOUT", "REG") {
            return up ? "Stronger \(name) (\(to)) should regularise more and generalise better to the validation set."
                      : "Weaker \(name) (\(to)) should let the model fit the data faster within the time budget."
        }
        if has("WARMUP", "WARMDOWN", "COOLDOWN") {
            return up ? "A longer \(name) (\(to)) should avoid instability at that end of the schedule."
                      : "A shorter \(name) (\(to)) should spend more of the time budget at the full learning rate."
        }
        if has("LEARNING_RATE", "RATE") || name == "LR" || name.hasSuffix("_LR") || name.hasPrefix("LR_") {
            return up ? "A higher \(name) (\(to)) should make faster progress within the fixed time budget while training stays stable."
                      : "A lower \(name) (\(to)) should make optimisation more stable and reach a lower loss by the end of the budget."
        }
        if has("BATCH") {
            return up ? "A larger \(name) (\(to)) gives less noisy gradients and better hardware use per step."
                      : "A smaller \(name) (\(to)) gives more optimizer steps within the fixed time budget."
        }
        if has("SEQ", "CONTEXT", "LEN", "BLOCK_SIZE") {
            return up ? "A longer \(name) (\(to)) lets the model use more context per prediction."
                      : "A shorter \(name) (\(to)) makes each step cheaper, so more tokens fit in the time budget."
        }
        if MoveGenerator.isDepth(name) || has("WIDTH", "DIM", "EMBD", "EMBED", "HIDDEN", "HEAD", "MLP", "RATIO") {
            return up ? "A bigger model (\(name) = \(to)) has more capacity, which should \(goal.better) if it still trains enough steps in the time budget."
                      : "A smaller model (\(name) = \(to)) trains more steps within the time budget, which may \(goal.better) more than the lost capacity raises it."
        }
        return (up ? "Raising" : "Lowering") + " \(name) from \(from) to \(to) tests whether \(goal.metric) improves in that direction."
    }
}

extension SplitMix64 {
    /// Uniform in [0, 1) with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
}
