// Tunables (ALL_CAPS, one per line, with the range the search researcher may move them in): the tensorcore
// research template's moves. Changing one changes speed, never results beyond float summation order.
public let ELEMENTWISE_GRAIN = 16384            // range: 1024..262144

/// Add, multiply and scale, with the broadcasting a transformer needs: `b` may have the same shape
/// as `a`, be a suffix of it (a bias or per-channel vector over the trailing dimensions), or be a scalar.

/// How `b` broadcasts over `a`: a viewed as [rows, cols], b as [cols].
@inline(__always)
private func broadcastColumns(_ op: String, _ a: Tensor, _ b: Tensor) -> Int {
    if b.count == 1 { return 1 }
    let suffix = Array(a.shape.suffix(b.shape.count))
    guard suffix == b.shape else {
        shapeFailure(op, "shapes \(a.shape) and \(b.shape) do not broadcast (the second must equal the first or a suffix of it)")
    }
    return b.count
}

/// Sums `g` viewed as [rows, cols] over rows into `out` (accumulating), in a fixed order.
private func accumulateColumnSums(_ g: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let row = g + r * cols
        for c in 0..<cols { out[c] += row[c] }
    }
}

/// Elementwise `a + b` with `b` broadcast over the leading dimensions of `a`. Shape: `a.shape`.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    let cols = broadcastColumns("add", a, b)
    let out = Tensor(uninitialized: a.shape)
    let pa = a.pointer, pb = b.pointer, po = out.pointer, n = a.count
    if cols == n {
        Parallel.forEachChunk(n, grain: ELEMENTWISE_GRAIN) { r in for i in r { po[i] = pa[i] + pb[i] } }
    } else {
        let rows = n / cols
        Parallel.forEachChunk(rows, grain: max(1, ELEMENTWISE_GRAIN / cols)) { r in
            for row in r { let o = row * cols; for c in 0..<cols { po[o + c] = pa[o + c] + pb[c] } }
        }
    }
    if Tensor.needsGrad(a, b) {
        out.record([a, b]) { out in
            let gOut = out.grad!, g = gOut.pointer
            // b first: a may take over the output gradient's buffer (then later writes to a's gradient change it).
            if b.requiresGrad {
                if cols == n {
                    let (gb, acc) = b.gradBuffer()
                    Parallel.forEachChunk(n, grain: ELEMENTWISE_GRAIN) { r in
                        if acc { addInPlace(r.count, g + r.lowerBound, gb + r.lowerBound) }
                        else { (gb + r.lowerBound).update(from: g + r.lowerBound, count: r.count) }
                    }
                } else { accumulateColumnSums(g, rows: n / cols, cols: cols, into: b.gradPointer()) }
            }
            if a.requiresGrad { a.receiveGrad(gOut) }
        }
    }
    return out
}

/// Elementwise `a * b` with `b` broadcast over the leading dimensions of `a`. Shape: `a.shape`.
public func mul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let cols = broadcastColumns("mul", a, b)
    let out = Tensor(uninitialized: a.shape)
    let pa = a.pointer, pb = b.pointer, po = out.pointer, n = a.count
    let rows = n / cols
    Parallel.forEachChunk(rows, grain: max(1, ELEMENTWISE_GRAIN / cols)) { r in
        for row in r { let o = row * cols; for c in 0..<cols { po[o + c] = pa[o + c] * pb[c] } }
    }
    if Tensor.needsGrad(a, b) {
        out.record([a, b]) { out in
            let g = out.grad!.pointer
            if a.requiresGrad {
                let ga = a.gradPointer()
                Parallel.forEachChunk(rows, grain: max(1, ELEMENTWISE_GRAIN / cols)) { r in
                    for row in r { let o = row * cols; for c in 0..<cols { ga[o + c] += g[o + c] * pb[c] } }
                }
            }
            if b.requiresGrad {
                let gb = b.gradPointer()
                for row in 0..<rows { let o = row * cols; for c in 0..<cols { gb[c] += g[o + c] * pa[o + c] } }
            }
        }
    }
    return out
}

/// `x * s` for a constant `s`. Shape: `x.shape`.
public func scale(_ x: Tensor, _ s: Float) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let px = x.pointer, po = out.pointer
    Parallel.forEachChunk(x.count, grain: ELEMENTWISE_GRAIN) { r in for i in r { po[i] = px[i] * s } }
    if Tensor.needsGrad(x) {
        out.record([x]) { out in
            let g = out.grad!.pointer, (gx, acc) = x.gradBuffer()
            Parallel.forEachChunk(x.count, grain: ELEMENTWISE_GRAIN) { r in
                if acc { for i in r { gx[i] += g[i] * s } } else { for i in r { gx[i] = g[i] * s } }
            }
        }
    }
    return out
}

/// The sum of all elements, a scalar tensor of shape [1] (summed in Double, in order).
public func sum(_ x: Tensor) -> Tensor {
    var total = 0.0
    let px = x.pointer
    for i in 0..<x.count { total += Double(px[i]) }
    let out = Tensor([Float(total)], shape: [1])
    if Tensor.needsGrad(x) {
        out.record([x]) { out in
            let g = out.grad!.pointer[0], gx = x.gradPointer()
            for i in 0..<x.count { gx[i] += g }
        }
    }
    return out
}

/// The mean of all elements, a scalar tensor of shape [1].
public func mean(_ x: Tensor) -> Tensor { scale(sum(x), 1 / Float(x.count)) }

public func + (a: Tensor, b: Tensor) -> Tensor { add(a, b) }
public func * (a: Tensor, b: Tensor) -> Tensor { mul(a, b) }
public func * (a: Tensor, s: Float) -> Tensor { scale(a, s) }
