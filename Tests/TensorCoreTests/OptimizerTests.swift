import Foundation
@testable import TensorCore
import Testing

extension TensorCoreTests { @Suite struct OptimizerTests {
    @Test func oneAdamWStepByHand() {
        // p = 1, g = 0.5, lr = 0.1, wd = 0.01, β = (0.9, 0.999):
        // p ← 1·(1 − 0.1·0.01) = 0.999; m̂ = 0.5, v̂ = 0.25; p ← 0.999 − 0.1·0.5/(0.5 + 1e-8) = 0.899.
        let p = Tensor([1], shape: [1], requiresGrad: true)
        sum(scale(p, 0.5)).backward()
        let opt = AdamW([ParameterGroup([p], learningRate: 0.1, weightDecay: 0.01)], beta1: 0.9, beta2: 0.999)
        opt.step()
        #expect(abs(p.item - 0.899) < 1e-6)
        // Second step with the same gradient: m = 0.095, v = 0.00049975; m̂ = 0.5, v̂ = 0.25 again.
        opt.step()
        #expect(abs(p.item - (0.899 * 0.999 - 0.1)) < 1e-6)
    }

    @Test func parameterGroupsHaveTheirOwnRates() {
        let a = Tensor([1], shape: [1], requiresGrad: true), b = Tensor([1], shape: [1], requiresGrad: true)
        sum(add(a, b)).backward()
        let opt = SGD([ParameterGroup([a], learningRate: 0.1), ParameterGroup([b], learningRate: 0.01)], momentum: 0)
        opt.step()
        #expect(abs(a.item - 0.9) < 1e-7 && abs(b.item - 0.99) < 1e-7)
        opt.setLearningRateMultiplier(0.5)
        #expect(opt.groups[0].learningRate == 0.05 && opt.groups[1].learningRate == 0.005)
    }

    @Test func sgdMomentumByHand() {
        // g = 1 each step, μ = 0.9, lr = 0.1: b = 1 then 1.9; p = 1 − 0.1 − 0.19 = 0.71.
        let p = Tensor([1], shape: [1], requiresGrad: true)
        let opt = SGD([ParameterGroup([p], learningRate: 0.1)], momentum: 0.9)
        for _ in 0..<2 { opt.zeroGrad(); sum(p).backward(); opt.step() }
        #expect(abs(p.item - 0.71) < 1e-6)
    }

    /// The scalar Newton–Schulz map applied to one singular value, five times, in Double.
    func ns5(_ s: Double) -> Double {
        var x = s
        for _ in 0..<5 { x = 3.4445 * x - 4.7750 * x * x * x + 2.0315 * x * x * x * x * x }
        return x
    }

    @Test func oneMuonStepByHand() {
        // G = diag(3, 4): NS normalises by ‖G‖_F = 5 and maps each singular value s/5 through the quintic
        // five times; momentum and Nesterov only rescale G on the first step, which the normalisation removes.
        let p = Tensor([1, 0, 0, 1], shape: [2, 2], requiresGrad: true)
        p.grad = Tensor([3, 0, 0, 4], shape: [2, 2])
        let opt = Muon([ParameterGroup([p], learningRate: 0.02, weightDecay: 0.1)])
        opt.step()
        let decay = 1 - 0.02 * 0.1
        let expected = [decay - 0.02 * ns5(0.6), 0, 0, decay - 0.02 * ns5(0.8)]
        for (a, b) in zip(p.array, expected) { #expect(abs(Double(a) - b) < 1e-5) }
    }

    @Test func muonScalesTallMatrices() {
        // A 4×1 column: NS gives the unit vector; the update is scaled by √max(1, 4/1) = 2.
        let p = Tensor.zeros([4, 1], requiresGrad: true)
        p.grad = Tensor([1, 1, 1, 1], shape: [4, 1])
        Muon([ParameterGroup([p], learningRate: 1)]).step()
        let u = ns5(1)   // normalised singular value is 1
        for v in p.array { #expect(abs(Double(v) + 2 * u * 0.5) < 1e-5) }
    }

    @Test func newtonSchulzIsCloseToOrthogonal() {
        var rng = RNG(seed: 11)
        let g = Tensor.randn([24, 10], rng: &rng)
        newtonSchulz5(g.pointer, rows: 24, cols: 10)
        // XᵀX should be near the identity: NS5 leaves singular values in about [0.7, 1.2] (by design),
        // so diagonal entries within 0.45 of 1 and off-diagonals below 0.25.
        let xtx = matmul(g, g, transposeA: true)
        for i in 0..<10 { for j in 0..<10 {
            let v = xtx.pointer[i * 10 + j]
            if i == j { #expect(abs(v - 1) < 0.45) } else { #expect(abs(v) < 0.25) }
        } }
    }

    @Test func clipGradNormScalesToTheMaximum() {
        let a = Tensor([0], shape: [1], requiresGrad: true), b = Tensor([0, 0], shape: [2], requiresGrad: true)
        a.grad = Tensor([3], shape: [1]); b.grad = Tensor([0, 4], shape: [2])
        let norm = clipGradNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(a.grad!.item - 0.6) < 1e-6 && abs(b.grad!.array[1] - 0.8) < 1e-6)
    }
}
}
