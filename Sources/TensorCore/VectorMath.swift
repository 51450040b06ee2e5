/// Vectorised transcendental functions for the elementwise kernels (8 lanes: AVX2 width).
///
/// `vexp` uses the classic Cephes `expf` scheme: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial
/// for eʳ, and 2ⁿ assembled in the exponent bits; relative error below 2e-7 over [-87, 88].
typealias F8 = SIMD8<Float>

@inline(__always)
func vexp(_ x: F8) -> F8 {
    var x = x.replacing(with: -87.3, where: x .< -87.3)
    x.replace(with: 88.3, where: x .> 88.3)
    let n = (x * 1.442_695_04).rounded(.toNearestOrEven)
    // r = x − n·ln2, ln2 split in two for an exact reduction (fused multiply-adds throughout)
    var r = x.addingProduct(n, F8(repeating: -0.693_359_375))
    r = r.addingProduct(n, F8(repeating: 2.121_944_4e-4))
    // eʳ ≈ 1 + r + r²/2 + r³/6 + r⁴/24 + r⁵/120 + r⁶/720 (Horner)
    var p = F8(repeating: 1.0 / 120).addingProduct(F8(repeating: 1.0 / 720), r)
    p = F8(repeating: 1.0 / 24).addingProduct(p, r)
    p = F8(repeating: 1.0 / 6).addingProduct(p, r)
    p = F8(repeating: 0.5).addingProduct(p, r)
    p = F8(repeating: 1).addingProduct(p, r)
    p = F8(repeating: 1).addingProduct(p, r)
    // n is integral and |n| < 2²²: adding 1.5·2²³ puts it in the low mantissa bits (a branch-free convert).
    let ni = unsafeBitCast(n + 12_582_912, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let bits = (ni &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: F8.self)
}

/// tanh(x) = 1 − 2 / (e²ˣ + 1): exact limits ±1 for large |x|.
@inline(__always)
func vtanh(_ x: F8) -> F8 { 1 - 2 / (vexp(2 * x) + 1) }

/// σ(x) = 1 / (1 + e⁻ˣ).
@inline(__always)
func vsigmoid(_ x: F8) -> F8 { 1 / (1 + vexp(-x)) }

/// Scalar versions through the same kernels, so scalar tails give bit-identical results.
@inline(__always) func sexp(_ x: Float) -> Float { vexp(F8(repeating: x))[0] }
@inline(__always) func stanh(_ x: Float) -> Float { vtanh(F8(repeating: x))[0] }

/// Applies `f` lane-wise over `n` floats: out[i] = f(in[i]); a zero-padded vector handles the tail.
@inline(__always)
func map8(_ n: Int, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ f: (F8) -> F8) {
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(input + i).loadUnaligned(as: F8.self)
        UnsafeMutableRawPointer(output + i).storeBytes(of: f(v), as: F8.self)
        i += 8
    }
    if i < n {
        var v = F8(repeating: 0)
        for j in 0..<(n - i) { v[j] = input[i + j] }
        let r = f(v)
        for j in 0..<(n - i) { output[i + j] = r[j] }
    }
}

/// Like `map8` with two inputs: out[i] = f(a[i], b[i]).
@inline(__always)
func zip8(_ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ f: (F8, F8) -> F8) {
    var i = 0
    while i + 8 <= n {
        let va = UnsafeRawPointer(a + i).loadUnaligned(as: F8.self)
        let vb = UnsafeRawPointer(b + i).loadUnaligned(as: F8.self)
        UnsafeMutableRawPointer(output + i).storeBytes(of: f(va, vb), as: F8.self)
        i += 8
    }
    if i < n {
        var va = F8(repeating: 0), vb = F8(repeating: 0)
        for j in 0..<(n - i) { va[j] = a[i + j]; vb[j] = b[i + j] }
        let r = f(va, vb)
        for j in 0..<(n - i) { output[i + j] = r[j] }
    }
}

/// Dot product of two length-`n` vectors, 8 lanes then a fixed-order horizontal sum.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = F8(repeating: 0)
    var i = 0
    while i + 8 <= n {
        acc += UnsafeRawPointer(a + i).loadUnaligned(as: F8.self) * UnsafeRawPointer(b + i).loadUnaligned(as: F8.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// y[0..<n] += alpha · x[0..<n].
@inline(__always)
func axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    var i = 0
    let va = F8(repeating: alpha)
    while i + 8 <= n {
        let vy = UnsafeRawPointer(y + i).loadUnaligned(as: F8.self) + va * UnsafeRawPointer(x + i).loadUnaligned(as: F8.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: vy, as: F8.self)
        i += 8
    }
    while i < n { y[i] += alpha * x[i]; i += 1 }
}

/// y[0..<n] += x[0..<n].
@inline(__always)
func addInPlace(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(y + i).loadUnaligned(as: F8.self) + UnsafeRawPointer(x + i).loadUnaligned(as: F8.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: F8.self)
        i += 8
    }
    while i < n { y[i] += x[i]; i += 1 }
}

/// Sum of x[0..<n]: two 8-lane accumulators, then a fixed-order horizontal sum and the scalar tail.
@inline(__always)
func vsum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = F8(repeating: 0), a1 = F8(repeating: 0)
    var i = 0
    while i + 16 <= n {
        a0 += UnsafeRawPointer(x + i).loadUnaligned(as: F8.self)
        a1 += UnsafeRawPointer(x + i + 8).loadUnaligned(as: F8.self)
        i += 16
    }
    if i + 8 <= n { a0 += UnsafeRawPointer(x + i).loadUnaligned(as: F8.self); i += 8 }
    var s = (a0 + a1).sum()
    while i < n { s += x[i]; i += 1 }
    return s
}

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> F8 { UnsafeRawPointer(p).loadUnaligned(as: F8.self) }
@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>) -> F8 { UnsafeRawPointer(p).loadUnaligned(as: F8.self) }
@inline(__always) func store8(_ v: F8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self) }
