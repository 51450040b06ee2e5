import Foundation

/// Parameters that share a learning rate and weight decay.
public struct ParameterGroup {
    public var parameters: [Tensor]
    /// Learning rate; the training loop may change it every step (schedules).
    public var learningRate: Float
    /// Weight decay coefficient (decoupled for AdamW and Muon, added to the gradient for SGD).
    public var weightDecay: Float
    /// The rate the schedule scales: set once, `learningRate = baseLearningRate × multiplier` each step.
    public var baseLearningRate: Float

    public init(_ parameters: [Tensor], learningRate: Float, weightDecay: Float = 0) {
        self.parameters = parameters; self.learningRate = learningRate
        self.weightDecay = weightDecay; self.baseLearningRate = learningRate
    }
}

/// An optimizer over parameter groups.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get set }
    /// Applies one update from the parameters' accumulated gradients.
    func step()
}

extension Optimizer {
    /// Zeroes every parameter's gradient (keeps the buffers).
    public func zeroGrad() { for g in groups { for p in g.parameters { p.zeroGrad() } } }

    /// Sets every group's learning rate to its base rate × `multiplier` (for warmup / warmdown schedules).
    public func setLearningRateMultiplier(_ multiplier: Float) {
        for i in groups.indices { groups[i].learningRate = groups[i].baseLearningRate * multiplier }
    }
}

/// Per-parameter state buffers, created zeroed on first use.
final class StateBuffers {
    private var buffers: [ObjectIdentifier: Tensor] = [:]
    func get(_ p: Tensor, slot: Int = 0) -> UnsafeMutablePointer<Float> {
        let key = ObjectIdentifier(p)
        if slot == 0, let t = buffers[key] { return t.pointer }
        if slot == 1, let t = second[key] { return t.pointer }
        let t = Tensor.zeros(p.shape)
        if slot == 0 { buffers[key] = t } else { second[key] = t }
        return t.pointer
    }
    private var second: [ObjectIdentifier: Tensor] = [:]
}

/// Clips gradients by their global L2 norm (Pascanu et al. 2013; torch.nn.utils.clip_grad_norm_):
/// when ‖g‖ > maxNorm every gradient is scaled by maxNorm / (‖g‖ + 1e-6). Returns ‖g‖ before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total = 0.0
    for p in parameters {
        guard let g = p.grad else { continue }
        total += Double(dot(g.pointer, g.pointer, g.count))
    }
    let norm = Float(total.squareRoot())
    if norm > maxNorm {
        let s = maxNorm / (norm + 1e-6)
        for p in parameters { if let g = p.grad { for i in 0..<g.count { g.pointer[i] *= s } } }
    }
    return norm
}
