// Model.swift — fixed. The GPT subject's model (Templates/gpt/Sources/train/train.swift) at a given size: pre-norm
// RMSNorm, RoPE, QK-norm, ReLU² MLP, untied embeddings, tanh soft-capped logits, AdamW with gradient clipping.
import TensorCore

struct GPTConfig {
    var vocab = 256, depth = 4, width = 128, heads = 4, mlpRatio = 4, seqLen = 128, batch = 8
    var learningRate: Float = 0.0015, beta2: Float = 0.95, gradClip: Float = 1, initStd: Float = 0.02, seed: UInt64 = 1337

    /// The GPT subject's default model and batch (its train.swift as shipped): the benchmark's workload.
    static let subjectDefault = GPTConfig()
    /// The gate's short training run: small enough to take well under a second.
    static let gate = GPTConfig(vocab: 64, depth: 2, width: 32, heads: 2, mlpRatio: 4, seqLen: 16, batch: 4,
                                learningRate: 0.01, beta2: 0.95, gradClip: 1, initStd: 0.05, seed: 7)
}

final class GPT {
    let config: GPTConfig
    let wte: Tensor, lmHead: Tensor
    let blocks: [[Tensor]]   // wq, wk, wv, wo, fc, proj
    let parameters: [Tensor]
    let optimizer: AdamW

    init(_ config: GPTConfig) {
        self.config = config
        var rng = RNG(seed: config.seed)
        func param(_ shape: [Int], _ std: Float) -> Tensor { Tensor.randn(shape, std: std, rng: &rng, requiresGrad: true) }
        let w = config.width, std = config.initStd, projStd = std / (2 * Float(config.depth)).squareRoot()
        wte = param([config.vocab, w], std)
        blocks = (0..<config.depth).map { _ in
            [param([w, w], std), param([w, w], std), param([w, w], std), param([w, w], projStd),
             param([config.mlpRatio * w, w], std), param([w, config.mlpRatio * w], projStd)]
        }
        lmHead = param([config.vocab, w], std)
        parameters = [wte, lmHead] + blocks.flatMap { $0 }
        optimizer = AdamW([ParameterGroup(parameters, learningRate: config.learningRate)], beta2: config.beta2)
    }

    var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    func loss(_ inputs: [Int32], _ targets: [Int32]) -> Tensor {
        let c = config
        var x = embedding(wte, inputs, shape: [c.batch, c.seqLen])
        for b in blocks {
            let h = rmsNorm(x)
            let q = rmsNorm(rope(splitHeads(linear(h, b[0]), heads: c.heads)))
            let k = rmsNorm(rope(splitHeads(linear(h, b[1]), heads: c.heads)))
            let v = splitHeads(linear(h, b[2]), heads: c.heads)
            x = add(x, linear(mergeHeads(attention(q, k, v)), b[3]))
            x = add(x, linear(reluSquared(linear(rmsNorm(x), b[4])), b[5]))
        }
        let logits = softcap(linear(rmsNorm(x), lmHead).reshaped([c.batch * c.seqLen, c.vocab]), cap: 15)
        return crossEntropy(logits, targets)
    }

    /// One optimiser step on a batch; returns the loss before the step.
    func step(_ inputs: [Int32], _ targets: [Int32]) -> Float {
        let l = loss(inputs, targets)
        let value = l.item
        l.backward()
        if config.gradClip > 0 { _ = clipGradNorm(parameters, maxNorm: config.gradClip) }
        optimizer.step()
        optimizer.zeroGrad()
        return value
    }
}

/// Fixed synthetic token batches: a random permutation of the vocabulary walked in order (so the next token is
/// learnable from the current one), cut at random offsets. Deterministic in the seed.
struct SyntheticBatches {
    let config: GPTConfig
    var rng: RNG
    let cycle: [Int32]

    init(_ config: GPTConfig, seed: UInt64) {
        self.config = config
        rng = RNG(seed: seed)
        var order = (0..<config.vocab).map { Int32($0) }
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        cycle = order
    }

    mutating func next() -> (inputs: [Int32], targets: [Int32]) {
        var inputs: [Int32] = [], targets: [Int32] = []
        for _ in 0..<config.batch {
            let start = Int(rng.next() % UInt64(cycle.count))
            for t in 0..<config.seqLen {
                inputs.append(cycle[(start + t) % cycle.count])
                targets.append(cycle[(start + t + 1) % cycle.count])
            }
        }
        return (inputs, targets)
    }
}
