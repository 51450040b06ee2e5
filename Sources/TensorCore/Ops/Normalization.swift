// Tunables (ALL_CAPS, one per line, with the range the search researcher may move them in): the tensorcore
// research template's moves. Changing one changes speed, never results beyond float summation order.
public let NORM_GRAIN_FLOATS = 4096             // range: 256..65536

/// RMSNorm and LayerNorm over the last dimension. x is [..., C]; weight and bias are [C].
///
/// Rows run in 8-lane vectors with a scalar tail. Backward makes one pass over the rows: the input
/// gradient and per-chunk partial sums for the weight (and bias) gradients, which are then added in
/// chunk order (deterministic for a fixed thread count).

/// Runs `body(rows, partial)` over fixed chunks of the rows in parallel, each with its own zeroed
/// `width`-float scratch; returns the scratch of all chunks ([chunks, width], caller deallocates) and the chunk count.
private func chunkedPartials(rows: Int, grain: Int, width: Int,
                             _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) -> (UnsafeMutablePointer<Float>, Int) {
    let chunks = Parallel.chunkCount(rows, grain: grain)
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: max(1, chunks * width))
    partial.initialize(repeating: 0, count: chunks * width)
    Parallel.forEachChunk(chunks) { cr in
        for c in cr { body((rows * c / chunks)..<(rows * (c + 1) / chunks), partial + c * width) }
    }
    return (partial, chunks)
}

/// out[j] += Σ_chunks partial[chunk·stride + offset + j], chunks in order.
@inline(__always)
private func addPartials(_ partial: UnsafeMutablePointer<Float>, chunks: Int, stride: Int, offset: Int, cols: Int,
                         into out: UnsafeMutablePointer<Float>) {
    for ch in 0..<chunks { addInPlace(cols, partial + ch * stride + offset, out) }
}

/// RMSNorm (Zhang & Sennrich 2019): y = x / √(mean(x²) + eps) ⊙ weight (weight optional).
/// Backward: with r = 1/√(mean(x²)+eps) and x̂ = x·r, gx = r·(gx̂ − x̂·mean(gx̂ ⊙ x̂)), gx̂ = g ⊙ weight;
/// g_weight = Σ_rows g ⊙ x̂.
public func rmsNorm(_ x: Tensor, weight: Tensor? = nil, eps: Float = 1e-6) -> Tensor {
    let c = x.lastDim, rows = x.count / c
    if let weight, weight.shape != [c] { shapeFailure("rmsNorm", "weight \(weight.shape) does not match input \(x.shape)") }
    let out = Tensor(uninitialized: x.shape)
    let rstd = Tensor(uninitialized: [rows])
    let px = x.pointer, po = out.pointer, pr = rstd.pointer, pw = weight?.pointer
    let grain = max(1, NORM_GRAIN_FLOATS / c)
    Parallel.forEachChunk(rows, grain: grain) { range in
        for row in range {
            let xr = px + row * c, yr = po + row * c
            let r = 1 / (dot(xr, xr, c) / Float(c) + eps).squareRoot()
            pr[row] = r
            let vr = F8(repeating: r)
            var j = 0
            if let pw {
                while j + 8 <= c { store8(load8(xr + j) * vr * load8(pw + j), yr + j); j += 8 }
                while j < c { yr[j] = xr[j] * r * pw[j]; j += 1 }
            } else {
                while j + 8 <= c { store8(load8(xr + j) * vr, yr + j); j += 8 }
                while j < c { yr[j] = xr[j] * r; j += 1 }
            }
        }
    }
    let inputs = weight.map { [x, $0] } ?? [x]
    if Tensor.needsGrad(x) || (weight?.requiresGrad ?? false) && GradMode.enabled {
        out.record(inputs) { out in
            let g = out.grad!.pointer, pr = rstd.pointer  // the closure keeps rstd alive
            let gxBuffer = x.requiresGrad ? x.gradBuffer() : nil
            let wantW = weight?.requiresGrad ?? false
            let (partial, chunks) = chunkedPartials(rows: rows, grain: grain, width: wantW ? c : 0) { range, accW in
                for row in range {
                    let xr = px + row * c, gr = g + row * c, r = pr[row]
                    if let (gx, acc) = gxBuffer {
                        let gxr = gx + row * c
                        // m = mean(gx̂ ⊙ x̂)·r = r²/C · Σ gx̂ ⊙ x, folded
                        var m: Float
                        if let pw {
                            var a = F8(repeating: 0), j = 0
                            while j + 8 <= c { a += load8(gr + j) * load8(pw + j) * load8(xr + j); j += 8 }
                            m = a.sum()
                            while j < c { m += gr[j] * pw[j] * xr[j]; j += 1 }
                        } else { m = dot(gr, xr, c) }
                        m *= r * r / Float(c)
                        let vr = F8(repeating: r), vm = F8(repeating: m)
                        var j = 0
                        while j + 8 <= c {
                            let gh = pw.map { load8(gr + j) * load8($0 + j) } ?? load8(gr + j)
                            let d = vr * (gh - load8(xr + j) * vm)
                            store8(acc ? load8(gxr + j) + d : d, gxr + j)
                            j += 8
                        }
                        while j < c {
                            let d = r * (gr[j] * (pw?[j] ?? 1) - xr[j] * m)
                            gxr[j] = acc ? gxr[j] + d : d
                            j += 1
                        }
                    }
                    if wantW {
                        let vr = F8(repeating: r)
                        var j = 0
                        while j + 8 <= c { store8(load8(accW + j) + load8(gr + j) * load8(xr + j) * vr, accW + j); j += 8 }
                        while j < c { accW[j] += gr[j] * xr[j] * r; j += 1 }
                    }
                }
            }
            if let weight, wantW { addPartials(partial, chunks: chunks, stride: c, offset: 0, cols: c, into: weight.gradPointer()) }
            partial.deallocate()
        }
    }
    return out
}

/// LayerNorm (Ba et al. 2016): y = (x − mean) / √(var + eps) ⊙ weight + bias (biased variance, as PyTorch).
/// Backward: gx = r·(gx̂ − mean(gx̂) − x̂·mean(gx̂ ⊙ x̂)) with gx̂ = g ⊙ weight;
/// g_weight = Σ_rows g ⊙ x̂, g_bias = Σ_rows g.
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let c = x.lastDim, rows = x.count / c
    guard weight.shape == [c], bias == nil || bias!.shape == [c] else {
        shapeFailure("layerNorm", "weight \(weight.shape) / bias \(bias?.shape ?? []) do not match input \(x.shape)")
    }
    let out = Tensor(uninitialized: x.shape)
    let xhat = Tensor(uninitialized: x.shape)
    let rstd = Tensor(uninitialized: [rows])
    let px = x.pointer, po = out.pointer, ph = xhat.pointer, pr = rstd.pointer, pw = weight.pointer, pb = bias?.pointer
    let grain = max(1, NORM_GRAIN_FLOATS / c)
    Parallel.forEachChunk(rows, grain: grain) { range in
        for row in range {
            let xr = px + row * c, yr = po + row * c, hr = ph + row * c
            let mean = vsum(xr, c) / Float(c)
            let vmean = F8(repeating: mean)
            var a = F8(repeating: 0), j = 0
            while j + 8 <= c { let d = load8(xr + j) - vmean; a += d * d; j += 8 }
            var v = a.sum()
            while j < c { let d = xr[j] - mean; v += d * d; j += 1 }
            let r = 1 / (v / Float(c) + eps).squareRoot()
            pr[row] = r
            let vr = F8(repeating: r)
            j = 0
            while j + 8 <= c {
                let h = (load8(xr + j) - vmean) * vr
                store8(h, hr + j)
                store8(pb.map { h * load8(pw + j) + load8($0 + j) } ?? h * load8(pw + j), yr + j)
                j += 8
            }
            while j < c {
                let h = (xr[j] - mean) * r
                hr[j] = h
                yr[j] = h * pw[j] + (pb?[j] ?? 0)
                j += 1
            }
        }
    }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    if GradMode.enabled && inputs.contains(where: { $0.requiresGrad }) {
        out.record(inputs) { out in
            let g = out.grad!.pointer, ph = xhat.pointer, pr = rstd.pointer  // the closure keeps both alive
            let gxBuffer = x.requiresGrad ? x.gradBuffer() : nil
            let wantW = weight.requiresGrad, wantB = bias?.requiresGrad ?? false
            // Per chunk: [weight partial (C) | bias partial (C)].
            let (partial, chunks) = chunkedPartials(rows: rows, grain: grain, width: 2 * c) { range, acc2 in
                let accW = acc2, accB = acc2 + c
                for row in range {
                    let hr = ph + row * c, gr = g + row * c
                    if let (gx, acc) = gxBuffer {
                        let gxr = gx + row * c, r = pr[row]
                        var a1 = F8(repeating: 0), a2 = F8(repeating: 0), j = 0
                        while j + 8 <= c {
                            let gh = load8(gr + j) * load8(pw + j)
                            a1 += gh; a2 += gh * load8(hr + j)
                            j += 8
                        }
                        var m1 = a1.sum(), m2 = a2.sum()
                        while j < c { let gh = gr[j] * pw[j]; m1 += gh; m2 += gh * hr[j]; j += 1 }
                        m1 /= Float(c); m2 /= Float(c)
                        let vr = F8(repeating: r), vm1 = F8(repeating: m1), vm2 = F8(repeating: m2)
                        j = 0
                        while j + 8 <= c {
                            let d = vr * (load8(gr + j) * load8(pw + j) - vm1 - load8(hr + j) * vm2)
                            store8(acc ? load8(gxr + j) + d : d, gxr + j)
                            j += 8
                        }
                        while j < c {
                            let d = r * (gr[j] * pw[j] - m1 - hr[j] * m2)
                            gxr[j] = acc ? gxr[j] + d : d
                            j += 1
                        }
                    }
                    if wantW {
                        var j = 0
                        while j + 8 <= c { store8(load8(accW + j) + load8(gr + j) * load8(hr + j), accW + j); j += 8 }
                        while j < c { accW[j] += gr[j] * hr[j]; j += 1 }
                    }
                    if wantB { addInPlace(c, gr, accB) }
                }
            }
            if wantW { addPartials(partial, chunks: chunks, stride: 2 * c, offset: 0, cols: c, into: weight.gradPointer()) }
            if let bias, wantB { addPartials(partial, chunks: chunks, stride: 2 * c, offset: c, cols: c, into: bias.gradPointer()) }
            partial.deallocate()
        }
    }
    return out
}
