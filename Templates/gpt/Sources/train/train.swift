// train.swift — the editable training file of the GPT research subject.
//
// One file holds the model, the optimiser setup and the training loop (like autoresearch's train.py).
// The research loop edits it; everything it imports is fixed: TensorCore (the ops) and SubjectKit
// (the training data, the time budget, MAX_SEQ_LEN, checkpoints and the evaluation protocol).
// It reads top to bottom: hyperparameters, model, the evaluation phase, the training phase, and the last line
// that runs one of the two. The harness runs it twice, each time in a sandbox: to train (it sees only the training
// split) and, in a fresh process, to evaluate (it sees only the windows the harness sends); the harness scores
// val_bpb itself.
import Foundation
import SubjectKit
import TensorCore

// MARK: - Hyperparameters (ALL_CAPS, one per line; the comment gives the range or choices)

let DEPTH = 4                   // range: 1..12
let WIDTH = 128                 // range: 32..512
let HEADS = 4                   // range: 1..16
let MLP_RATIO = 4               // range: 1..8
let SEQ_LEN = 128               // range: 16..256
let BATCH_SIZE = 8              // range: 1..128
let LEARNING_RATE = 0.0015      // range: 1e-4..3e-2
let MUON_LEARNING_RATE = 0.03   // range: 1e-3..1e-1
let WARMUP_RATIO = 0.02         // range: 0..0.3
let WARMDOWN_RATIO = 0.4        // range: 0..1
let WEIGHT_DECAY = 0.0          // range: 0..0.3
let ADAM_BETA2 = 0.95           // range: 0.9..0.999
let GRAD_CLIP = 1.0             // range: 0..5
let INIT_STD = 0.02             // range: 0.005..0.1
let ACTIVATION = "relu2"        // choices: relu2|gelu|silu|relu
let OPTIMIZER = "adamw"         // choices: adamw|muon
let SEED = 1337                 // range: 0..1000000

// Architecture details that ideas (named edits in ideas.toml) switch in code.
let SOFTCAP: Float = 15
let ROPE_BASE: Float = 10000

// The choices of ACTIVATION and OPTIMIZER: another value stops the run with an error that names these.
enum Activation: String, CaseIterable { case relu2, gelu, silu, relu }
enum OptimizerKind: String, CaseIterable { case adamw, muon }
let activationKind = choice(ACTIVATION, of: Activation.self, name: "ACTIVATION")
let optimizerKind = choice(OPTIMIZER, of: OptimizerKind.self, name: "OPTIMIZER")

// MARK: - Model: a modern small GPT
// Pre-norm RMSNorm, RoPE, QK-norm, ReLU² MLP, untied embeddings, tanh soft-capped logits.

let subject = Subject.load()
var rng = RNG(seed: UInt64(SEED))

/// Every parameter `param` made, so that one missing from `parameters` (never checkpointed) is an error.
var made: [Tensor] = []

func param(_ shape: [Int], std: Double, _ name: String) -> Tensor {
    let t = Tensor.randn(shape, std: Float(std), rng: &rng, requiresGrad: true)
    t.name = name
    made.append(t)
    return t
}

func norm(_ x: Tensor) -> Tensor { rmsNorm(x) }

func activation(_ x: Tensor) -> Tensor {
    switch activationKind {
    case .gelu: return gelu(x)
    case .silu: return silu(x)
    case .relu: return relu(x)
    case .relu2: return reluSquared(x)
    }
}

struct Block {
    let wq, wk, wv, wo, fc, proj: Tensor
    init(_ i: Int) {
        let projStd = INIT_STD / (2.0 * Double(DEPTH)).squareRoot()
        wq = param([WIDTH, WIDTH], std: INIT_STD, "h\(i).wq")
        wk = param([WIDTH, WIDTH], std: INIT_STD, "h\(i).wk")
        wv = param([WIDTH, WIDTH], std: INIT_STD, "h\(i).wv")
        wo = param([WIDTH, WIDTH], std: projStd, "h\(i).wo")
        fc = param([MLP_RATIO * WIDTH, WIDTH], std: INIT_STD, "h\(i).fc")
        proj = param([WIDTH, MLP_RATIO * WIDTH], std: projStd, "h\(i).proj")
    }
    var matrices: [Tensor] { [wq, wk, wv, wo, fc, proj] }

    /// x: [B, T, WIDTH] → [B, T, WIDTH]
    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = norm(x)
        var q = rope(splitHeads(linear(h, wq), heads: HEADS), base: ROPE_BASE)
        var k = rope(splitHeads(linear(h, wk), heads: HEADS), base: ROPE_BASE)
        q = norm(q); k = norm(k)                                                  // QK-norm
        let v = splitHeads(linear(h, wv), heads: HEADS)
        let x = add(x, linear(mergeHeads(attention(q, k, v)), wo))
        return add(x, linear(activation(linear(norm(x), fc)), proj))
    }
}

let wte = param([vocabSize, WIDTH], std: INIT_STD, "wte")
let blocks = (0..<DEPTH).map { Block($0) }
let lmHead = param([vocabSize, WIDTH], std: INIT_STD, "lm_head")

/// Logits [B·T, vocab] for inputs [B, T].
func forward(_ inputs: [Int32], batch: Int, seqLen: Int) -> Tensor {
    var x = embedding(wte, inputs, shape: [batch, seqLen])
    for block in blocks { x = block(x) }
    let logits = linear(norm(x), lmHead).reshaped([batch * seqLen, vocabSize])
    return softcap(logits, cap: SOFTCAP)
}

let embeddings = [wte, lmHead]
let matrices = blocks.flatMap(\.matrices)
let parameters = embeddings + matrices
let numParams = parameters.reduce(0) { $0 + $1.count }
subject.requireListed(made: made.map(\.name), listed: parameters.map(\.name))

// MARK: - Evaluation phase: restore the checkpoint, answer the harness's windows with logits

/// The evaluation phase, a fresh process: restores the checkpoint and writes one row of logits per position of
/// the windows the harness sent. Never returns.
func evaluate() -> Never {
    subject.restore(parameters.map { ($0.name, $0.shape, $0.pointer) })
    subject.serveEvaluation { x, b, t in Tensor.noGrad { forward(x, batch: b, seqLen: t).array } }
}

// MARK: - Optimiser: AdamW for everything, or Muon for the block matrices and AdamW for the rest

final class Optimizers {
    let parts: [Optimizer]
    init() {
        switch optimizerKind {
        case .muon:
            parts = [Muon([ParameterGroup(matrices, learningRate: Float(MUON_LEARNING_RATE), weightDecay: Float(WEIGHT_DECAY))]),
                     AdamW([ParameterGroup(embeddings, learningRate: Float(LEARNING_RATE))], beta2: Float(ADAM_BETA2))]
        case .adamw:
            parts = [AdamW([ParameterGroup(matrices, learningRate: Float(LEARNING_RATE), weightDecay: Float(WEIGHT_DECAY)),
                            ParameterGroup(embeddings, learningRate: Float(LEARNING_RATE))], beta2: Float(ADAM_BETA2))]
        }
    }
    func step(lrMultiplier: Float) {
        for p in parts { p.setLearningRateMultiplier(lrMultiplier); p.step(); p.zeroGrad() }
    }
}

/// Learning-rate multiplier as a function of progress = training seconds / TIME_BUDGET (or tokens):
/// linear warmup, constant, then linear warmdown to zero.
func lrMultiplier(_ progress: Double) -> Float {
    if progress < WARMUP_RATIO { return Float((progress + 1e-3) / (WARMUP_RATIO + 1e-3)) }
    if progress > 1 - WARMDOWN_RATIO { return Float(max(0, (1 - progress) / WARMDOWN_RATIO)) }
    return 1
}

// MARK: - Training phase: the loop until the budget is spent, then the checkpoint and the report

/// The training phase: trains until the budget is spent, saves the checkpoint (the harness scores it itself) and
/// prints the report (logged, never scored).
func train() {
    let optimizers = Optimizers()
    let peakGFLOPS = BLAS.measurePeakGFLOPS()
    print(String(format: "%@, %d threads, SGEMM peak %.0f GFLOP/s, %d parameters", GemmKernel.path, Parallel.threads, peakGFLOPS, numParams))
    let flopsPerToken = 6.0 * Double(numParams) + 12.0 * Double(DEPTH * WIDTH * SEQ_LEN)
    var loader = BatchLoader(data: subject.train, batchSize: BATCH_SIZE, seqLen: SEQ_LEN, seed: UInt64(SEED))
    let budget = subject.budget
    var step = 0
    var smoothLoss = 0.0
    budget.start()
    while !budget.isExhausted {
        let (x, y) = loader.next()
        let loss = crossEntropy(forward(x, batch: BATCH_SIZE, seqLen: SEQ_LEN), y)
        checkFinite(loss.item, step: step)
        loss.backward()
        if GRAD_CLIP > 0 { clipGradNorm(parameters, maxNorm: Float(GRAD_CLIP)) }
        optimizers.step(lrMultiplier: lrMultiplier(budget.progress))
        budget.record(tokens: BATCH_SIZE * SEQ_LEN)
        step += 1
        smoothLoss = step == 1 ? Double(loss.item) : 0.95 * smoothLoss + 0.05 * Double(loss.item)
        if step % 100 == 0 {
            print(String(format: "step %5d | loss %.4f | progress %5.1f%% | %.0f tok/s", step, smoothLoss,
                         100 * budget.progress, Double(budget.tokens) / budget.trainingSeconds))
        }
    }
    budget.pause()
    let trainingSeconds = budget.trainingSeconds

    // The checkpoint and the report (the harness times the run and scores the checkpoint itself).

    subject.saveCheckpoint(parameters.map { ($0.name, $0.shape, $0.array) })
    print(TrainingReport(
        trainingSeconds: trainingSeconds, peakMemoryMB: Memory.peakResidentMB,
        mfuPercent: 100 * flopsPerToken * Double(budget.tokens) / trainingSeconds / (peakGFLOPS * 1e9),
        totalTokensM: Double(budget.tokens) / 1e6, numSteps: step, numParamsM: Double(numParams) / 1e6, depth: DEPTH).render())
}

switch subject.phase {
case .train: train()
case .evaluate: evaluate()
}
