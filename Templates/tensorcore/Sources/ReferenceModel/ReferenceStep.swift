// ReferenceStep.swift — fixed. The benchmark's workload on the reference core: Model.swift beside this file is
// corebench's Model.swift, copied at init with `import TensorCore` renamed `import ReferenceCore` (the source tree's
// core as shipped, compiled as a second module), so corebench can time the same training step on both cores in one
// process.
import ReferenceCore

/// Training steps of the GPT subject's default model on the reference core, with the same synthetic batches as the
/// candidate's (seed 1).
public final class ReferenceStep {
    let model: GPT
    var batches: SyntheticBatches

    /// - Parameter threads: the reference core's thread count (its own worker pool, idle while the candidate runs).
    public init(threads: Int) {
        Parallel.threads = threads
        model = GPT(.subjectDefault)
        batches = SyntheticBatches(.subjectDefault, seed: 1)
    }

    /// One optimiser step on the next batch; returns its loss before the step.
    public func step() -> Float {
        let (x, y) = batches.next()
        return model.step(x, y)
    }
}
