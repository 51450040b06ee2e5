import TensorCore

/// One benchmark configuration: nanoGPT's shape (layers × width, `heads` attention heads, an MLP of
/// `mlpRatio`·width, `context` tokens, `batch` sequences a step), byte vocabulary.
struct Config: Codable {
    let name: String, layers: Int, heads: Int, width: Int, mlpRatio: Int, context: Int, batch: Int

    /// Tokens in one training step.
    var tokensPerStep: Int { batch * context }

    /// Training FLOPs per token, nanoGPT's estimate (`estimate_mfu`): 6N for the matmul parameters
    /// (attention 4C², MLP 2·r·C² a layer, the tied head V·C) plus 12·L·C·T for attention's two products.
    var flopsPerToken: Double {
        let w = Double(width), l = Double(layers), t = Double(context)
        let n = l * (4 + 2 * Double(mlpRatio)) * w * w + Double(vocab) * w
        return 6 * n + 12 * l * w * t
    }
}

/// The configurations of the tensor-core issue: (a) nanoGPT's small CPU model, (b) a longer context and
/// larger batch, (c) a wider, deeper model, (d) the GPT subject's best configuration found by an hour of
/// search (WIDTH 64, HEADS 1, MLP_RATIO 7, DEPTH 4, SEQ_LEN 128, BATCH_SIZE 8) in nanoGPT's architecture.
let configs = [
    Config(name: "a", layers: 4, heads: 4, width: 128, mlpRatio: 4, context: 64, batch: 12),
    Config(name: "b", layers: 4, heads: 4, width: 128, mlpRatio: 4, context: 256, batch: 32),
    Config(name: "c", layers: 6, heads: 6, width: 384, mlpRatio: 4, context: 256, batch: 16),
    Config(name: "d", layers: 4, heads: 1, width: 64, mlpRatio: 7, context: 128, batch: 8),
]
let vocab = 256

/// nanoGPT's model (karpathy/nanoGPT model.py, bias=False, dropout 0) built from the tensor core's ops:
/// learned position embeddings, pre-LayerNorm blocks with one fused q|k|v projection (c_attn) read
/// straight by `fusedSelfAttention`, a GELU MLP, the head tied to the token embedding. The PyTorch side
/// (`scripts/bench/torch_step.py`) builds the same model.
final class NanoGPT {
    let c: Config
    let wte: Tensor, wpe: Tensor, lnF: Tensor
    var blocks: [(ln1: Tensor, attn: Tensor, wo: Tensor, ln2: Tensor, fc: Tensor, proj: Tensor)] = []
    var parameters: [Tensor] = []

    init(_ c: Config, rng: inout RNG) {
        self.c = c
        let std: Float = 0.02, projStd = 0.02 / Float(2 * c.layers).squareRoot()
        wte = .randn([vocab, c.width], std: std, rng: &rng, requiresGrad: true)
        wpe = .randn([c.context, c.width], std: std, rng: &rng, requiresGrad: true)
        lnF = .full([c.width], 1, requiresGrad: true)
        parameters = [wte, wpe, lnF]
        let hidden = c.mlpRatio * c.width
        for _ in 0..<c.layers {
            let b = (ln1: Tensor.full([c.width], 1, requiresGrad: true),
                     attn: Tensor.randn([3 * c.width, c.width], std: std, rng: &rng, requiresGrad: true),
                     wo: Tensor.randn([c.width, c.width], std: projStd, rng: &rng, requiresGrad: true),
                     ln2: Tensor.full([c.width], 1, requiresGrad: true),
                     fc: Tensor.randn([hidden, c.width], std: std, rng: &rng, requiresGrad: true),
                     proj: Tensor.randn([c.width, hidden], std: projStd, rng: &rng, requiresGrad: true))
            blocks.append(b)
            parameters += [b.ln1, b.attn, b.wo, b.ln2, b.fc, b.proj]
        }
    }

    func loss(_ inputs: [Int32], _ targets: [Int32]) -> Tensor {
        let positions = (0..<(c.batch * c.context)).map { Int32($0 % c.context) }
        var x = add(embedding(wte, inputs, shape: [c.batch, c.context]), embedding(wpe, positions, shape: [c.batch, c.context]))
        for b in blocks {
            let h = layerNorm(x, weight: b.ln1, bias: nil)
            x = add(x, linear(fusedSelfAttention(linear(h, b.attn), heads: c.heads), b.wo))
            let h2 = layerNorm(x, weight: b.ln2, bias: nil)
            x = add(x, linear(gelu(linear(h2, b.fc)), b.proj))
        }
        let logits = linear(layerNorm(x, weight: lnF, bias: nil), wte)
        return crossEntropy(logits, targets)
    }
}

/// Our training step (forward, backward, AdamW with lr 1e-3 and weight decay 0.1 on every parameter) on
/// one fixed batch of random tokens, warmed up by 3 untimed steps.
final class OurStep {
    let config: Config
    let model: NanoGPT, optimizer: AdamW
    let inputs: [Int32], targets: [Int32]

    init(_ c: Config) {
        config = c
        var rng = RNG(seed: 42)
        model = NanoGPT(c, rng: &rng)
        optimizer = AdamW([ParameterGroup(model.parameters, learningRate: 1e-3, weightDecay: 0.1)])
        let tokens = (0..<(c.tokensPerStep + 1)).map { _ in Int32(rng.next() % UInt64(vocab)) }
        inputs = Array(tokens.dropLast()); targets = Array(tokens.dropFirst())
        for _ in 0..<3 { step() }
    }

    func step() {
        let loss = model.loss(inputs, targets)
        loss.backward()
        optimizer.step()
        optimizer.zeroGrad()
    }

    /// Steps for at least `seconds` (and at least 3 steps); tokens per second.
    func time(seconds: Double) -> Double {
        var steps = 0, elapsed = 0.0
        let start = DispatchTime.now().uptimeNanoseconds
        while elapsed < seconds || steps < 3 {
            step(); steps += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        return Double(steps * config.tokensPerStep) / elapsed
    }
}

import Dispatch
