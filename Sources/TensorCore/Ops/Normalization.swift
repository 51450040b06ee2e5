/// RMSNorm and LayerNorm over the last dimension. x is [..., C]; weight and bias are [C].

/// Sums per-chunk partial column sums in chunk order (deterministic for a fixed thread count).
private func columnReduce(rows: Int, cols: Int, grain: Int, into out: UnsafeMutablePointer<Float>,
                          _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
    let chunks = Parallel.chunkCount(rows, grain: grain)
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * cols)
    partial.initialize(repeating: 0, count: chunks * cols)
    defer { partial.deallocate() }
    Parallel.forEachChunk(chunks) { cr in
        for c in cr { body((rows * c / chunks)..<(rows * (c + 1) / chunks), partial + c * cols) }
    }
    for c in 0..<chunks { for j in 0..<cols { out[j] += partial[c * cols + j] } }
}

/// RMSNorm (Zhang & Sennrich 2019): y = x / √(mean(x²) + eps) ⊙ weight (weight optional).
/// Backward: with r = 1/√(mean(x²)+eps) and x̂ = x·r, gx = r·(gx̂ − x̂·mean(gx̂ ⊙ x̂)), gx̂ = g ⊙ weight.
public func rmsNorm(_ x: Tensor, weight: Tensor? = nil, eps: Float = 1e-6) -> Tensor {
    let c = x.lastDim, rows = x.count / c
    if let weight, weight.shape != [c] { shapeFailure("rmsNorm", "weight \(weight.shape) does not match input \(x.shape)") }
    let out = Tensor(uninitialized: x.shape)
    let rstd = Tensor(uninitialized: [rows])
    let px = x.pointer, po = out.pointer, pr = rstd.pointer, pw = weight?.pointer
    let grain = max(1, 4096 / c)
    Parallel.forEachChunk(rows, grain: grain) { range in
        for row in range {
            let xr = px + row * c, yr = po + row * c
            let r = 1 / (dot(xr, xr, c) / Float(c) + eps).squareRoot()
            pr[row] = r
            if let pw { for j in 0..<c { yr[j] = xr[j] * r * pw[j] } } else { for j in 0..<c { yr[j] = xr[j] * r } }
        }
    }
    let inputs = weight.map { [x, $0] } ?? [x]
    if Tensor.needsGrad(x) || (weight?.requiresGrad ?? false) && GradMode.enabled {
        out.record(inputs) { out in
            let g = out.grad!.pointer, pr = rstd.pointer  // the closure keeps rstd alive
            if x.requiresGrad {
                let gx = x.gradPointer()
                Parallel.forEachChunk(rows, grain: grain) { range in
                    for row in range {
                        let xr = px + row * c, gr = g + row * c, gxr = gx + row * c, r = pr[row]
                        var m: Float = 0
                        if let pw { for j in 0..<c { m += gr[j] * pw[j] * xr[j] } } else { m = dot(gr, xr, c) }
                        m *= r * r / Float(c)   // mean(gx̂ ⊙ x̂)·r, folded
                        if let pw { for j in 0..<c { gxr[j] += r * (gr[j] * pw[j] - xr[j] * m) } }
                        else { for j in 0..<c { gxr[j] += r * (gr[j] - xr[j] * m) } }
                    }
                }
            }
            if let weight, weight.requiresGrad {
                columnReduce(rows: rows, cols: c, grain: grain, into: weight.gradPointer()) { range, acc in
                    for row in range {
                        let xr = px + row * c, gr = g + row * c, r = pr[row]
                        for j in 0..<c { acc[j] += gr[j] * xr[j] * r }
                    }
                }
            }
        }
    }
    return out
}

/// LayerNorm (Ba et al. 2016): y = (x − mean) / √(var + eps) ⊙ weight + bias (biased variance, as PyTorch).
/// Backward: gx = r·(gx̂ − mean(gx̂) − x̂·mean(gx̂ ⊙ x̂)).
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let c = x.lastDim, rows = x.count / c
    guard weight.shape == [c], bias == nil || bias!.shape == [c] else {
        shapeFailure("layerNorm", "weight \(weight.shape) / bias \(bias?.shape ?? []) do not match input \(x.shape)")
    }
    let out = Tensor(uninitialized: x.shape)
    let xhat = Tensor(uninitialized: x.shape)
    let rstd = Tensor(uninitialized: [rows])
    let px = x.pointer, po = out.pointer, ph = xhat.pointer, pr = rstd.pointer, pw = weight.pointer, pb = bias?.pointer
    let grain = max(1, 4096 / c)
    Parallel.forEachChunk(rows, grain: grain) { range in
        for row in range {
            let xr = px + row * c, yr = po + row * c, hr = ph + row * c
            var mean: Float = 0
            for j in 0..<c { mean += xr[j] }
            mean /= Float(c)
            var v: Float = 0
            for j in 0..<c { let d = xr[j] - mean; v += d * d }
            let r = 1 / (v / Float(c) + eps).squareRoot()
            pr[row] = r
            for j in 0..<c {
                let h = (xr[j] - mean) * r
                hr[j] = h
                yr[j] = h * pw[j] + (pb?[j] ?? 0)
            }
        }
    }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    if GradMode.enabled && inputs.contains(where: { $0.requiresGrad }) {
        out.record(inputs) { out in
            let g = out.grad!.pointer, ph = xhat.pointer, pr = rstd.pointer  // the closure keeps both alive
            if x.requiresGrad {
                let gx = x.gradPointer()
                Parallel.forEachChunk(rows, grain: grain) { range in
                    for row in range {
                        let hr = ph + row * c, gr = g + row * c, gxr = gx + row * c, r = pr[row]
                        var m1: Float = 0, m2: Float = 0
                        for j in 0..<c { let gh = gr[j] * pw[j]; m1 += gh; m2 += gh * hr[j] }
                        m1 /= Float(c); m2 /= Float(c)
                        for j in 0..<c { gxr[j] += r * (gr[j] * pw[j] - m1 - hr[j] * m2) }
                    }
                }
            }
            if weight.requiresGrad {
                columnReduce(rows: rows, cols: c, grain: grain, into: weight.gradPointer()) { range, acc in
                    for row in range { let hr = ph + row * c, gr = g + row * c; for j in 0..<c { acc[j] += gr[j] * hr[j] } }
                }
            }
            if let bias, bias.requiresGrad {
                columnReduce(rows: rows, cols: c, grain: grain, into: bias.gradPointer()) { range, acc in
                    for row in range { let gr = g + row * c; for j in 0..<c { acc[j] += gr[j] } }
                }
            }
        }
    }
    return out
}
