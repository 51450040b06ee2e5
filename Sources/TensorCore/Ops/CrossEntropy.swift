import Foundation

/// How cross-entropy reduces over tokens.
public enum Reduction: Sendable { case mean, none }

/// Cross-entropy from logits: loss_i = logsumexp(logits_i) − logits_i[target_i], in nats.
/// Shapes: logits [N, V] (or [..., V]), targets N ints in 0..<V → [1] for `.mean`, [N] for `.none`.
/// Backward: g_i · (softmax(logits_i) − onehot(target_i)), divided by N for the mean.
public func crossEntropy(_ logits: Tensor, _ targets: [Int32], reduction: Reduction = .mean) -> Tensor {
    let v = logits.lastDim, n = logits.count / v
    guard targets.count == n else {
        shapeFailure("crossEntropy", "logits \(logits.shape) have \(n) rows but \(targets.count) targets were given")
    }
    if let bad = targets.first(where: { $0 < 0 || Int($0) >= v }) {
        shapeFailure("crossEntropy", "target \(bad) is outside the vocabulary of \(v) (logits \(logits.shape))")
    }
    let needs = Tensor.needsGrad(logits)
    let probs = needs ? Tensor(uninitialized: [n, v]) : nil
    let losses = Tensor(uninitialized: [n])
    let pl = logits.pointer, pp = probs?.pointer, pLoss = losses.pointer
    targets.withUnsafeBufferPointer { tp in
        Parallel.forEachChunk(n, grain: max(1, 4096 / v)) { r in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: v)
            defer { scratch.deallocate() }
            for i in r {
                let row = pl + i * v
                let lse = softmaxRow(row, pp.map { $0 + i * v } ?? scratch, v)
                pLoss[i] = lse - row[Int(tp[i])]
            }
        }
    }
    let out: Tensor
    switch reduction {
    case .none: out = losses
    case .mean:
        var total = 0.0
        for i in 0..<n { total += Double(pLoss[i]) }
        out = Tensor([Float(total / Double(n))], shape: [1])
    }
    if needs, let probs {
        out.record([logits]) { out in
            let g = out.grad!.pointer, (gl, acc) = logits.gradBuffer(), pp = probs.pointer
            targets.withUnsafeBufferPointer { tp in
                Parallel.forEachChunk(n, grain: max(1, 4096 / v)) { r in
                    for i in r {
                        let gi = reduction == .mean ? g[0] / Float(n) : g[i]
                        let src = pp + i * v, dst = gl + i * v
                        if acc { for j in 0..<v { dst[j] += gi * src[j] } } else { for j in 0..<v { dst[j] = gi * src[j] } }
                        dst[Int(tp[i])] -= gi
                    }
                }
            }
        }
    }
    return out
}
