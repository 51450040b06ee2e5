/// Reshape without copying: the result shares storage with `x`. One dimension may be -1 (inferred).
public func reshape(_ x: Tensor, _ shape: [Int]) -> Tensor {
    var shape = shape
    if let i = shape.firstIndex(of: -1) {
        let known = shape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
        guard known > 0, x.count % known == 0 else { shapeFailure("reshape", "cannot reshape \(x.shape) to \(shape)") }
        shape[i] = x.count / known
    }
    guard shape.reduce(1, *) == x.count else {
        shapeFailure("reshape", "cannot reshape \(x.shape) (\(x.count) elements) to \(shape) (\(shape.reduce(1, *)) elements)")
    }
    let out = Tensor(sharing: x, shape: shape)
    if Tensor.needsGrad(x) {
        out.record([x]) { out in
            x.receiveGrad(out.grad!)
        }
    }
    return out
}

extension Tensor {
    /// See ``reshape(_:_:)``.
    public func reshaped(_ shape: [Int]) -> Tensor { reshape(self, shape) }
}
