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

/// out[0..<n] = softmax(x[0..<n]); returns log Σ exp(x) (the log-sum-exp). In 8-lane vectors: the
/// maximum, then exp(x − max) with its sum, then the scaling; fixed-order sums (deterministic).
@discardableResult @inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    var vmax = F8(repeating: -.infinity)
    var i = 0
    while i + 8 <= n { let v = load8(x + i); vmax.replace(with: v, where: v .> vmax); i += 8 }
    var m = vmax.max()
    while i < n { m = max(m, x[i]); i += 1 }
    let vm = F8(repeating: m)
    var acc = F8(repeating: 0)
    i = 0
    while i + 8 <= n {
        let e = vexp(load8(x + i) - vm)
        store8(e, out + i)
        acc += e
        i += 8
    }
    var s = acc.sum()
    if i < n {
        var v = F8(repeating: 0)
        for j in 0..<(n - i) { v[j] = x[i + j] }
        let e = vexp(v - vm)
        for j in 0..<(n - i) { out[i + j] = e[j]; s += e[j] }
    }
    let inv = 1 / s, vinv = F8(repeating: inv)
    i = 0
    while i + 8 <= n { store8(load8(out + i) * vinv, out + i); i += 8 }
    while i < n { out[i] *= inv; i += 1 }
    return m + log(s)
}

import Foundation
