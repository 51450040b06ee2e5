// TrainingCheck.swift — fixed. A short fixed training run whose loss curve must match the reference.
import Foundation
import TensorCore

/// The losses of 20 AdamW steps of `GPTConfig.gate` on `SyntheticBatches(seed: 11)` with 2 threads, measured with the
/// shipped tensor core (release build). A candidate matches when every step's loss is within a relative 1e-3 of
/// these: float summation order (chunk sizes, thread splits, debug vs release builds) moves them by far less
/// (about 1e-6), a wrong gradient or a skipped piece of work by far more.
let referenceLosses: [Float] = [
    4.219507, 3.765361, 3.453571, 3.181767, 2.804836, 2.635908, 3.056244, 2.944351, 2.283113, 2.315856,
    2.375845, 1.984813, 1.878449, 1.769621, 1.483992, 1.282721, 1.336151, 1.063955, 1.064833, 1.227477,
]
let lossTolerance: Float = 1e-3

extension Gate {
    mutating func runTrainingCheck() {
        check("training run matches the reference loss curve (relative 1e-3)") {
            let model = GPT(.gate)
            var batches = SyntheticBatches(.gate, seed: 11)
            var losses: [Float] = []
            for _ in 0..<20 { let (x, y) = batches.next(); losses.append(model.step(x, y)) }
            if ProcessInfo.processInfo.environment["COREBENCH_PRINT_LOSSES"] == "1" {
                print("losses: " + losses.map { String(format: "%.6f", $0) }.joined(separator: ", "))
            }
            guard losses.count == referenceLosses.count else {
                throw CheckFailure(detail: "\(losses.count) losses, the reference has \(referenceLosses.count)")
            }
            for (i, (l, r)) in zip(losses, referenceLosses).enumerated() where !(abs(l - r) <= lossTolerance * abs(r)) {
                throw CheckFailure(detail: "step \(i + 1): loss \(l), reference \(r)")
            }
        }
    }
}
