/// Pointwise activations, each forward and backward side by side. x is any shape; the output has x's shape.

/// Shared scaffolding: out = f(x) lane-wise; backward gx += g ⊙ f'(x), both chunked over threads.
@inline(__always)
private func pointwise(_ x: Tensor, forward: @escaping (F8) -> F8, derivative: @escaping (F8) -> F8) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let px = x.pointer, po = out.pointer
    Parallel.forEachChunk(x.count, grain: 8192) { r in map8(r.count, px + r.lowerBound, po + r.lowerBound, forward) }
    if Tensor.needsGrad(x) {
        out.record([x]) { out in
            let g = out.grad!.pointer, (gx, accumulate) = x.gradBuffer()
            Parallel.forEachChunk(x.count, grain: 8192) { r in
                let o = r.lowerBound
                var i = 0
                let n = r.count
                while i + 8 <= n {
                    let d = load8(g + o + i) * derivative(load8(px + o + i))
                    store8(accumulate ? load8(gx + o + i) + d : d, gx + o + i)
                    i += 8
                }
                while i < n {
                    let d = g[o + i] * derivative(F8(repeating: px[o + i]))[0]
                    gx[o + i] = accumulate ? gx[o + i] + d : d
                    i += 1
                }
            }
        }
    }
    return out
}

private let geluC: Float = 0.797_884_56  // √(2/π)

/// GELU, tanh approximation (Hendrycks & Gimpel 2016; as in GPT-2 and nanoGPT):
/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
public func gelu(_ x: Tensor) -> Tensor {
    pointwise(x, forward: { v in
        let v3: F8 = v * v * v
        let t: F8 = vtanh(geluC * (v + 0.044715 * v3))
        return 0.5 * v * (1 + t)
    }, derivative: { v in
        let v2: F8 = v * v
        let t: F8 = vtanh(geluC * (v + 0.044715 * v2 * v))
        let du: F8 = geluC * (1 + 0.134145 * v2)
        let left: F8 = 0.5 * (1 + t)
        return left + 0.5 * v * (1 - t * t) * du
    })
}

/// ReLU: max(0, x).
public func relu(_ x: Tensor) -> Tensor {
    pointwise(x, forward: { v in v.replacing(with: 0, where: v .< 0) },
              derivative: { v in F8(repeating: 1).replacing(with: 0, where: v .<= 0) })
}

/// ReLU squared: max(0, x)² (So et al. 2021, "Primer"; used by modded-nanogpt and autoresearch).
public func reluSquared(_ x: Tensor) -> Tensor {
    pointwise(x, forward: { v in let r = v.replacing(with: 0, where: v .< 0); return r * r },
              derivative: { v in (2 * v).replacing(with: 0, where: v .< 0) })
}

/// SiLU (swish): x·σ(x) (Elfwing et al. 2017).
public func silu(_ x: Tensor) -> Tensor {
    pointwise(x, forward: { v in v * vsigmoid(v) },
              derivative: { v in let s = vsigmoid(v); return s * (1 + v * (1 - s)) })
}

/// tanh.
public func tanh(_ x: Tensor) -> Tensor {
    pointwise(x, forward: { v in vtanh(v) }, derivative: { v in let t = vtanh(v); return 1 - t * t })
}

/// Logit soft-capping: cap·tanh(x / cap) (Gemma 2; modded-nanogpt). Bounds |x| below `cap`.
public func softcap(_ x: Tensor, cap: Float) -> Tensor {
    let inv = 1 / cap
    return pointwise(x, forward: { v in cap * vtanh(v * inv) },
                     derivative: { v in let t = vtanh(v * inv); return 1 - t * t })
}
