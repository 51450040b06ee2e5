/// SGD with momentum, as torch.optim.SGD (dampening 0): g ← g + wd·p; b ← μ·b + g;
/// p ← p − lr·(nesterov ? g + μ·b : b).
public final class SGD: Optimizer {
    public var groups: [ParameterGroup]
    public var momentum: Float, nesterov: Bool
    private let state = StateBuffers()

    public init(_ groups: [ParameterGroup], momentum: Float = 0.9, nesterov: Bool = false) {
        self.groups = groups; self.momentum = momentum; self.nesterov = nesterov
    }

    public func step() {
        let mu = momentum, nesterov = nesterov
        for group in groups {
            let lr = group.learningRate, wd = group.weightDecay
            for p in group.parameters {
                guard let g = p.grad?.pointer else { continue }
                let b = state.get(p), w = p.pointer
                for i in 0..<p.count {
                    let gi = g[i] + wd * w[i]
                    b[i] = mu * b[i] + gi
                    w[i] -= lr * (nesterov ? gi + mu * b[i] : b[i])
                }
            }
        }
    }
}
