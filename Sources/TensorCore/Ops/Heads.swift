/// Head split and merge for multi-head attention.

/// [B, T, H·D] → [B, H, T, D] (a copy: each head's rows become contiguous).
public func splitHeads(_ x: Tensor, heads: Int) -> Tensor {
    guard x.shape.count == 3, heads > 0, x.shape[2] % heads == 0 else {
        shapeFailure("splitHeads", "expects [B, T, H·D] with H = \(heads) dividing the last dim, got \(x.shape)")
    }
    let b = x.shape[0], t = x.shape[1], d = x.shape[2] / heads
    let out = Tensor(uninitialized: [b, heads, t, d])
    permuteBTHD(x.pointer, out.pointer, b: b, t: t, h: heads, d: d, toHeads: true, accumulate: false)
    if Tensor.needsGrad(x) {
        out.record([x]) { out in
            let (gx, acc) = x.gradBuffer()
            permuteBTHD(out.grad!.pointer, gx, b: b, t: t, h: heads, d: d, toHeads: false, accumulate: acc)
        }
    }
    return out
}

/// [B, H, T, D] → [B, T, H·D], the inverse of ``splitHeads(_:heads:)``.
public func mergeHeads(_ x: Tensor) -> Tensor {
    guard x.shape.count == 4 else { shapeFailure("mergeHeads", "expects [B, H, T, D], got \(x.shape)") }
    let b = x.shape[0], h = x.shape[1], t = x.shape[2], d = x.shape[3]
    let out = Tensor(uninitialized: [b, t, h * d])
    permuteBTHD(x.pointer, out.pointer, b: b, t: t, h: h, d: d, toHeads: false, accumulate: false)
    if Tensor.needsGrad(x) {
        out.record([x]) { out in
            let (gx, acc) = x.gradBuffer()
            permuteBTHD(out.grad!.pointer, gx, b: b, t: t, h: h, d: d, toHeads: true, accumulate: acc)
        }
    }
    return out
}

/// Copies (or adds) between the [B,T,H,D] and [B,H,T,D] layouts. `toHeads`: src is [B,T,H,D].
private func permuteBTHD(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, b: Int, t: Int, h: Int, d: Int,
                         toHeads: Bool, accumulate: Bool) {
    Parallel.forEachChunk(b * t, grain: max(1, 4096 / (h * d))) { r in
        for bt in r {
            let bi = bt / t, ti = bt % t
            for hi in 0..<h {
                let a = (bt * h + hi) * d                 // [B,T,H,D] offset
                let c = ((bi * h + hi) * t + ti) * d      // [B,H,T,D] offset
                let (s, o) = toHeads ? (a, c) : (c, a)
                if accumulate { addInPlace(d, src + s, dst + o) }
                else { (dst + o).update(from: src + s, count: d) }
            }
        }
    }
}
