import Foundation

/// Causal multi-head self-attention as one fused op, with grouped-query heads (Ainslie et al. 2023):
/// O = softmax(Q·Kᵀ/√D + causal mask)·V per (batch, head); query head h reads key/value head h / (Hq/Hkv).
///
/// Shapes: q [B, Hq, T, D], k and v [B, Hkv, T, D] with Hkv dividing Hq → [B, Hq, T, D].
/// Per head the products run through single-threaded BLAS calls, heads in parallel on our own threads.
/// The probabilities P [B, Hq, T, T] are kept for backward:
/// dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = dS·K/√D, dK = dSᵀ·Q/√D
/// (the softmax backward as in FlashAttention, Dao et al. 2022, without the tiling).
public func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool = true) -> Tensor {
    guard q.shape.count == 4, k.shape == v.shape, k.shape.count == 4,
          q.shape[0] == k.shape[0], q.shape[2] == k.shape[2], q.shape[3] == k.shape[3],
          k.shape[1] > 0, q.shape[1] % k.shape[1] == 0 else {
        shapeFailure("attention", "expects q [B, Hq, T, D] and k, v [B, Hkv, T, D] with Hkv dividing Hq; got q \(q.shape), k \(k.shape), v \(v.shape)")
    }
    let b = q.shape[0], hq = q.shape[1], hkv = k.shape[1], t = q.shape[2], d = q.shape[3]
    let group = hq / hkv, scale = 1 / Float(d).squareRoot()
    let out = Tensor(uninitialized: q.shape)
    let needs = Tensor.needsGrad(q, k, v)
    // Probabilities: all of them when training, one T×T scratch per task otherwise.
    let probs = needs ? Tensor(uninitialized: [b, hq, t, t]) : nil
    let pq = q.pointer, pk = k.pointer, pv = v.pointer, po = out.pointer
    let tt = t * t, td = t * d

    BLAS.configure()
    do {
        Parallel.forEachChunk(b * hkv) { range in
            let scratch = probs == nil ? UnsafeMutablePointer<Float>.allocate(capacity: tt) : nil
            defer { scratch?.deallocate() }
            for task in range {
                let bi = task / hkv, kvh = task % hkv
                let kp = pk + (bi * hkv + kvh) * td, vp = pv + (bi * hkv + kvh) * td
                for g in 0..<group {
                    let h = bi * hq + kvh * group + g
                    let p = probs.map { $0.pointer + h * tt } ?? scratch!
                    gemmSerial(false, true, t, t, d, pq + h * td, kp, p, beta: 0, alpha: scale)   // S = Q·Kᵀ/√D
                    for i in 0..<t {
                        let row = p + i * t, valid = causal ? i + 1 : t
                        softmaxRow(row, row, valid)
                        if valid < t { (row + valid).update(repeating: 0, count: t - valid) }
                    }
                    gemmSerial(false, false, t, d, t, p, vp, po + h * td, beta: 0)                   // O = P·V
                }
            }
        }
    }
    if needs, let probs {
        out.record([q, k, v]) { out in
            let gO = out.grad!.pointer
            let gQ = q.gradPointer(), gK = k.gradPointer(), gV = v.gradPointer()
            let pp = probs.pointer
            do {
                Parallel.forEachChunk(b * hkv) { range in
                    let dP = UnsafeMutablePointer<Float>.allocate(capacity: tt)
                    defer { dP.deallocate() }
                    for task in range {
                        let bi = task / hkv, kvh = task % hkv
                        let off = (bi * hkv + kvh) * td
                        for g in 0..<group {
                            let h = bi * hq + kvh * group + g
                            let p = pp + h * tt, go = gO + h * td
                            gemmSerial(true, false, t, d, t, p, go, gV + off, beta: 1)             // dV += Pᵀ·dO
                            gemmSerial(false, true, t, t, d, go, pv + off, dP, beta: 0)            // dP = dO·Vᵀ
                            for i in 0..<t {
                                let pr = p + i * t, dr = dP + i * t, valid = causal ? i + 1 : t
                                let s = dot(pr, dr, valid)
                                for j in 0..<valid { dr[j] = pr[j] * (dr[j] - s) }
                                if valid < t { (dr + valid).update(repeating: 0, count: t - valid) }
                            }
                            gemmSerial(false, false, t, d, t, dP, pk + off, gQ + h * td, beta: 1, alpha: scale)  // dQ += dS·K/√D
                            gemmSerial(true, false, t, d, t, dP, pq + h * td, gK + off, beta: 1, alpha: scale)   // dK += dSᵀ·Q/√D
                        }
                    }
                }
            }
        }
    }
    return out
}

