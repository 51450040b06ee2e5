/// Embedding lookup: rows of `table` [V, C] picked by integer `ids` (any shape S) → [S..., C].
/// Backward scatter-adds the output gradient rows into the table's gradient, in token order.
public func embedding(_ table: Tensor, _ ids: [Int32], shape: [Int]) -> Tensor {
    guard table.shape.count == 2 else { shapeFailure("embedding", "table must be [V, C], got \(table.shape)") }
    let v = table.shape[0], c = table.shape[1]
    guard ids.count == shape.reduce(1, *) else {
        shapeFailure("embedding", "\(ids.count) ids do not fill shape \(shape)")
    }
    if let bad = ids.first(where: { $0 < 0 || Int($0) >= v }) {
        shapeFailure("embedding", "id \(bad) is outside the table's \(v) rows (table \(table.shape))")
    }
    let out = Tensor(uninitialized: shape + [c])
    let pt = table.pointer, po = out.pointer
    ids.withUnsafeBufferPointer { idp in
        Parallel.forEachChunk(ids.count, grain: max(1, 8192 / c)) { r in
            for i in r { (po + i * c).update(from: pt + Int(idp[i]) * c, count: c) }
        }
    }
    if Tensor.needsGrad(table) {
        out.record([table]) { out in
            let g = out.grad!.pointer, gt = table.gradPointer()
            for (i, id) in ids.enumerated() {
                let dst = gt + Int(id) * c, src = g + i * c
                for j in 0..<c { dst[j] += src[j] }
            }
        }
    }
    return out
}
