import Foundation
@testable import TensorCore
import Testing

extension TensorCoreTests { @Suite struct KnownValueTests {
    @Test func softmaxOfAKnownVector() {
        let y = softmax(Tensor([1, 2, 3], shape: [1, 3]))
        let expected: [Float] = [0.090_030_57, 0.244_728_47, 0.665_240_96]
        for (a, b) in zip(y.array, expected) { #expect(abs(a - b) < 1e-6) }
    }

    @Test func crossEntropyOfUniformLogitsIsLnV() {
        let v = 256
        let loss = crossEntropy(Tensor.zeros([4, v]), [0, 17, 255, 3])
        #expect(abs(loss.item - Float(log(Double(v)))) < 1e-5)
        let perToken = crossEntropy(Tensor.full([2, 10], 3), [1, 2], reduction: .none)
        #expect(perToken.shape == [2])
        for l in perToken.array { #expect(abs(l - Float(log(10.0))) < 1e-5) }
    }

    @Test func vectorisedExpAndTanhMatchLibm() {
        var worst: Float = 0
        for i in -2000...2000 {
            let x = Float(i) * 0.043
            let e = sexp(x), ref = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(e - ref) / ref)
            #expect(abs(stanh(x) - Float(Foundation.tanh(Double(x)))) < 2e-6)
        }
        #expect(worst < 5e-7)
        #expect(sexp(-200) == 0 || sexp(-200) < 1e-37)
        #expect(stanh(50) == 1 && stanh(-50) == -1)
    }

    @Test func geluAndFriendsAtKnownPoints() {
        let x = Tensor([-1, 0, 0.5, 2], shape: [4])
        // GELU-tanh(1) = 0.841192, GELU-tanh(−1) = −0.158808, GELU-tanh(2) = 1.954598.
        let g = gelu(x).array
        #expect(abs(g[0] + 0.158_808) < 1e-5 && g[1] == 0 && abs(g[3] - 1.954_598) < 1e-5)
        #expect(reluSquared(x).array == [0, 0, 0.25, 4])
        #expect(relu(x).array == [0, 0, 0.5, 2])
        let s = silu(x).array
        #expect(abs(s[2] - 0.5 / (1 + Float(Foundation.exp(-0.5)))) < 1e-6)
        #expect(abs(softcap(Tensor([100], shape: [1]), cap: 15).item - 15 * Float(Foundation.tanh(100.0 / 15))) < 1e-5)
    }

    @Test func rmsNormOfAConstantRowIsOne() {
        let y = rmsNorm(Tensor.full([2, 5], 3), eps: 0)
        for v in y.array { #expect(abs(v - 1) < 1e-6) }
    }

    @Test func ropeRotatesByPositionTimesFrequency() {
        // D = 2: one pair rotated by angle t (frequency base^0 = 1) at position t.
        let x = Tensor([1, 0, 1, 0, 1, 0], shape: [1, 1, 3, 2])
        let y = rope(x).array
        for t in 0..<3 {
            #expect(abs(y[2 * t] - Float(Foundation.cos(Double(t)))) < 1e-6)
            #expect(abs(y[2 * t + 1] - Float(Foundation.sin(Double(t)))) < 1e-6)
        }
    }

    @Test func causalAttentionFirstPositionCopiesItsValue() {
        var rng = RNG(seed: 3)
        let q = Tensor.randn([1, 2, 4, 8], rng: &rng), k = Tensor.randn([1, 2, 4, 8], rng: &rng), v = Tensor.randn([1, 2, 4, 8], rng: &rng)
        let o = attention(q, k, v)
        for h in 0..<2 { for j in 0..<8 { #expect(abs(o.pointer[h * 32 + j] - v.pointer[h * 32 + j]) < 1e-6) } }
    }

    @Test func noGradRecordsNothing() {
        let w = Tensor([1, 2], shape: [2], requiresGrad: true)
        let y = Tensor.noGrad { mul(w, w) }
        #expect(y.isLeaf)
        #expect(!y.requiresGrad)
        let z = sum(mul(w, w))
        z.backward()
        #expect(w.grad?.array == [2, 4])
        // Gradients accumulate until zeroed.
        sum(mul(w, w)).backward()
        #expect(w.grad?.array == [4, 8])
        w.zeroGrad()
        #expect(w.grad?.array == [0, 0])
    }

    @Test func reshapeSharesStorage() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let y = x.reshaped([3, -1])
        #expect(y.shape == [3, 2])
        #expect(y.pointer == x.pointer)
    }

    @Test func seededInitialisationIsReproducible() {
        var a = RNG(seed: 5), b = RNG(seed: 5)
        #expect(Tensor.randn([10], rng: &a).array == Tensor.randn([10], rng: &b).array)
        var r = RNG(seed: 1)
        let big = Tensor.randn([20000], std: 2, mean: 1, rng: &r).array
        let m = big.reduce(0, +) / Float(big.count)
        let sd = (big.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(big.count)).squareRoot()
        #expect(abs(m - 1) < 0.05 && abs(sd - 2) < 0.05)
        let u = Tensor.uniform([20000], low: -1, high: 3, rng: &r).array
        #expect(u.min()! >= -1 && u.max()! < 3 && abs(u.reduce(0, +) / 20000 - 1) < 0.05)
    }

    @Test func peakMemoryIsReadable() {
        #expect(Memory.peakResidentBytes > 1_000_000)
    }
}
}
