/// Inverted dropout (Srivastava et al. 2014): each element is zeroed with probability `p` and the rest
/// scaled by 1/(1−p), so evaluation needs no rescaling. Identity when `p` is 0 or `training` is false
/// (by default, training = grad mode on). The mask is drawn from `rng`, so runs are reproducible.
public func dropout(_ x: Tensor, p: Float, rng: inout RNG, training: Bool = GradMode.isEnabled) -> Tensor {
    guard training, p > 0 else { return x }
    guard p < 1 else { shapeFailure("dropout", "p must be in [0, 1), got \(p)") }
    let mask = Tensor(uninitialized: x.shape)
    let keep = 1 / (1 - p), pm = mask.pointer
    for i in 0..<x.count { pm[i] = rng.uniform() < p ? 0 : keep }
    return mul(x, mask)
}
