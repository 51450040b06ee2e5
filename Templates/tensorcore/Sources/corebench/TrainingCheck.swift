// TrainingCheck.swift — fixed. A short fixed training run whose loss curve must match the reference.
import Foundation
import TensorCore

/// The losses of 20 AdamW steps of `GPTConfig.gate` on `SyntheticBatches(seed: 11)` with 2 threads, measured with the
/// shipped tensor core (release build). A candidate matches when every step's loss is within a relative 1e-3 of
/// these: float summation order (chunk sizes, thread splits, debug vs release builds) moves them by far less
/// (about 1e-6), a wrong gradient or a skipped piece of work by far more.
let referenceLosses: [Float] = [
    0,
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
