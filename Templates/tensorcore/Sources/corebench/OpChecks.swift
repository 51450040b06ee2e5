// OpChecks.swift — fixed. Every differentiable op against finite differences on small inputs (sizes not multiples
// of the SIMD width), and known values. Tolerances: see `gradientCheck` and `expectClose`.
import Foundation
import TensorCore

extension Gate {
    mutating func runOpChecks() {
        for (tA, tB) in [(false, false), (true, false), (false, true), (true, true)] {
            check("matmul gradient (transposeA \(tA), transposeB \(tB))") {
                let a = randn(tA ? [7, 5] : [5, 7], seed: 1), b = randn(tB ? [3, 7] : [7, 3], seed: 2)
                try gradientCheck([a, b]) { matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
            }
        }
        check("linear gradient") {
            try gradientCheck([randn([2, 3, 9], seed: 5), randn([4, 9], seed: 6), randn([4], seed: 7)]) { linear($0[0], $0[1], bias: $0[2]) }
        }
        check("bmm gradient") {
            try gradientCheck([randn([2, 3, 5, 6], seed: 8), randn([2, 3, 4, 6], seed: 9)]) { bmm($0[0], $0[1], transposeB: true) }
        }
        check("add gradient") {
            let a = randn([3, 4, 11], seed: 10)
            try gradientCheck([a, randn([3, 4, 11], seed: 11)]) { add($0[0], $0[1]) }
            try gradientCheck([a, randn([11], seed: 12)]) { add($0[0], $0[1]) }
            try gradientCheck([a, randn([1], seed: 13)]) { add($0[0], $0[1]) }
        }
        check("mul gradient") {
            let a = randn([3, 4, 11], seed: 10)
            try gradientCheck([a, randn([3, 4, 11], seed: 11)]) { mul($0[0], $0[1]) }
            try gradientCheck([a, randn([4, 11], seed: 14)]) { mul($0[0], $0[1]) }
        }
        check("scale gradient") { try gradientCheck([randn([3, 4, 11], seed: 10)]) { scale($0[0], -1.5) } }
        check("rmsNorm gradient") {
            let x = randn([3, 5, 19], seed: 16)
            try gradientCheck([x]) { rmsNorm($0[0]) }
            try gradientCheck([x, randn([19], seed: 17)]) { rmsNorm($0[0], weight: $0[1]) }
        }
        check("layerNorm gradient") {
            try gradientCheck([randn([3, 5, 19], seed: 16), randn([19], seed: 17), randn([19], seed: 18)]) {
                layerNorm($0[0], weight: $0[1], bias: $0[2])
            }
        }
        check("attention gradient") {
            try gradientCheck([randn([2, 2, 5, 3], seed: 21), randn([2, 2, 5, 3], seed: 22), randn([2, 2, 5, 3], seed: 23)]) {
                attention($0[0], $0[1], $0[2])
            }
            // Grouped-query heads: 4 query heads share 2 key/value heads.
            try gradientCheck([randn([1, 4, 4, 3], seed: 24), randn([1, 2, 4, 3], seed: 25), randn([1, 2, 4, 3], seed: 26)]) {
                attention($0[0], $0[1], $0[2])
            }
        }
        check("fusedSelfAttention gradient") {
            try gradientCheck([randn([2, 5, 18], seed: 27)]) { fusedSelfAttention($0[0], heads: 2) }
        }
        check("activation gradients") {
            let x = randn([4, 13], seed: 19, std: 1.5), kinked = awayFromZero([4, 13], seed: 20)
            try gradientCheck([x]) { gelu($0[0]) }
            try gradientCheck([x]) { silu($0[0]) }
            try gradientCheck([x]) { softcap($0[0], cap: 2) }
            try gradientCheck([kinked]) { reluSquared($0[0]) }
        }
        check("embedding gradient") { try gradientCheck([randn([10, 13], seed: 15)]) { embedding($0[0], [1, 3, 3, 9, 0, 1], shape: [2, 3]) } }
        check("rope gradient") { try gradientCheck([randn([2, 2, 5, 6], seed: 28)]) { rope($0[0]) } }
        check("softmax gradient") { try gradientCheck([randn([3, 7], seed: 29)]) { softmax($0[0]) } }
        check("heads gradient") { try gradientCheck([randn([2, 3, 8], seed: 30)]) { mergeHeads(splitHeads($0[0], heads: 2)) } }
        check("crossEntropy gradient") {
            try gradientCheck([randn([4, 6], seed: 31)]) { crossEntropy($0[0], [0, 5, 2, 2]) }
        }

        check("matmul known values") {
            let c = matmul(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), Tensor([7, 8, 9, 10, 11, 12], shape: [3, 2]))
            try expectClose(c.array, [58, 64, 139, 154], "[[1,2,3],[4,5,6]]·[[7,8],[9,10],[11,12]]")
        }
        check("rmsNorm known values") {
            // x = [3, 4]: mean(x²) = 12.5, so y = x / √12.5.
            try expectClose(rmsNorm(Tensor([3, 4], shape: [1, 2]), eps: 0).array, [0.8485281, 1.1313709], "rmsNorm([3, 4])")
        }
        check("layerNorm known values") {
            let y = layerNorm(Tensor([1, 2, 3, 4], shape: [1, 4]), weight: Tensor([1, 1, 1, 1], shape: [4]), bias: Tensor([0, 0, 0, 1], shape: [4]), eps: 0)
            try expectClose(y.array, [-1.3416408, -0.4472136, 0.4472136, 2.3416408], "layerNorm([1, 2, 3, 4])")
        }
        check("elementwise known values") {
            let a = Tensor([1, -2, 3, 4, 5, -6], shape: [2, 3]), b = Tensor([10, 20, 30], shape: [3])
            try expectClose(add(a, b).array, [11, 18, 33, 14, 25, 24], "add with a broadcast row")
            try expectClose(mul(a, b).array, [10, -40, 90, 40, 100, -180], "mul with a broadcast row")
            try expectClose(scale(a, 0.5).array, [0.5, -1, 1.5, 2, 2.5, -3], "scale by 0.5")
        }
        check("attention known values") {
            // One head, T = 2, D = 1, q = k = 0: the first position sees v₀, the second the mean of v₀ and v₁.
            let z = Tensor.zeros([1, 1, 2, 1]), v = Tensor([2, 6], shape: [1, 1, 2, 1])
            try expectClose(attention(z, z, v).array, [2, 4], "causal attention with uniform scores")
        }
        check("crossEntropy known values") {
            // Uniform logits over 8 classes: ln 8.
            try expectClose([crossEntropy(Tensor.zeros([2, 8]), [3, 5]).item], [2.0794415], "uniform logits")
        }
        check("AdamW known values") {
            // Step 1 with bias correction: m̂ = g, v̂ = g², so p ← p·(1 − lr·wd) − lr·g / (|g| + eps).
            let p = Tensor([1, -1, 0.5], shape: [3], requiresGrad: true)
            sum(mul(p, Tensor([2, -3, 0.25], shape: [3]))).backward()
            let opt = AdamW([ParameterGroup([p], learningRate: 0.1, weightDecay: 0.5)])
            opt.step()
            try expectClose(p.array, [0.85, -0.85, 0.375], atol: 1e-5, "one AdamW step")
        }
    }
}
