import Foundation
@testable import TensorCore
import Testing

/// A tiny GPT from the core's ops (RMSNorm, RoPE, QK-norm, ReLU², soft-capped logits): the end-to-end check.
final class TinyGPT {
    let vocab = 32, width = 32, heads = 2, layers = 2
    let wte: Tensor, head: Tensor
    var blocks: [[Tensor]] = []
    var parameters: [Tensor] { [wte, head] + blocks.flatMap { $0 } }

    init(seed: UInt64) {
        var rng = RNG(seed: seed)
        wte = .randn([vocab, width], std: 0.5, rng: &rng, requiresGrad: true)
        head = .randn([vocab, width], std: 0.02, rng: &rng, requiresGrad: true)
        for _ in 0..<layers {
            blocks.append([[width, width], [width, width], [width, width], [width, width], [4 * width, width], [width, 4 * width]]
                .map { Tensor.randn($0, std: 1 / Float($0[1]).squareRoot(), rng: &rng, requiresGrad: true) })
        }
    }

    func loss(_ inputs: [Int32], _ targets: [Int32], batch: Int, seq: Int) -> Tensor {
        var x = embedding(wte, inputs, shape: [batch, seq])
        for b in blocks {
            let h = rmsNorm(x)
            let q = rmsNorm(rope(splitHeads(linear(h, b[0]), heads: heads)))
            let k = rmsNorm(rope(splitHeads(linear(h, b[1]), heads: heads)))
            let v = splitHeads(linear(h, b[2]), heads: heads)
            x = add(x, linear(mergeHeads(attention(q, k, v)), b[3]))
            x = add(x, linear(reluSquared(linear(rmsNorm(x), b[4])), b[5]))
        }
        return crossEntropy(softcap(linear(rmsNorm(x), head), cap: 15), targets)
    }
}

extension TensorCoreTests { @Suite struct EndToEndTests {
    let batch = 4, seq = 16
    func fixedBatch() -> ([Int32], [Int32]) {
        var rng = RNG(seed: 1)
        let tokens = (0..<(batch * seq + 1)).map { _ in Int32(rng.next() % 32) }
        return (Array(tokens.dropLast()), Array(tokens.dropFirst()))
    }

    func train(steps: Int, seed: UInt64, optimizer: String = "adamw") -> [Float] {
        let model = TinyGPT(seed: seed)
        let (x, y) = fixedBatch()
        let opt: Optimizer
        if optimizer == "muon" {
            let matrices = model.blocks.flatMap { $0 }
            let muon = Muon([ParameterGroup(matrices, learningRate: 0.02)])
            let adam = AdamW([ParameterGroup([model.wte, model.head], learningRate: 0.01)])
            opt = Combined([muon, adam])
        } else {
            opt = AdamW([ParameterGroup(model.parameters, learningRate: 0.01, weightDecay: 0.0)])
        }
        var losses: [Float] = []
        for _ in 0..<steps {
            let loss = model.loss(x, y, batch: batch, seq: seq)
            losses.append(loss.item)
            loss.backward()
            clipGradNorm(model.parameters, maxNorm: 1)
            opt.step()
            opt.zeroGrad()
        }
        return losses
    }

    @Test func aSmallModelOverfitsATinyFixedBatch() {
        // 64 random tokens from 32: the starting loss is about ln 32 = 3.47; memorising them must take it below 0.1.
        let losses = train(steps: 150, seed: 7)
        #expect(abs(losses[0] - Float(log(32.0))) < 0.5)
        #expect(losses.last! < 0.1, "final loss \(losses.last!)")
    }

    @Test func muonAlsoOverfits() {
        let losses = train(steps: 150, seed: 7, optimizer: "muon")
        #expect(losses.last! < 0.2, "final loss \(losses.last!)")
    }

    @Test func trainingIsDeterministicForAFixedSeed() {
        #expect(train(steps: 5, seed: 3) == train(steps: 5, seed: 3))
    }

    @Test func nanoGPTBlockTrainsBitIdenticallyTwice() {
        // Large enough that every op is split over the threads (dynamically claimed chunks, concurrent
        // dX/dW products, fresh-gradient overwrites): two runs from one seed must agree bit for bit.
        func run() -> [Float] {
            var rng = RNG(seed: 5)
            let b = 4, t = 64, c = 64
            let wte = Tensor.randn([64, c], std: 0.02, rng: &rng, requiresGrad: true)
            let ln = Tensor.full([c], 1, requiresGrad: true)
            let attn = Tensor.randn([3 * c, c], std: 0.02, rng: &rng, requiresGrad: true)
            let fc = Tensor.randn([4 * c, c], std: 0.02, rng: &rng, requiresGrad: true)
            let proj = Tensor.randn([c, 4 * c], std: 0.02, rng: &rng, requiresGrad: true)
            let params = [wte, ln, attn, fc, proj]
            let opt = AdamW([ParameterGroup(params, learningRate: 1e-2, weightDecay: 0.1)])
            let ids = (0..<(b * t + 1)).map { _ in Int32(rng.next() % 64) }
            var losses: [Float] = []
            for _ in 0..<3 {
                var x = embedding(wte, Array(ids.dropLast()), shape: [b, t])
                x = add(x, fusedSelfAttention(linear(layerNorm(x, weight: ln, bias: nil), attn), heads: 4))
                x = add(x, linear(gelu(linear(layerNorm(x, weight: ln, bias: nil), fc)), proj))
                let loss = crossEntropy(linear(x, wte), Array(ids.dropFirst()))
                loss.backward(); opt.step(); opt.zeroGrad()
                losses.append(loss.item)
            }
            return losses + params.flatMap(\.array)
        }
        let first = run(), second = run()
        #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
        #expect(first[2] < first[0])
    }

    @Test func noPerStepMemoryGrowth() {
        let model = TinyGPT(seed: 2)
        let (x, y) = fixedBatch()
        let opt = AdamW([ParameterGroup(model.parameters, learningRate: 0.01)])
        func step() { let l = model.loss(x, y, batch: batch, seq: seq); l.backward(); opt.step(); opt.zeroGrad() }
        for _ in 0..<3 { step() }
        let before = BufferPool.systemAllocations
        for _ in 0..<20 { step() }
        #expect(BufferPool.systemAllocations == before, "steps after warm-up must reuse pooled buffers")
    }

    @Test func shapeMismatchNamesTheOpAndBothShapes() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("FAIL: shape error in matmul: inner dimensions differ: [2, 3] and [4, 5]"))
        }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = add(Tensor.zeros([2, 3]), Tensor.zeros([2]))
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("add: shapes [2, 3] and [2] do not broadcast"))
        }
    }
}

/// Several optimizers stepped together (Muon for matrices, AdamW for the rest).
final class Combined: Optimizer {
    var parts: [Optimizer]
    var groups: [ParameterGroup] {
        get { parts.flatMap(\.groups) }
        set { }
    }
    init(_ parts: [Optimizer]) { self.parts = parts }
    func step() { for p in parts { p.step() } }
}
}
