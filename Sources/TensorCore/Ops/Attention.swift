import Foundation

// Tunables (ALL_CAPS, one per line, with the range the search researcher may move them in): the tensorcore
// research template's moves. Changing one changes speed, never results beyond float summation order.
public let ATTENTION_TASK_GRAIN = 1             // range: 1..16
public let ATTENTION_CHUNKS_PER_THREAD = 4     // range: 1..16

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
    Parallel.forEachChunk(b * hkv, grain: ATTENTION_TASK_GRAIN, perThread: ATTENTION_CHUNKS_PER_THREAD) { range in
        let scratch = probs == nil ? UnsafeMutablePointer<Float>.allocate(capacity: tt) : nil
        defer { scratch?.deallocate() }
        for task in range {
            let bi = task / hkv, kvh = task % hkv
            let kp = pk + (bi * hkv + kvh) * td, vp = pv + (bi * hkv + kvh) * td
            for g in 0..<group {
                let h = bi * hq + kvh * group + g
                let p = probs.map { $0.pointer + h * tt } ?? scratch!
                attentionForwardHead(q: pq + h * td, k: kp, v: vp, out: po + h * td, probs: p, t: t, d: d, scale: scale, causal: causal)
            }
        }
    }
    if needs, let probs {
        out.record([q, k, v]) { out in
            let gO = out.grad!.pointer
            // Fresh gradients are overwritten, not zero-filled; if q, k, v are not three distinct tensors
            // their gradients share a buffer, so every write accumulates into zeros instead.
            let distinct = q !== k && q !== v && k !== v
            let (gQ, accQ) = distinct ? q.gradBuffer() : (q.gradPointer(), true)
            let (gK, accK) = distinct ? k.gradBuffer() : (k.gradPointer(), true)
            let (gV, accV) = distinct ? v.gradBuffer() : (v.gradPointer(), true)
            let pp = probs.pointer
            Parallel.forEachChunk(b * hkv, grain: ATTENTION_TASK_GRAIN, perThread: ATTENTION_CHUNKS_PER_THREAD) { range in
                let dP = UnsafeMutablePointer<Float>.allocate(capacity: tt)
                defer { dP.deallocate() }
                for task in range {
                    let bi = task / hkv, kvh = task % hkv
                    let off = (bi * hkv + kvh) * td
                    for g in 0..<group {
                        let h = bi * hq + kvh * group + g
                        attentionBackwardHead(q: pq + h * td, k: pk + off, v: pv + off, probs: pp + h * tt, gOut: gO + h * td,
                                              gQ: gQ + h * td, gK: gK + off, gV: gV + off, dP: dP, t: t, d: d, scale: scale, causal: causal,
                                              accumulateQ: accQ, accumulateK: accK || g > 0, accumulateV: accV || g > 0)
                    }
                }
            }
        }
    }
    return out
}

/// Multi-head self-attention straight from a fused q/k/v projection, as nanoGPT's CausalSelfAttention
/// after `c_attn`: the same computation as
/// `mergeHeads(attention(splitHeads(q, heads), splitHeads(k, heads), splitHeads(v, heads), causal:))`
/// where q, k, v are the three C-wide thirds of the last dimension, but without the layout copies:
/// the per-(batch, head) products read q, k, v and write the output (and, in backward, the gradients)
/// in place through BLAS leading dimensions.
///
/// Shapes: qkv [B, T, 3·C] (q | k | v along the last dimension, head h of each in columns h·D..<(h+1)·D,
/// D = C / heads) → [B, T, C] (heads side by side, ready for the output projection).
/// Algorithm and backward as ``attention(_:_:_:causal:)``.
public func fusedSelfAttention(_ qkv: Tensor, heads: Int, causal: Bool = true) -> Tensor {
    guard qkv.shape.count == 3, heads > 0, qkv.shape[2] % (3 * heads) == 0 else {
        shapeFailure("fusedSelfAttention", "expects qkv [B, T, 3·C] with 3·heads (\(3 * heads)) dividing the last dim, got \(qkv.shape)")
    }
    let b = qkv.shape[0], t = qkv.shape[1], c = qkv.shape[2] / 3, d = c / heads
    let scale = 1 / Float(d).squareRoot()
    let out = Tensor(uninitialized: [b, t, c])
    let needs = Tensor.needsGrad(qkv)
    let tt = t * t
    let probs = needs ? Tensor(uninitialized: [b, heads, t, t]) : nil
    let px = qkv.pointer, po = out.pointer
    let ld = 3 * c
    BLAS.configure()
    Parallel.forEachChunk(b * heads, grain: ATTENTION_TASK_GRAIN, perThread: ATTENTION_CHUNKS_PER_THREAD) { range in
        let scratch = probs == nil ? UnsafeMutablePointer<Float>.allocate(capacity: tt) : nil
        defer { scratch?.deallocate() }
        for task in range {
            let bi = task / heads, h = task % heads
            let base = px + bi * t * ld + h * d
            let p = probs.map { $0.pointer + task * tt } ?? scratch!
            attentionForwardHead(q: base, k: base + c, v: base + 2 * c, out: po + bi * t * c + h * d, probs: p,
                                 t: t, d: d, scale: scale, causal: causal, ldq: ld, ldkv: ld, ldo: c)
        }
    }
    if needs, let probs {
        out.record([qkv]) { out in
            let gO = out.grad!.pointer, (gX, acc) = qkv.gradBuffer(), pp = probs.pointer
            Parallel.forEachChunk(b * heads, grain: ATTENTION_TASK_GRAIN, perThread: ATTENTION_CHUNKS_PER_THREAD) { range in
                let dP = UnsafeMutablePointer<Float>.allocate(capacity: tt)
                defer { dP.deallocate() }
                for task in range {
                    let bi = task / heads, h = task % heads
                    let off = bi * t * ld + h * d
                    attentionBackwardHead(q: px + off, k: px + off + c, v: px + off + 2 * c, probs: pp + task * tt,
                                          gOut: gO + bi * t * c + h * d, gQ: gX + off, gK: gX + off + c, gV: gX + off + 2 * c,
                                          dP: dP, t: t, d: d, scale: scale, causal: causal,
                                          accumulateQ: acc, accumulateK: acc, accumulateV: acc, ldq: ld, ldkv: ld, ldo: c)
                }
            }
        }
    }
    return out
}

/// Query rows are processed in blocks of this many; with a causal mask a block only multiplies
/// against the keys up to its last row, which skips most of the masked upper triangle.
let attentionBlock = 64

/// One head: S = Q·Kᵀ·scale, P = softmax(S) (masked), O = P·V. q, out: [T, D]; k, v: [T, D]; probs: [T, T].
/// Entries of P above the diagonal are left unwritten by causal blocks and never read.
@inline(__always)
func attentionForwardHead(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                          probs p: UnsafeMutablePointer<Float>, t: Int, d: Int, scale: Float, causal: Bool,
                          ldq: Int? = nil, ldkv: Int? = nil, ldo: Int? = nil) {
    let ldq = ldq ?? d, ldkv = ldkv ?? d, ldo = ldo ?? d
    var r0 = 0
    while r0 < t {
        let r1 = min(t, r0 + attentionBlock), rows = r1 - r0
        let keys = causal ? r1 : t
        let pb = p + r0 * t
        BLAS.sgemm(transA: false, transB: true, m: rows, n: keys, k: d, alpha: scale, a: q + r0 * ldq, lda: ldq,
                   b: k, ldb: ldkv, beta: 0, c: pb, ldc: t)                                // S = Q·Kᵀ/√D
        for i in r0..<r1 {
            let row = p + i * t, valid = causal ? i + 1 : t
            softmaxRow(row, row, valid)
            if valid < keys { (row + valid).update(repeating: 0, count: keys - valid) }
        }
        BLAS.sgemm(transA: false, transB: false, m: rows, n: d, k: keys, alpha: 1, a: pb, lda: t,
                   b: v, ldb: ldkv, beta: 0, c: out + r0 * ldo, ldc: ldo)                   // O = P·V
        r0 = r1
    }
}

/// One head's backward, block by block as in the forward: dV += Pᵀ·dO, dP = dO·Vᵀ,
/// dS = P ⊙ (dP − rowsum(P ⊙ dP)), dQ += dS·K·scale, dK += dSᵀ·Q·scale. dP: [T, T] scratch.
/// Blocks run last to first: the last block reaches every key, so with `accumulateK`/`accumulateV`
/// false it overwrites all of dK/dV (beta 0) and the earlier blocks add to them; dQ's rows are
/// written by one block each (beta 0 unless `accumulateQ`).
@inline(__always)
func attentionBackwardHead(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, probs p: UnsafePointer<Float>,
                           gOut: UnsafePointer<Float>, gQ: UnsafeMutablePointer<Float>, gK: UnsafeMutablePointer<Float>,
                           gV: UnsafeMutablePointer<Float>, dP: UnsafeMutablePointer<Float>, t: Int, d: Int, scale: Float, causal: Bool,
                           accumulateQ: Bool = true, accumulateK: Bool = true, accumulateV: Bool = true,
                           ldq: Int? = nil, ldkv: Int? = nil, ldo: Int? = nil) {
    let ldq = ldq ?? d, ldkv = ldkv ?? d, ldo = ldo ?? d
    let betaQ: Float = accumulateQ ? 1 : 0
    var betaK: Float = accumulateK ? 1 : 0, betaV: Float = accumulateV ? 1 : 0
    var r0 = (t - 1) / attentionBlock * attentionBlock
    while r0 >= 0 {
        defer { r0 -= attentionBlock; betaK = 1; betaV = 1 }
        let r1 = min(t, r0 + attentionBlock), rows = r1 - r0
        let keys = causal ? r1 : t
        let pb = p + r0 * t, go = gOut + r0 * ldo
        BLAS.sgemm(transA: true, transB: false, m: keys, n: d, k: rows, alpha: 1, a: pb, lda: t,
                   b: go, ldb: ldo, beta: betaV, c: gV, ldc: ldkv)                               // dV += Pᵀ·dO
        BLAS.sgemm(transA: false, transB: true, m: rows, n: keys, k: d, alpha: 1, a: go, lda: ldo,
                   b: v, ldb: ldkv, beta: 0, c: dP, ldc: keys)                                 // dP = dO·Vᵀ
        for i in r0..<r1 {
            let pr = p + i * t, dr = dP + (i - r0) * keys, valid = causal ? i + 1 : t
            let s = dot(pr, dr, valid)
            for j in 0..<valid { dr[j] = pr[j] * (dr[j] - s) }
            if valid < keys { (dr + valid).update(repeating: 0, count: keys - valid) }
        }
        BLAS.sgemm(transA: false, transB: false, m: rows, n: d, k: keys, alpha: scale, a: dP, lda: keys,
                   b: k, ldb: ldkv, beta: betaQ, c: gQ + r0 * ldq, ldc: ldq)                       // dQ += dS·K/√D
        BLAS.sgemm(transA: true, transB: false, m: keys, n: d, k: rows, alpha: scale, a: dP, lda: keys,
                   b: q + r0 * ldq, ldb: ldq, beta: betaK, c: gK, ldc: ldkv)                       // dK += dSᵀ·Q/√D
    }
}
