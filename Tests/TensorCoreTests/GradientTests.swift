@testable import TensorCore
import Testing

/// Every op's backward against central finite differences, on random shapes that include sizes that
/// are not multiples of the SIMD width (8). Tolerances: see `checkGradients`.
extension TensorCoreTests { @Suite struct GradientTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulAllTransposes(tA: Bool, tB: Bool) {
        let a = randn(tA ? [7, 5] : [5, 7], seed: 1), b = randn(tB ? [3, 7] : [7, 3], seed: 2)
        checkGradients([a, b]) { matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
    }

    @Test func matmulLargeEnoughToSplitAcrossThreads() {
        // 70·60·40 > 2¹⁷: the product is split over threads in row blocks (and column blocks transposed).
        let a = randn([70, 40], seed: 3, std: 0.3), b = randn([40, 60], seed: 4, std: 0.3)
        let ref = Tensor.noGrad { matmul(a, b) }
        for i in [0, 17, 69] { for j in [0, 31, 59] {
            var s: Float = 0
            for k in 0..<40 { s += a.pointer[i * 40 + k] * b.pointer[k * 60 + j] }
            #expect(abs(ref.pointer[i * 60 + j] - s) < 1e-4)
        } }
        checkGradients([a, b], atol: 5e-3) { matmul($0[0], $0[1]) }
    }

    @Test func matmulInRowBlocks() {
        // C = A·B with C over 512 KB per thread: each thread's rows go to BLAS in blocks (of 512 rows here).
        let a = randn([2600, 9], seed: 36), b = randn([9, 256], seed: 37)
        let c = Tensor.noGrad { matmul(a, b) }
        for i in [0, 511, 512, 1299, 1300, 1812, 2599] { for j in [0, 127, 255] {
            var s: Float = 0
            for k in 0..<9 { s += a.pointer[i * 9 + k] * b.pointer[k * 256 + j] }
            #expect(abs(c.pointer[i * 256 + j] - s) < 1e-4)
        } }
    }

    @Test func linearWithBias() {
        let x = randn([2, 3, 9], seed: 5), w = randn([4, 9], seed: 6), b = randn([4], seed: 7)
        checkGradients([x, w, b]) { linear($0[0], $0[1], bias: $0[2]) }
    }

    @Test(arguments: [(false, false), (true, true), (false, true)])
    func batchedMatmul(tA: Bool, tB: Bool) {
        let a = randn(tA ? [2, 3, 6, 5] : [2, 3, 5, 6], seed: 8), b = randn(tB ? [2, 3, 4, 6] : [2, 3, 6, 4], seed: 9)
        checkGradients([a, b]) { bmm($0[0], $0[1], transposeA: tA, transposeB: tB) }
    }

    @Test func addAndMultiplyBroadcasting() {
        let a = randn([3, 4, 11], seed: 10), same = randn([3, 4, 11], seed: 11), bias = randn([11], seed: 12)
        let scalar = randn([1], seed: 13), plane = randn([4, 11], seed: 14)
        checkGradients([a, same]) { add($0[0], $0[1]) }
        checkGradients([a, bias]) { add($0[0], $0[1]) }
        checkGradients([a, scalar]) { add($0[0], $0[1]) }
        checkGradients([a, same]) { mul($0[0], $0[1]) }
        checkGradients([a, plane]) { mul($0[0], $0[1]) }
        checkGradients([a]) { scale($0[0], -1.5) }
        checkGradients([a]) { reshape($0[0], [12, -1]) }
    }

    @Test func embeddingWithRepeatedIds() {
        let table = randn([10, 13], seed: 15)
        checkGradients([table]) { embedding($0[0], [1, 3, 3, 9, 0, 1], shape: [2, 3]) }
    }

    @Test func normalisations() {
        let x = randn([3, 5, 19], seed: 16), w = randn([19], seed: 17), b = randn([19], seed: 18)
        checkGradients([x]) { rmsNorm($0[0]) }
        checkGradients([x, w]) { rmsNorm($0[0], weight: $0[1]) }
        checkGradients([x, w, b]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([x, w]) { layerNorm($0[0], weight: $0[1], bias: nil) }
    }

    @Test func activations() {
        let x = randn([4, 13], seed: 19, std: 1.5)
        let kinked = awayFromZero([4, 13], seed: 20)
        checkGradients([x]) { gelu($0[0]) }
        checkGradients([x]) { silu($0[0]) }
        checkGradients([x]) { tanh($0[0]) }
        checkGradients([x]) { softcap($0[0], cap: 2) }
        checkGradients([kinked]) { relu($0[0]) }
        checkGradients([kinked]) { reluSquared($0[0]) }
    }

    @Test func softmaxLastDimension() {
        checkGradients([randn([3, 2, 9], seed: 21)]) { softmax($0[0]) }
    }

    @Test(arguments: [(4, 4, true), (4, 2, true), (6, 1, true), (4, 2, false)])
    func fusedAttention(hq: Int, hkv: Int, causal: Bool) {
        let q = randn([2, hq, 5, 6], seed: 22), k = randn([2, hkv, 5, 6], seed: 23), v = randn([2, hkv, 5, 6], seed: 24)
        checkGradients([q, k, v]) { attention($0[0], $0[1], $0[2], causal: causal) }
    }

    @Test(arguments: [true, false])
    func fusedAttentionAcrossQueryBlocks(causal: Bool) {
        // T = 70 spans two query blocks of 64: the causal path multiplies block 2 against 70 keys only.
        let q = randn([1, 2, 70, 4], seed: 30), k = randn([1, 1, 70, 4], seed: 31), v = randn([1, 1, 70, 4], seed: 32)
        // Forward against the unfused ops: softmax(Q·Kᵀ/2 + mask)·V per head.
        let o = Tensor.noGrad { attention(q, k, v, causal: causal) }
        for h in 0..<2 {
            let qh = Tensor(Array(q.array[(h * 280)..<((h + 1) * 280)]), shape: [70, 4]), kh = reshape(k, [70, 4]), vh = reshape(v, [70, 4])
            let s = scale(matmul(qh, kh, transposeB: true), 0.5)
            if causal { for i in 0..<70 { for j in (i + 1)..<70 { s.pointer[i * 70 + j] = -.infinity } } }
            let ref = matmul(softmax(s), vh)
            for i in 0..<280 { #expect(abs(ref.pointer[i] - o.pointer[h * 280 + i]) < 1e-5) }
        }
        checkGradients([q, k, v]) { attention($0[0], $0[1], $0[2], causal: causal) }
    }

    @Test(arguments: [true, false])
    func fusedSelfAttentionFromOneProjection(causal: Bool) {
        // [B=2, T=70, 3·C] with C = 8, 2 heads of D = 4: T spans two query blocks of 64.
        let qkv = randn([2, 70, 24], seed: 33)
        let o = Tensor.noGrad { fusedSelfAttention(qkv, heads: 2, causal: causal) }
        #expect(o.shape == [2, 70, 8])
        // Forward against the unfused ops: split the three thirds, split heads, attention, merge.
        let ref = Tensor.noGrad { () -> Tensor in
            var parts: [Tensor] = []
            for p in 0..<3 {
                var values: [Float] = []
                for row in 0..<140 { values += Array(qkv.array[(row * 24 + p * 8)..<(row * 24 + p * 8 + 8)]) }
                parts.append(splitHeads(Tensor(values, shape: [2, 70, 8]), heads: 2))
            }
            return mergeHeads(attention(parts[0], parts[1], parts[2], causal: causal))
        }
        for i in 0..<ref.count { #expect(abs(ref.pointer[i] - o.pointer[i]) < 1e-5) }
        checkGradients([randn([2, 5, 12], seed: 34)]) { fusedSelfAttention($0[0], heads: 2, causal: causal) }
        checkGradients([randn([1, 70, 6], seed: 35)]) { fusedSelfAttention($0[0], heads: 1, causal: causal) }
    }

    @Test func rotaryEmbedding() {
        checkGradients([randn([2, 3, 7, 10], seed: 25)]) { rope($0[0], base: 100) }
    }

    @Test func dropoutUsesTheSameMaskForward() {
        let x = randn([5, 9], seed: 26)
        // The mask comes from the generator: a fresh copy of the same generator gives the same mask.
        checkGradients([x]) { var rng = RNG(seed: 7); return dropout($0[0], p: 0.4, rng: &rng, training: true) }
    }

    @Test func crossEntropyMeanAndPerToken() {
        let logits = randn([7, 11], seed: 27)
        let targets: [Int32] = [0, 10, 3, 3, 5, 9, 1]
        checkGradients([logits]) { crossEntropy($0[0], targets, reduction: .mean) }
        checkGradients([logits]) { crossEntropy($0[0], targets, reduction: .none) }
    }

    @Test func gradientsAccumulateWhenAnInputFeedsSeveralOps() {
        // The first op to reach an input's gradient overwrites a fresh buffer (or takes over the output's
        // gradient buffer); every later one must add to it. Each input here feeds several consumers.
        let x = randn([2, 5, 12], seed: 40), w = randn([12, 12], seed: 41), g = randn([12], seed: 42)
        checkGradients([x, w, g]) { i in
            let x = i[0], w = i[1], g = i[2]
            let h = add(add(linear(x, w), gelu(x)), layerNorm(x, weight: g, bias: nil))
            let y = add(h, add(x, x))
            return add(add(reshape(y, [10, 12]), matmul(reshape(x, [10, 12]), w)), rmsNorm(reshape(h, [10, 12]), weight: g))
        }
        // Heads: split twice from one input, attention over shared keys and values, softmax and scale of one tensor.
        let qkv = randn([2, 7, 8], seed: 43)
        checkGradients([qkv]) { i in
            let q = splitHeads(i[0], heads: 2), kv = splitHeads(scale(i[0], 0.5), heads: 2)
            let o = mergeHeads(attention(q, kv, kv))
            return add(add(o, softmax(i[0])), scale(i[0], 2))
        }
        checkGradients([randn([14, 8], seed: 44)]) { i in
            let t1: [Int32] = (0..<14).map { Int32($0 % 8) }, t2: [Int32] = (0..<14).map { Int32(($0 * 3) % 8) }
            return add(crossEntropy(i[0], t1, reduction: .none), crossEntropy(i[0], t2, reduction: .none))
        }
    }

    @Test func headSplitAndMerge() {
        let x = randn([2, 5, 12], seed: 28)
        checkGradients([x]) { splitHeads($0[0], heads: 3) }
        checkGradients([randn([2, 3, 5, 4], seed: 29)]) { mergeHeads($0[0]) }
        let back = mergeHeads(splitHeads(x, heads: 3))
        #expect(back.array == x.array)
        #expect(back.shape == [2, 5, 12])
    }
}
}
