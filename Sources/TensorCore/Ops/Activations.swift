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
/// 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), computed as x·s with s = σ(2u)
/// (the same function: 0.5·(1 + tanh(u)) = σ(2u)). Forward keeps s for backward, so backward needs no exp:
/// d/dx = s + x·s·(1 − s)·2u′, u′ = √(2/π)·(1 + 0.134145·x²).
public func gelu(_ x: Tensor) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let needs = Tensor.needsGrad(x)
    let sig = needs ? Tensor(uninitialized: x.shape) : nil
    let px = x.pointer, po = out.pointer, ps = sig?.pointer
    @inline(__always) func s(_ v: F8) -> F8 { 1 / (1 + vexp(-2 * geluC * (v + 0.044715 * (v * v * v)))) }
    Parallel.forEachChunk(x.count, grain: 8192) { r in
        let o = r.lowerBound
        guard let ps else { map8(r.count, px + o, po + o) { v in v * s(v) }; return }
        var i = 0
        while i + 8 <= r.count {
            let v = load8(px + o + i), sv = s(v)
            store8(sv, ps + o + i); store8(v * sv, po + o + i)
            i += 8
        }
        while i < r.count { let sv = s(F8(repeating: px[o + i]))[0]; ps[o + i] = sv; po[o + i] = px[o + i] * sv; i += 1 }
    }
    if needs, let sig {
        out.record([x]) { out in
            let g = out.grad!.pointer, (gx, accumulate) = x.gradBuffer(), ps = sig.pointer
            Parallel.forEachChunk(x.count, grain: 8192) { r in
                @inline(__always) func d(_ v: F8, _ s: F8) -> F8 { s + v * s * (1 - s) * (2 * geluC) * (1 + 0.134145 * v * v) }
                let o = r.lowerBound, n = r.count
                var i = 0
                while i + 8 <= n {
                    let dv = load8(g + o + i) * d(load8(px + o + i), load8(ps + o + i))
                    store8(accumulate ? load8(gx + o + i) + dv : dv, gx + o + i)
                    i += 8
                }
                while i < n {
                    let dv = g[o + i] * d(F8(repeating: px[o + i]), F8(repeating: ps[o + i]))[0]
                    gx[o + i] = accumulate ? gx[o + i] + dv : dv
                    i += 1
                }
            }
        }
    }
    return out
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
