import Foundation

/// Muon — MomentUm Orthogonalized by Newton–Schulz (Keller Jordan 2024, github.com/KellerJordan/Muon),
/// for 2-D weight matrices [rows, cols]:
/// b ← β·b + (1−β)·g;  u ← nesterov ? (1−β)·g + β·b : b;  O ← NS₅(u) · √max(1, rows/cols);
/// p ← p·(1 − lr·wd) − lr·O.
public final class Muon: Optimizer {
    public var groups: [ParameterGroup]
    public var momentum: Float, nesterov: Bool, steps: Int
    private let state = StateBuffers()

    /// - Precondition: every parameter is 2-D (use AdamW for embeddings, gains and biases).
    public init(_ groups: [ParameterGroup], momentum: Float = 0.95, nesterov: Bool = true, steps: Int = 5) {
        for g in groups { for p in g.parameters where p.shape.count != 2 {
            shapeFailure("Muon", "parameter '\(p.name)' has shape \(p.shape); Muon takes 2-D weight matrices only")
        } }
        self.groups = groups; self.momentum = momentum; self.nesterov = nesterov; self.steps = steps
    }

    public func step() {
        let beta = momentum
        for group in groups {
            let lr = group.learningRate, decay = 1 - lr * group.weightDecay
            for p in group.parameters {
                guard let g = p.grad?.pointer else { continue }
                let rows = p.shape[0], cols = p.shape[1], n = p.count
                let buf = state.get(p), w = p.pointer
                let u = UnsafeMutablePointer<Float>.allocate(capacity: n)
                defer { u.deallocate() }
                for i in 0..<n {
                    buf[i] = beta * buf[i] + (1 - beta) * g[i]
                    u[i] = nesterov ? (1 - beta) * g[i] + beta * buf[i] : buf[i]
                }
                newtonSchulz5(u, rows: rows, cols: cols, steps: steps)
                let s = lr * max(1, Float(rows) / Float(cols)).squareRoot()
                for i in 0..<n { w[i] = w[i] * decay - s * u[i] }
            }
        }
    }
}

/// Newton–Schulz quintic iteration toward the orthogonal polar factor U·Vᵀ of G = U·S·Vᵀ, in place.
/// Coefficients (a, b, c) = (3.4445, −4.7750, 2.0315) from Keller Jordan's Muon: X ← G/(‖G‖_F + 1e-7);
/// repeat: A = X·Xᵀ, X ← a·X + (b·A + c·A·A)·X (on the wide orientation). The singular values end up
/// near 1 (roughly in [0.7, 1.2]), not exactly 1 — by design.
/// - Parameters: g: [rows, cols] row-major, overwritten with the result.
public func newtonSchulz5(_ g: UnsafeMutablePointer<Float>, rows: Int, cols: Int, steps: Int = 5) {
    let (a, b, c): (Float, Float, Float) = (3.4445, -4.7750, 2.0315)
    let tall = rows > cols
    let m = min(rows, cols), n = max(rows, cols), count = rows * cols
    var x = UnsafeMutablePointer<Float>.allocate(capacity: count)
    var y = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let aMat = UnsafeMutablePointer<Float>.allocate(capacity: m * m)
    let bMat = UnsafeMutablePointer<Float>.allocate(capacity: m * m)
    defer { x.deallocate(); y.deallocate(); aMat.deallocate(); bMat.deallocate() }
    let norm = Float(Double(dot(g, g, count)).squareRoot()) + 1e-7
    if tall { for i in 0..<rows { for j in 0..<cols { x[j * rows + i] = g[i * cols + j] / norm } } }
    else { for i in 0..<count { x[i] = g[i] / norm } }
    for _ in 0..<steps {
        gemm(false, true, m, m, n, x, x, aMat, beta: 0)                       // A = X·Xᵀ
        for i in 0..<(m * m) { bMat[i] = b * aMat[i] }
        gemm(false, false, m, m, m, aMat, aMat, bMat, beta: 1, alpha: c)      // B = b·A + c·A·A
        y.update(from: x, count: count)
        gemm(false, false, m, n, m, bMat, x, y, beta: a)                      // X' = a·X + B·X
        swap(&x, &y)
    }
    if tall { for i in 0..<rows { for j in 0..<cols { g[i * cols + j] = x[j * rows + i] } } }
    else { g.update(from: x, count: count) }
}
