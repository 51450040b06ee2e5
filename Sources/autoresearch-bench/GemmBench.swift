// `autoresearch-bench --gemm`: our SGEMM kernel (TensorCore's GemmKernel.swift) against the BLAS library's on one
// thread, on the products a training step of config (d) and of the GPT subject's default model is made of. Each
// round times each side for `seconds` / 2 on every shape, the order swapped every round; it prints medians over
// rounds (GFLOP/s, range) and the median of the rounds' ratios.
import Foundation
import TensorCore

struct GemmShape {
    let what: String, tA: Bool, tB: Bool, m: Int, n: Int, k: Int
    var label: String { "\(tA ? "T" : "N")\(tB ? "T" : "N") \(m)×\(n)×\(k)" }
}

/// Half the tokens of a step (a thread's rows) for the forward and input-gradient products; all of them for the
/// weight gradients, which the step runs one a thread.
let gemmShapes: [GemmShape] = [
    GemmShape(what: "(d) MLP up, x·Wᵀ", tA: false, tB: true, m: 512, n: 448, k: 64),
    GemmShape(what: "(d) MLP down, input gradient dY·W", tA: false, tB: false, m: 1024, n: 448, k: 64),
    GemmShape(what: "(d) MLP up, weight gradient dYᵀ·X", tA: true, tB: false, m: 448, n: 64, k: 1024),
    GemmShape(what: "GPT default, qkv x·Wᵀ", tA: false, tB: true, m: 512, n: 384, k: 128),
    GemmShape(what: "GPT default, MLP down input gradient dY·W", tA: false, tB: false, m: 1024, n: 512, k: 128),
    GemmShape(what: "GPT default, qkv weight gradient dYᵀ·X", tA: true, tB: false, m: 384, n: 128, k: 1024),
    GemmShape(what: "(c) qkv x·Wᵀ", tA: false, tB: true, m: 2048, n: 1152, k: 384),
    GemmShape(what: "(c) MLP up, weight gradient dYᵀ·X (half, a thread's rows)", tA: true, tB: false, m: 768, n: 384, k: 4096),
    GemmShape(what: "(c) MLP down, weight gradient dYᵀ·X (half)", tA: true, tB: false, m: 192, n: 1536, k: 4096),
]

func runGemmBench(rounds: Int, seconds: Double) {
    BLAS.configure()
    print("ours: TensorCore's 8×32 AVX-512 kernel (available on this CPU: \(GemmKernel.available)); theirs: \(BLAS.kernel), 1 thread")
    print("\(rounds) interleaved rounds of \(seconds / 2) s a side per shape; GFLOP/s, medians over rounds (range)")
    guard GemmKernel.available else { print("no AVX-512F: the kernel is not used on this CPU, nothing to compare"); return }
    print("")
    print("| product | op(A)·op(B), M×N×K | ours GFLOP/s | BLAS GFLOP/s | ours ÷ BLAS |")
    print("|---|---|---|---|---|")
    for s in gemmShapes {
        var rng = RNG(seed: 3)
        let a = Tensor.randn([s.m * s.k], rng: &rng), b = Tensor.randn([s.k * s.n], rng: &rng)
        let c = Tensor.zeros([s.m * s.n])
        let lda = s.tA ? s.m : s.k, ldb = s.tB ? s.k : s.n
        func rate(_ ours: Bool) -> Double {
            let start = Date()
            var calls = 0
            repeat {
                for _ in 0..<8 {
                    if ours {
                        GemmKernel.sgemmTiles(s.tA, s.tB, s.m, s.n, s.k, a: a.pointer, lda: lda, b: b.pointer, ldb: ldb, c: c.pointer)
                    } else {
                        BLAS.sgemm(transA: s.tA, transB: s.tB, m: s.m, n: s.n, k: s.k, alpha: 1, a: a.pointer, lda: lda,
                                   b: b.pointer, ldb: ldb, beta: 0, c: c.pointer, ldc: s.n)
                    }
                }
                calls += 8
            } while Date().timeIntervalSince(start) < seconds / 2
            return 2 * Double(s.m * s.n * s.k) * Double(calls) / Date().timeIntervalSince(start) / 1e9
        }
        _ = rate(true); _ = rate(false)
        var ours: [Double] = [], theirs: [Double] = [], ratios: [Double] = []
        for round in 0..<rounds {
            let (o, t) = round % 2 == 0 ? { let o = rate(true); return (o, rate(false)) }() : { let t = rate(false); return (rate(true), t) }()
            ours.append(o); theirs.append(t); ratios.append(o / t)
        }
        print("| \(s.what) | \(s.label) | \(spread(ours, "%.0f")) | \(spread(theirs, "%.0f")) | \(spread(ratios, "%.2f")) |")
    }
}
