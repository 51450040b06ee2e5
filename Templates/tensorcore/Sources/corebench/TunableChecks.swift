// TunableChecks.swift — fixed. Each tunable of the editable files is exercised: the checks below are sized from the
// tunables' current values so the code each one controls runs on both sides of it (serial and parallel, one block
// and several, …), with 2 threads. Results are compared with plain reference loops (forward) and with finite
// differences along random directions (backward).
import Foundation
import TensorCore

/// The editable files' tunables as this build sees them (the gate prints them; a renamed or removed tunable fails
/// the build, which the harness records as a crash).
let tunables: [(name: String, value: String)] = [
    ("PARALLEL_CHUNKS_PER_THREAD", "\(PARALLEL_CHUNKS_PER_THREAD)"), ("PARALLEL_SPIN_LIMIT", "\(PARALLEL_SPIN_LIMIT)"),
    ("GEMM_PARALLEL_MIN_MNK", "\(GEMM_PARALLEL_MIN_MNK)"), ("GEMM_THREAD_GRAIN", "\(GEMM_THREAD_GRAIN)"),
    ("GEMM_ROW_BLOCK_FLOATS", "\(GEMM_ROW_BLOCK_FLOATS)"), ("GEMM_ROW_BLOCK_MAX_COLUMNS", "\(GEMM_ROW_BLOCK_MAX_COLUMNS)"),
    ("GEMM_CONCURRENT_BACKWARD", "\(GEMM_CONCURRENT_BACKWARD)"), ("GEMM_SIMD_KERNEL", "\(GEMM_SIMD_KERNEL)"),
    ("GEMM_SIMD_TRANSPOSED_A", "\(GEMM_SIMD_TRANSPOSED_A)"), ("GEMM_SIMD_DEPTH_BLOCK", "\(GEMM_SIMD_DEPTH_BLOCK)"),
    ("GEMM_SIMD_COLUMN_BLOCK", "\(GEMM_SIMD_COLUMN_BLOCK)"), ("ATTENTION_TASK_GRAIN", "\(ATTENTION_TASK_GRAIN)"),
    ("ATTENTION_CHUNKS_PER_THREAD", "\(ATTENTION_CHUNKS_PER_THREAD)"), ("NORM_GRAIN_FLOATS", "\(NORM_GRAIN_FLOATS)"),
    ("ELEMENTWISE_GRAIN", "\(ELEMENTWISE_GRAIN)"), ("ADAMW_GRAIN", "\(ADAMW_GRAIN)"),
]

extension Gate {
    mutating func runTunableChecks() {
        let threads = Parallel.threads
        check("parallel chunks cover every index once", exercises: ["PARALLEL_CHUNKS_PER_THREAD"]) {
            let per = threads * max(1, PARALLEL_CHUNKS_PER_THREAD)
            for count in [1, 7, per - 1, per, per + 1, 10 * per + 3, 1000] where count > 0 {
                let seen = UnsafeMutablePointer<Int32>.allocate(capacity: count)
                defer { seen.deallocate() }
                seen.initialize(repeating: 0, count: count)
                Parallel.forEachChunk(count) { r in for i in r { seen[i] += 1 } }
                if let i = (0..<count).first(where: { seen[$0] != 1 }) {
                    throw CheckFailure(detail: "count \(count): index \(i) visited \(seen[i]) times")
                }
            }
        }
        check("parallel ops back to back and after the workers slept", exercises: ["PARALLEL_SPIN_LIMIT"]) {
            let n = 2 * threads * ELEMENTWISE_GRAIN + 5
            let a = randn([n], seed: 40), expected = a.array.map { $0 * 3 }
            for pause in [0, 0, 200_000, 0, 200_000] {
                if pause > 0 { usleep(useconds_t(pause)) }   // 0.2 s: past any spin limit in range, so workers sleep
                try expectClose(scale(a, 3).array, expected, "scale after \(pause / 1000) ms idle")
            }
        }
        check("elementwise ops below and above the grain", exercises: ["ELEMENTWISE_GRAIN", "PARALLEL_CHUNKS_PER_THREAD"]) {
            for n in [101, 2 * threads * ELEMENTWISE_GRAIN + 13] {
                let cols = 37, rows = (n + cols - 1) / cols
                let a = randn([rows, cols], seed: 41), b = randn([rows, cols], seed: 42), row = randn([cols], seed: 43)
                let pa = a.array, pb = b.array, pr = row.array
                try expectClose(add(a, b).array, zip(pa, pb).map { $0 + $1 }, "add, \(rows)×\(cols)")
                try expectClose(add(a, row).array, pa.indices.map { pa[$0] + pr[$0 % cols] }, "add of a row, \(rows)×\(cols)")
                try expectClose(mul(a, row).array, pa.indices.map { pa[$0] * pr[$0 % cols] }, "mul by a row, \(rows)×\(cols)")
                try expectClose(scale(a, -2).array, pa.map { -2 * $0 }, "scale, \(rows)×\(cols)")
                try directionalCheck([a, b]) { add($0[0], $0[1]) }
                try directionalCheck([a, row]) { mul($0[0], $0[1]) }
                try directionalCheck([a]) { scale($0[0], -2) }
            }
        }
        check("normalisations below and above the grain", exercises: ["NORM_GRAIN_FLOATS", "PARALLEL_CHUNKS_PER_THREAD"]) {
            let c = 67
            for rows in [3, 2 * threads * ((NORM_GRAIN_FLOATS + c - 1) / c) + 5] {
                let x = randn([rows, c], seed: 44), w = randn([c], seed: 45), bias = randn([c], seed: 46)
                let px = x.array, pw = w.array, pb = bias.array
                var rms = [Float](), ln = [Float]()
                for r in 0..<rows {
                    let xs = px[(r * c)..<(r * c + c)].map(Double.init)
                    let ms = xs.reduce(0) { $0 + $1 * $1 } / Double(c), mean = xs.reduce(0, +) / Double(c)
                    let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(c)
                    for j in 0..<c {
                        rms.append(Float(xs[j] / (ms + 1e-6).squareRoot()) * pw[j])
                        ln.append(Float((xs[j] - mean) / (variance + 1e-5).squareRoot()) * pw[j] + pb[j])
                    }
                }
                try expectClose(rmsNorm(x, weight: w).array, rms, atol: 1e-4, rtol: 1e-3, "rmsNorm, \(rows) rows")
                try expectClose(layerNorm(x, weight: w, bias: bias).array, ln, atol: 1e-4, rtol: 1e-3, "layerNorm, \(rows) rows")
                try directionalCheck([x, w]) { rmsNorm($0[0], weight: $0[1]) }
                try directionalCheck([x, w, bias]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) }
            }
        }
        check("matmul split across threads, by rows and by columns",
              exercises: ["GEMM_PARALLEL_MIN_MNK", "GEMM_THREAD_GRAIN", "GEMM_CONCURRENT_BACKWARD"]) {
            let long = 2 * threads * max(1, GEMM_THREAD_GRAIN) + 3, short = 24
            let k = max(3, GEMM_PARALLEL_MIN_MNK / (long * short) + 1)
            for (m, n) in [(long, short), (short, long)] {
                for (tA, tB) in [(false, false), (true, true), (false, true), (true, false)] {
                    let a = randn(tA ? [k, m] : [m, k], seed: 47, std: 0.3), b = randn(tB ? [n, k] : [k, n], seed: 48, std: 0.3)
                    try expectClose(matmul(a, b, transposeA: tA, transposeB: tB).array,
                                    referenceMatmul(a.array, b.array, m: m, n: n, k: k, tA: tA, tB: tB), atol: 1e-3, rtol: 1e-3,
                                    "\(m)×\(k)·\(k)×\(n), transposeA \(tA), transposeB \(tB)")
                    try directionalCheck([a, b]) { matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
                }
            }
        }
        check("matmul in row blocks", exercises: ["GEMM_ROW_BLOCK_FLOATS", "GEMM_ROW_BLOCK_MAX_COLUMNS"]) {
            // A narrow product (n ≤ GEMM_ROW_BLOCK_MAX_COLUMNS) with more than two blocks of rows per thread, and a wider one.
            let n = max(1, min(GEMM_ROW_BLOCK_MAX_COLUMNS, 40)), k = 3
            let block = max(16, GEMM_ROW_BLOCK_FLOATS / n / 16 * 16)
            for (m, cols) in [(threads * (2 * block + block / 2) + 7, n), (50, GEMM_ROW_BLOCK_MAX_COLUMNS + 1)] {
                let a = randn([m, k], seed: 49), b = randn([k, cols], seed: 50)
                try expectClose(matmul(a, b).array, referenceMatmul(a.array, b.array, m: m, n: cols, k: k, tA: false, tB: false),
                                atol: 1e-4, rtol: 1e-4, "\(m)×\(k)·\(k)×\(cols)")
                try directionalCheck([a, b]) { matmul($0[0], $0[1]) }
            }
        }
        check("matmul through our kernel: whole tiles, ragged edges, overwrite and accumulate",
              exercises: ["GEMM_SIMD_KERNEL", "GEMM_SIMD_TRANSPOSED_A", "GEMM_SIMD_DEPTH_BLOCK", "GEMM_SIMD_COLUMN_BLOCK"]) {
            // Whole 8×32 tiles plus 5 rows and 13 columns left over, every transpose, a fresh product (beta 0) and a
            // gradient accumulated into (beta 1, the second backward through a shared weight); K two blocks and a part,
            // N one column block and more.
            let m = 2 * 8 + 5, n = max(32, GEMM_SIMD_COLUMN_BLOCK / 32 * 32) + 45, k = 2 * max(1, GEMM_SIMD_DEPTH_BLOCK) + 3
            for (tA, tB) in [(false, false), (true, true), (false, true), (true, false)] {
                let a = randn(tA ? [k, m] : [m, k], seed: 56, std: 0.5), b = randn(tB ? [n, k] : [k, n], seed: 57, std: 0.5)
                let want = referenceMatmul(a.array, b.array, m: m, n: n, k: k, tA: tA, tB: tB)
                try expectClose(matmul(a, b, transposeA: tA, transposeB: tB).array, want, atol: 1e-4, rtol: 1e-4,
                                "\(m)×\(k)·\(k)×\(n), transposeA \(tA), transposeB \(tB)")
                try directionalCheck([a, b]) { add(matmul($0[0], $0[1], transposeA: tA, transposeB: tB),
                                                   matmul($0[0], $0[1], transposeA: tA, transposeB: tB)) }
            }
        }
        check("attention heads across threads", exercises: ["ATTENTION_TASK_GRAIN", "ATTENTION_CHUNKS_PER_THREAD"]) {
            let tasks = 2 * threads * max(1, ATTENTION_CHUNKS_PER_THREAD) * max(1, ATTENTION_TASK_GRAIN) + 1
            for batch in [1, (tasks + 1) / 2] {
                let t = 5, d = 4, heads = 2
                let q = randn([batch, heads, t, d], seed: 51), k = randn([batch, heads, t, d], seed: 52), v = randn([batch, heads, t, d], seed: 53)
                try expectClose(attention(q, k, v).array, referenceAttention(q, k, v), atol: 1e-4, rtol: 1e-3, "attention, batch \(batch)")
                try directionalCheck([q, k, v]) { attention($0[0], $0[1], $0[2]) }
                // The fused op on the same q, k, v laid out as one [B, T, 3·C] projection.
                let c = heads * d, x = Tensor.zeros([batch, t, 3 * c])
                for bi in 0..<batch { for ti in 0..<t { for h in 0..<heads { for e in 0..<d {
                    let src = ((bi * heads + h) * t + ti) * d + e, dst = (bi * t + ti) * 3 * c + h * d + e
                    x.pointer[dst] = q.pointer[src]; x.pointer[dst + c] = k.pointer[src]; x.pointer[dst + 2 * c] = v.pointer[src]
                } } } }
                try expectClose(fusedSelfAttention(x, heads: heads).array, mergeHeads(attention(q, k, v)).array,
                                atol: 1e-4, rtol: 1e-3, "fusedSelfAttention, batch \(batch)")
                try directionalCheck([x]) { fusedSelfAttention($0[0], heads: heads) }
            }
        }
        check("AdamW below and above the grain", exercises: ["ADAMW_GRAIN", "PARALLEL_CHUNKS_PER_THREAD"]) {
            for n in [9, 2 * threads * ADAMW_GRAIN + 13] {
                let p = randn([n], seed: 54), g = randn([n], seed: 55)
                p.requiresGrad = true
                var w = p.array.map(Double.init), m = [Double](repeating: 0, count: n), v = m
                let opt = AdamW([ParameterGroup([p], learningRate: 0.01, weightDecay: 0.1)], beta2: 0.95)
                for step in 1...2 {
                    sum(mul(p, g)).backward()
                    opt.step(); opt.zeroGrad()
                    let bc1 = 1 - pow(0.9, Double(step)), bc2 = 1 - pow(0.95, Double(step))
                    for i in 0..<n {
                        let gi = Double(g.pointer[i])
                        m[i] = 0.9 * m[i] + 0.1 * gi; v[i] = 0.95 * v[i] + 0.05 * gi * gi
                        w[i] = w[i] * (1 - 0.01 * 0.1) - 0.01 * (m[i] / bc1) / ((v[i] / bc2).squareRoot() + 1e-8)
                    }
                    try expectClose(p.array, w.map(Float.init), atol: 1e-5, rtol: 1e-4, "AdamW step \(step), \(n) parameters")
                }
            }
        }
    }
}
