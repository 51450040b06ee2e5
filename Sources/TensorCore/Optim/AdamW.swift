import Foundation

// Tunables (ALL_CAPS, one per line, with the range the search researcher may move them in): the tensorcore
// research template's moves. Changing one changes speed, never results beyond float summation order.
public let ADAMW_GRAIN = 16384                  // range: 1024..262144

/// AdamW (Loshchilov & Hutter 2019): Adam with bias correction and decoupled weight decay, as
/// torch.optim.AdamW: p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
/// p ← p − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + eps).
public final class AdamW: Optimizer {
    public var groups: [ParameterGroup]
    public var beta1: Float, beta2: Float, eps: Float
    public private(set) var stepCount = 0
    private let state = StateBuffers()

    public init(_ groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8) {
        self.groups = groups; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
    }

    public func step() {
        stepCount += 1
        let bc1 = 1 - pow(beta1, Float(stepCount)), bc2 = 1 - pow(beta2, Float(stepCount))
        let b1 = beta1, b2 = beta2, eps = eps
        for group in groups {
            let lr = group.learningRate, decay = 1 - lr * group.weightDecay
            let stepSize = lr / bc1, rbc2 = 1 / bc2.squareRoot()
            for p in group.parameters {
                guard let g = p.grad?.pointer else { continue }
                let m = state.get(p, slot: 0), v = state.get(p, slot: 1), w = p.pointer
                Parallel.forEachChunk(p.count, grain: ADAMW_GRAIN) { r in
                    // 8 lanes at a time, then the same arithmetic on the scalar tail.
                    var i = r.lowerBound
                    while i + 8 <= r.upperBound {
                        let gi = load8(g + i)
                        let mi = b1 * load8(m + i) + (1 - b1) * gi
                        let vi = b2 * load8(v + i) + (1 - b2) * gi * gi
                        store8(mi, m + i); store8(vi, v + i)
                        store8(load8(w + i) * decay - stepSize * mi / (vi.squareRoot() * rbc2 + eps), w + i)
                        i += 8
                    }
                    while i < r.upperBound {
                        let gi = g[i]
                        m[i] = b1 * m[i] + (1 - b1) * gi
                        v[i] = b2 * v[i] + (1 - b2) * gi * gi
                        w[i] = w[i] * decay - stepSize * m[i] / (v[i].squareRoot() * rbc2 + eps)
                        i += 1
                    }
                }
            }
        }
    }
}
