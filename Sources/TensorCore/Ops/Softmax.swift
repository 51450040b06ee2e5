/// Softmax over the last dimension: y = exp(x − max) / Σ exp(x − max).
/// Backward: gx = y ⊙ (g − Σ g ⊙ y). x is [..., N]; output the same shape.
public func softmax(_ x: Tensor) -> Tensor {
    let n = x.lastDim, rows = x.count / n
    let out = Tensor(uninitialized: x.shape)
    let px = x.pointer, po = out.pointer
    Parallel.forEachChunk(rows, grain: max(1, 4096 / n)) { r in
        for row in r { softmaxRow(px + row * n, po + row * n, n) }
    }
    if Tensor.needsGrad(x) {
        out.record([x]) { out in
            let g = out.grad!.pointer, (gx, acc) = x.gradBuffer()
            Parallel.forEachChunk(rows, grain: max(1, 4096 / n)) { r in
                for row in r {
                    let y = po + row * n, gr = g + row * n, gxr = gx + row * n
                    let s = dot(gr, y, n)
                    if acc { for j in 0..<n { gxr[j] += y[j] * (gr[j] - s) } } else { for j in 0..<n { gxr[j] = y[j] * (gr[j] - s) } }
                }
            }
        }
    }
    return out
}

/// out[0..<n] = softmax(x[0..<n]); returns log Σ exp(x) (the log-sum-exp).
@discardableResult @inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    for j in 0..<n { m = max(m, x[j]) }
    let vm = F8(repeating: m)
    map8(n, x, out) { v in vexp(v - vm) }
    var s: Float = 0
    for j in 0..<n { s += out[j] }
    let inv = 1 / s
    for j in 0..<n { out[j] *= inv }
    return m + log(s)
}

import Foundation
