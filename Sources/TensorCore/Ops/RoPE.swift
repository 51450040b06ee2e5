import Foundation

/// Rotary position embedding (Su et al. 2021, RoFormer), half-split layout as in GPT-NeoX / Llama:
/// for i < D/2, (x_i, x_{i+D/2}) is rotated by the angle t·base^(−2i/D) at position t.
/// x is [B, H, T, D] with D even; output the same shape. Backward rotates the gradient by −angle.
public func rope(_ x: Tensor, base: Float = 10000) -> Tensor {
    guard x.shape.count == 4, x.shape[3] % 2 == 0 else { shapeFailure("rope", "expects [B, H, T, D] with D even, got \(x.shape)") }
    let t = x.shape[2], d = x.shape[3], half = d / 2, rows = x.count / d
    let (cosT, sinT) = RopeTables.get(t: t, d: d, base: base)
    let out = Tensor(uninitialized: x.shape)
    let px = x.pointer, po = out.pointer
    Parallel.forEachChunk(rows, grain: max(1, 4096 / d)) { r in
        for row in r {
            let pos = row % t, c = cosT + pos * half, s = sinT + pos * half
            let xr = px + row * d, yr = po + row * d
            for i in 0..<half {
                let x1 = xr[i], x2 = xr[i + half]
                yr[i] = x1 * c[i] - x2 * s[i]
                yr[i + half] = x1 * s[i] + x2 * c[i]
            }
        }
    }
    if Tensor.needsGrad(x) {
        out.record([x]) { out in
            let g = out.grad!.pointer, (gx, acc) = x.gradBuffer()
            Parallel.forEachChunk(rows, grain: max(1, 4096 / d)) { r in
                for row in r {
                    let pos = row % t, c = cosT + pos * half, s = sinT + pos * half
                    let gr = g + row * d, gxr = gx + row * d
                    for i in 0..<half {
                        let g1 = gr[i], g2 = gr[i + half]
                        let y1 = g1 * c[i] + g2 * s[i], y2 = -g1 * s[i] + g2 * c[i]
                        if acc { gxr[i] += y1; gxr[i + half] += y2 } else { gxr[i] = y1; gxr[i + half] = y2 }
                    }
                }
            }
        }
    }
    return out
}

/// cos/sin tables [T, D/2] per (T, D, base), computed once in Double and kept for the process.
enum RopeTables {
    private struct Key: Hashable { let t: Int, d: Int, base: Float }
    nonisolated(unsafe) private static var cache: [Key: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)] = [:]
    private static let lock = NSLock()

    static func get(t: Int, d: Int, base: Float) -> (UnsafePointer<Float>, UnsafePointer<Float>) {
        lock.lock(); defer { lock.unlock() }
        let key = Key(t: t, d: d, base: base)
        if let v = cache[key] { return (UnsafePointer(v.0), UnsafePointer(v.1)) }
        let half = d / 2
        let c = UnsafeMutablePointer<Float>.allocate(capacity: t * half), s = UnsafeMutablePointer<Float>.allocate(capacity: t * half)
        for pos in 0..<t {
            for i in 0..<half {
                let angle = Double(pos) * pow(Double(base), -2 * Double(i) / Double(d))
                c[pos * half + i] = Float(cos(angle)); s[pos * half + i] = Float(sin(angle))
            }
        }
        cache[key] = (c, s)
        return (UnsafePointer(c), UnsafePointer(s))
    }
}
