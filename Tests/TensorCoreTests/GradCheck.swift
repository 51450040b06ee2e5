@testable import TensorCore
import Testing

/// Checks an op's backward against central finite differences.
///
/// The scalar under test is L = Σ f(inputs) ⊙ R with a fixed random R (so every output element matters),
/// summed in Double. Each input element is perturbed by ±h (h = 1e-2, Float32 inputs); the numeric
/// derivative (L(x+h) − L(x−h)) / 2h is compared with the analytic gradient:
/// |analytic − numeric| ≤ atol + rtol·|numeric| with atol = 2e-3, rtol = 2e-2 unless the caller says otherwise.
func checkGradients(_ inputs: [Tensor], h: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                    sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) {
    for t in inputs { t.requiresGrad = true; t.clearGrad() }
    var rng = RNG(seed: 99)
    let probe = f(inputs)
    let r = Tensor.randn(probe.shape, rng: &rng)
    func loss() -> Double {
        let out = Tensor.noGrad { f(inputs) }
        var s = 0.0
        for i in 0..<out.count { s += Double(out.pointer[i]) * Double(r.pointer[i]) }
        return s
    }
    let l = sum(mul(f(inputs), r))
    l.backward()
    for (n, t) in inputs.enumerated() {
        guard let g = t.grad else { Issue.record("input \(n) got no gradient", sourceLocation: sourceLocation); continue }
        for i in 0..<t.count {
            let saved = t.pointer[i]
            t.pointer[i] = saved + h; let up = loss()
            t.pointer[i] = saved - h; let down = loss()
            t.pointer[i] = saved
            let numeric = Float((up - down) / (2 * Double(h)))
            let analytic = g.pointer[i]
            if abs(analytic - numeric) > atol + rtol * abs(numeric) {
                Issue.record("input \(n) element \(i): analytic \(analytic) vs numeric \(numeric)", sourceLocation: sourceLocation)
                return
            }
        }
    }
}

func randn(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var rng = RNG(seed: seed)
    return Tensor.randn(shape, std: std, rng: &rng)
}

/// Values away from 0 (for ops with a kink there, e.g. ReLU): |x| in [0.2, 1.2].
func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = RNG(seed: seed)
    let t = Tensor.zeros(shape)
    for i in 0..<t.count { let u = 0.2 + rng.uniform(); t.pointer[i] = rng.uniform() < 0.5 ? -u : u }
    return t
}
