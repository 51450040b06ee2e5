// autoresearch-bench: times a full training step (forward, backward, AdamW) of a GPT built from the
// tensor core's ops, for the three configurations of the tensor-core issue, and prints tokens/s,
// the machine's measured SGEMM peak, the model FLOP utilisation and the BLAS kernel in use.
//
// The model mirrors nanoGPT's (karpathy/nanoGPT model.py, bias=False, dropout 0): learned position
// embeddings, pre-LayerNorm blocks, GELU MLP of width 4C, weight-tied head, one fused q|k|v projection (c_attn) — so the figures compare
// directly with the PyTorch reference measured on this machine class.
//
// Usage: swift run -c release autoresearch-bench [--seconds S] [--config a|b|c]... [--skip-peak]
import Foundation
import TensorCore

struct Config { let name: String, layers: Int, heads: Int, width: Int, context: Int, batch: Int, reference: Double }
let configs = [
    Config(name: "a", layers: 4, heads: 4, width: 128, context: 64, batch: 12, reference: 26_300),
    Config(name: "b", layers: 4, heads: 4, width: 128, context: 256, batch: 32, reference: 23_600),
    Config(name: "c", layers: 6, heads: 6, width: 384, context: 256, batch: 16, reference: 2_700),
]
let vocab = 256

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
        for _ in 0..<c.layers {
            let b = (ln1: Tensor.full([c.width], 1, requiresGrad: true),
                     attn: Tensor.randn([3 * c.width, c.width], std: std, rng: &rng, requiresGrad: true),
                     wo: Tensor.randn([c.width, c.width], std: projStd, rng: &rng, requiresGrad: true),
                     ln2: Tensor.full([c.width], 1, requiresGrad: true),
                     fc: Tensor.randn([4 * c.width, c.width], std: std, rng: &rng, requiresGrad: true),
                     proj: Tensor.randn([c.width, 4 * c.width], std: projStd, rng: &rng, requiresGrad: true))
            blocks.append(b)
            parameters += [b.ln1, b.attn, b.wo, b.ln2, b.fc, b.proj]
        }
    }

    /// Matmul parameters (non-embedding, plus the tied head once) — nanoGPT's N for the 6N FLOP estimate.
    var flopsPerToken: Double {
        let w = Double(c.width), l = Double(c.layers), t = Double(c.context)
        let n = l * 12 * w * w + Double(vocab) * w
        return 6 * n + 12 * l * w * t
    }

    func loss(_ inputs: [Int32], _ targets: [Int32]) -> Tensor {
        let positions = (0..<(c.batch * c.context)).map { Int32($0 % c.context) }
        var x = add(embedding(wte, inputs, shape: [c.batch, c.context]), embedding(wpe, positions, shape: [c.batch, c.context]))
        for b in blocks {
            let h = layerNorm(x, weight: b.ln1, bias: nil)
            // c_attn: one [3C, C] projection to q | k | v, attention straight from it (no head copies).
            x = add(x, linear(fusedSelfAttention(linear(h, b.attn), heads: c.heads), b.wo))
            let h2 = layerNorm(x, weight: b.ln2, bias: nil)
            x = add(x, linear(gelu(linear(h2, b.fc)), b.proj))
        }
        let logits = linear(layerNorm(x, weight: lnF, bias: nil), wte)
        return crossEntropy(logits, targets)
    }
}

/// CPU time of the whole process (all threads, user + system) in seconds. With one thread
/// (AUTORESEARCH_THREADS=1) it measures the work of a step even when other processes share the cores.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

var seconds = 10.0
var selected = Set(configs.map(\.name))
var args = CommandLine.arguments.dropFirst().makeIterator()
var chosen: Set<String> = []
var skipPeak = false
while let arg = args.next() {
    switch arg {
    case "--seconds": seconds = Double(args.next() ?? "") ?? seconds
    case "--config": if let n = args.next() { chosen.insert(n) }
    case "--skip-peak": skipPeak = true   // for profilers: MFU is then relative to 1 GFLOP/s
    default:
        FileHandle.standardError.write("usage: autoresearch-bench [--seconds S] [--config a|b|c]... [--skip-peak]\n".data(using: .utf8)!)
        exit(2)
    }
}
if !chosen.isEmpty { selected = chosen }

let peak = skipPeak ? 1 : BLAS.measurePeakGFLOPS()
print("BLAS kernel: \(BLAS.kernel), BLAS threads: \(BLAS.threads), our threads: \(Parallel.threads)")
print(String(format: "SGEMM peak (1024³, best of 4): %.1f GFLOP/s", peak))
print("config  layers heads width ctx batch   step_ms    tok/s  reference  ×ref   MFU%  cpu_ms")
for c in configs where selected.contains(c.name) {
    var rng = RNG(seed: 42)
    let model = NanoGPT(c, rng: &rng)
    let opt = AdamW([ParameterGroup(model.parameters, learningRate: 1e-3, weightDecay: 0.1)])
    let tokens = (0..<(c.batch * c.context + 1)).map { _ in Int32(rng.next() % UInt64(vocab)) }
    let inputs = Array(tokens.dropLast()), targets = Array(tokens.dropFirst())
    func step() {
        let loss = model.loss(inputs, targets)
        loss.backward()
        opt.step()
        opt.zeroGrad()
    }
    for _ in 0..<3 { step() }
    var steps = 0
    let cpuStart = processCPUSeconds()
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed = 0.0
    while elapsed < seconds || steps < 3 {
        step(); steps += 1
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    let cpu = (processCPUSeconds() - cpuStart) / Double(steps) * 1000
    let tps = Double(steps * c.batch * c.context) / elapsed
    let mfu = tps * model.flopsPerToken / (peak * 1e9) * 100
    print(String(format: "%-7@ %6d %5d %5d %3d %5d %9.1f %8.0f %10.0f %5.2f %6.1f %7.1f", c.name, c.layers, c.heads, c.width, c.context, c.batch,
                 elapsed / Double(steps) * 1000, tps, c.reference, tps / c.reference, mfu, cpu))
}
print(String(format: "peak resident memory: %.1f MB", Memory.peakResidentMB))
