// Gate.swift — fixed. The correctness gate's machinery: named checks, finite-difference gradient checks (every
// element of small inputs, and random directions through large ones) and comparisons with plain reference loops.
import Foundation
import TensorCore

/// A failed check's detail.
struct CheckFailure: Error { let detail: String }

/// Runs named checks; the first failure ends the process with `FAIL: gate: <check>: <detail>` (the line the
/// harness records as the crash's reason) before anything is timed.
struct Gate {
    private(set) var passed: [String] = []
    /// Each tunable's name → the checks that ran its code on both sides of its value (see Tunables.swift).
    private(set) var exercised: [String: [String]] = [:]

    mutating func check(_ name: String, exercises tunables: [String] = [], _ body: () throws -> Void) {
        do { try body() } catch let failure as CheckFailure {
            print("FAIL: gate: \(name): \(failure.detail)")
            exit(1)
        } catch {
            print("FAIL: gate: \(name): \(error)")
            exit(1)
        }
        passed.append(name)
        for t in tunables { exercised[t, default: []].append(name) }
    }
}

func randn(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var rng = RNG(seed: seed)
    return Tensor.randn(shape, std: std, rng: &rng)
}

/// Values with |x| in [0.2, 1.2] (for ops with a kink at 0).
func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = RNG(seed: seed)
    let t = Tensor.zeros(shape)
    for i in 0..<t.count { let u = 0.2 + rng.uniform(); t.pointer[i] = rng.uniform() < 0.5 ? -u : u }
    return t
}

/// L = Σ f(inputs) ⊙ R for a fixed random R, in Double, without recording a graph.
private func probeLoss(_ inputs: [Tensor], _ r: Tensor, _ f: ([Tensor]) -> Tensor) -> Double {
    let out = Tensor.noGrad { f(inputs) }
    var s = 0.0
    for i in 0..<out.count { s += Double(out.pointer[i]) * Double(r.pointer[i]) }
    return s
}

/// The analytic gradients of L = Σ f(inputs) ⊙ R, and R.
private func analyticGradients(_ inputs: [Tensor], _ f: ([Tensor]) -> Tensor) throws -> ([Tensor], Tensor) {
    for t in inputs { t.requiresGrad = true; t.clearGrad() }
    var rng = RNG(seed: 99)
    let r = Tensor.randn(Tensor.noGrad { f(inputs) }.shape, rng: &rng)
    sum(mul(f(inputs), r)).backward()
    var grads: [Tensor] = []
    for (n, t) in inputs.enumerated() {
        guard let g = t.grad else { throw CheckFailure(detail: "input \(n) got no gradient") }
        grads.append(g.detached())
    }
    return (grads, r)
}

/// Every element's analytic gradient against central differences (h = 1e-2):
/// |analytic − numeric| ≤ atol + rtol·|numeric|, atol = 2e-3 and rtol = 2e-2 unless given.
func gradientCheck(_ inputs: [Tensor], h: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                   _ f: ([Tensor]) -> Tensor) throws {
    let (grads, r) = try analyticGradients(inputs, f)
    for (n, t) in inputs.enumerated() {
        for i in 0..<t.count {
            let saved = t.pointer[i]
            t.pointer[i] = saved + h; let up = probeLoss(inputs, r, f)
            t.pointer[i] = saved - h; let down = probeLoss(inputs, r, f)
            t.pointer[i] = saved
            let numeric = Float((up - down) / (2 * Double(h))), analytic = grads[n].pointer[i]
            if abs(analytic - numeric) > atol + rtol * abs(numeric) {
                throw CheckFailure(detail: "input \(n) element \(i): analytic gradient \(analytic), finite difference \(numeric)")
            }
        }
    }
}

/// For inputs too large to perturb one element at a time: the derivative along 3 random ±1 directions u (all inputs
/// at once), (L(x + h·u) − L(x − h·u)) / 2h against ⟨∇L, u⟩, within 1e-2 · ‖∇L‖ + 1e-3 (a sign error or a skipped
/// part of a gradient moves ⟨∇L, u⟩ by about ‖∇L‖ or a large fraction of it).
func directionalCheck(_ inputs: [Tensor], h: Float = 1e-2, _ f: ([Tensor]) -> Tensor) throws {
    let (grads, r) = try analyticGradients(inputs, f)
    var norm2 = 0.0
    for g in grads { for i in 0..<g.count { norm2 += Double(g.pointer[i]) * Double(g.pointer[i]) } }
    var rng = RNG(seed: 4242)
    for d in 0..<3 {
        let directions = inputs.map { t in (0..<t.count).map { _ in rng.uniform() < 0.5 ? Float(-1) : 1 } }
        var analytic = 0.0
        for (n, g) in grads.enumerated() { for i in 0..<g.count { analytic += Double(g.pointer[i]) * Double(directions[n][i]) } }
        let saved = inputs.map(\.array)
        func shift(_ s: Float) {
            for (n, t) in inputs.enumerated() { for i in 0..<t.count { t.pointer[i] = saved[n][i] + s * directions[n][i] } }
        }
        shift(h); let up = probeLoss(inputs, r, f)
        shift(-h); let down = probeLoss(inputs, r, f)
        shift(0)
        let numeric = (up - down) / (2 * Double(h))
        if abs(analytic - numeric) > 1e-2 * norm2.squareRoot() + 1e-3 {
            throw CheckFailure(detail: "direction \(d): ⟨gradient, u⟩ = \(analytic), finite difference \(numeric) (‖gradient‖ = \(norm2.squareRoot()))")
        }
    }
}

/// Elementwise |actual − expected| ≤ atol + rtol·|expected|.
func expectClose(_ actual: [Float], _ expected: [Float], atol: Float = 1e-4, rtol: Float = 1e-4, _ what: String) throws {
    guard actual.count == expected.count else {
        throw CheckFailure(detail: "\(what): \(actual.count) values, expected \(expected.count)")
    }
    for i in actual.indices where !(abs(actual[i] - expected[i]) <= atol + rtol * abs(expected[i])) {
        throw CheckFailure(detail: "\(what): element \(i) is \(actual[i]), expected \(expected[i])")
    }
}

/// C = op(A)·op(B) by the textbook loop (in Double), row-major.
func referenceMatmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, tA: Bool, tB: Bool) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
        var s = 0.0
        for p in 0..<k { s += Double(tA ? a[p * m + i] : a[i * k + p]) * Double(tB ? b[j * k + p] : b[p * n + j]) }
        c[i * n + j] = Float(s)
    } }
    return c
}

/// Causal attention per (batch, head) by the textbook loops: q [B, H, T, D], k and v [B, Hkv, T, D].
func referenceAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> [Float] {
    let b = q.shape[0], h = q.shape[1], hkv = k.shape[1], t = q.shape[2], d = q.shape[3]
    let scale = 1 / Double(d).squareRoot()
    var out = [Float](repeating: 0, count: q.count)
    for bi in 0..<b { for hi in 0..<h {
        let qo = (bi * h + hi) * t * d, ko = (bi * hkv + hi / (h / hkv)) * t * d
        for i in 0..<t {
            var scores = (0...i).map { j in (0..<d).reduce(0.0) { $0 + Double(q.pointer[qo + i * d + $1]) * Double(k.pointer[ko + j * d + $1]) } * scale }
            let top = scores.max()!
            scores = scores.map { Foundation.exp($0 - top) }
            let total = scores.reduce(0, +)
            for e in 0..<d {
                out[qo + i * d + e] = Float((0...i).reduce(0.0) { $0 + scores[$1] / total * Double(v.pointer[ko + $1 * d + e]) })
            }
        }
    } }
    return out
}
