/// Reverse-mode automatic differentiation: grad mode, graph recording and the backward pass.
public enum GradMode {
    /// Task-local, so concurrent tasks (and tests) each have their own mode.
    @TaskLocal static var enabled = true

    /// Whether ops currently record their backward (false inside ``Tensor/noGrad(_:)``).
    public static var isEnabled: Bool { enabled }
}

extension Tensor {
    /// Runs `body` with graph recording off (evaluation): no backward closures, no saved activations.
    public static func noGrad<R>(_ body: () throws -> R) rethrows -> R {
        try GradMode.$enabled.withValue(false) { try body() }
    }

    /// Whether an op over `inputs` must record its backward.
    @inline(__always)
    static func needsGrad(_ inputs: Tensor...) -> Bool {
        guard GradMode.enabled else { return false }
        for t in inputs where t.requiresGrad { return true }
        return false
    }

    /// Records on `self` (an op's output) its inputs and the closure that, given `self` (whose `grad`
    /// is set), accumulates into the inputs' gradients.
    @inline(__always)
    func record(_ inputs: [Tensor], _ backward: @escaping (Tensor) -> Void) {
        requiresGrad = true
        parents = inputs
        backwardFn = backward
    }

    /// Back-propagates from this scalar (one-element) loss: d(loss)/d(loss) = 1, then every recorded
    /// op in reverse topological order. Gradients accumulate into `grad` of every tensor that requires
    /// one; the graph is released afterwards, so memory does not grow from step to step.
    public func backward() {
        guard count == 1 else { shapeFailure("backward", "loss must be a scalar, got shape \(shape)") }
        // Iterative post-order DFS for a topological order.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            if !visited.insert(ObjectIdentifier(node)).inserted { continue }
            stack.append((node, true))
            for p in node.parents where p.requiresGrad && !visited.contains(ObjectIdentifier(p)) {
                stack.append((p, false))
            }
        }
        gradPointer()[0] += 1
        for node in order.reversed() {
            guard let fn = node.backwardFn else { continue }  // a leaf: keeps its gradient
            if node.grad != nil { fn(node) }
            // Free the graph and the intermediate gradient as we go.
            node.backwardFn = nil
            node.parents = []
            node.grad = nil
        }
    }

    /// A tensor created by the user (a parameter or input), not by an op.
    public var isLeaf: Bool { backwardFn == nil && parents.isEmpty }
}
