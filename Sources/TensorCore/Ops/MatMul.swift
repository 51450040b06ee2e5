// Tunables (ALL_CAPS, one per line, with the range the search researcher may move them in): the tensorcore
// research template's moves. Changing one changes speed, never results beyond float summation order.
public let GEMM_PARALLEL_MIN_MNK = 131_072       // range: 4096..4194304
public let GEMM_THREAD_GRAIN = 16                // range: 1..256
public let GEMM_ROW_BLOCK_FLOATS = 131_072       // range: 8192..1048576
public let GEMM_ROW_BLOCK_MAX_COLUMNS = 256      // range: 0..4096
public let GEMM_CONCURRENT_BACKWARD = false       // choices: true|false

/// Matrix multiply, linear layers and batched matmul with transposes, all through `kernelSgemm` (our own
/// AVX-512 kernel where it applies, `BLAS.sgemm` otherwise; GemmKernel.swift).
///
/// For C = op(A)·op(B) with op(A) [M,K] and op(B) [K,N], backward is
/// dA = dC·op(B)ᵀ (or its transpose when A was transposed) and dB = op(A)ᵀ·dC (or its transpose);
/// both accumulate into existing gradients (beta = 1).

/// C[M×N] (+)= op(A)·op(B) with A, B stored row-major and contiguous; `beta` 0 overwrites, 1 accumulates.
/// One single-threaded BLAS call on the calling thread (for use inside our own parallel loops).
@inline(__always)
func gemmSerial(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int,
                _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, beta: Float, alpha: Float = 1) {
    BLAS.configure()
    sgemmRows(tA, tB, m, n, k, alpha: alpha, a: a, lda: tA ? m : k, b: b, ldb: tB ? k : n, beta: beta, c: c, ldc: n)
}

/// One thread's product C[m×n] = alpha·op(A)·op(B) + beta·C. Our kernel (where it applies) writes C once in one
/// call. For BLAS: with beta = 0 OpenBLAS first zero-fills C in a pass of its own; for a narrow C (n ≤ 256)
/// larger than 512 KB the rows go in blocks of 512 KB (at least 512 rows), so each block is still in cache when
/// the product accumulates into it (one trip to memory instead of two). Every call repacks op(B), which is why wide products
/// (many short row blocks) are left whole. Each element is still computed by one call over the whole K.
@inline(__always)
func sgemmRows(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, alpha: Float,
               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let block = max(16, GEMM_ROW_BLOCK_FLOATS / max(1, n) / 16 * 16)
    if beta != 0 || simdGemmApplies(tA, tB, beta: beta) || n > GEMM_ROW_BLOCK_MAX_COLUMNS || m < 2 * block {
        kernelSgemm(tA, tB, m, n, k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    var lo = 0
    while lo < m {
        let rows = min(block, m - lo)
        BLAS.sgemm(transA: tA, transB: tB, m: rows, n: n, k: k, alpha: alpha, a: a + (tA ? lo : lo * lda), lda: lda,
                   b: b, ldb: ldb, beta: beta, c: c + lo * ldc, ldc: ldc)
        lo += rows
    }
}

/// As `gemmSerial`, but large products are split into row blocks (or column blocks) of C, one
/// single-threaded BLAS call per thread. BLAS itself runs single-threaded (see `BLAS.configure`), so no
/// BLAS worker threads spin between calls, and every element of C is computed by one call in a fixed
/// order: results are deterministic for a fixed thread count.
func gemm(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int,
          _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, beta: Float, alpha: Float = 1) {
    BLAS.configure()
    let lda = tA ? m : k, ldb = tB ? k : n
    let threads = Parallel.threads
    if threads == 1 || m * n * k < GEMM_PARALLEL_MIN_MNK {
        sgemmRows(tA, tB, m, n, k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: n)
        return
    }
    if m >= n {
        // Row blocks of C: rows [lo, hi) of op(A).
        Parallel.forEachChunk(m, grain: GEMM_THREAD_GRAIN, perThread: 1) { r in
            let aOff = tA ? r.lowerBound : r.lowerBound * lda
            sgemmRows(tA, tB, r.count, n, k, alpha: alpha, a: a + aOff, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c + r.lowerBound * n, ldc: n)
        }
    } else {
        // Column blocks of C: columns [lo, hi) of op(B).
        Parallel.forEachChunk(n, grain: GEMM_THREAD_GRAIN, perThread: 1) { r in
            let bOff = tB ? r.lowerBound * ldb : r.lowerBound
            kernelSgemm(tA, tB, m, r.count, k, alpha: alpha, a: a, lda: lda,
                       b: b + bOff, ldb: ldb, beta: beta, c: c + r.lowerBound, ldc: n)
        }
    }
}

/// Backward of C = op(A)·op(B) for one matrix, into gA and gB when given: each is a buffer and whether
/// to accumulate into it (beta = 1) or overwrite it (beta = 0, a fresh gradient).
/// With two threads and both gradients wanted, the two products (equal in FLOPs: M·N·K each) run at
/// the same time, one whole single-threaded BLAS call per thread, instead of each split in half.
@inline(__always)
func gemmBackward(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int,
                  a: UnsafePointer<Float>, b: UnsafePointer<Float>, gC: UnsafePointer<Float>,
                  gA: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?,
                  gB: (pointer: UnsafeMutablePointer<Float>, accumulate: Bool)?, serial: Bool = false) {
    func gradA(serial: Bool) {
        guard let (p, acc) = gA else { return }
        let beta: Float = acc ? 1 : 0
        let f = serial ? gemmSerial : TensorCore.gemm
        if !tA { f(false, !tB, m, k, n, gC, b, p, beta, 1) }      // dA[M,K] = dC · op(B)ᵀ
        else { f(tB, true, k, m, n, b, gC, p, beta, 1) }          // dA[K,M] = op(B) · dCᵀ
    }
    func gradB(serial: Bool) {
        guard let (p, acc) = gB else { return }
        let beta: Float = acc ? 1 : 0
        let f = serial ? gemmSerial : TensorCore.gemm
        if !tB { f(!tA, false, k, n, m, a, gC, p, beta, 1) }      // dB[K,N] = op(A)ᵀ · dC
        else { f(true, tA, n, k, m, gC, a, p, beta, 1) }          // dB[N,K] = dCᵀ · op(A)
    }
    if !serial, let pa = gA?.pointer, let pb = gB?.pointer, pa != pb, GEMM_CONCURRENT_BACKWARD, Parallel.threads == 2, m * n * k >= GEMM_PARALLEL_MIN_MNK {
        BLAS.configure()
        Parallel.forEachChunk(2) { r in for i in r { if i == 0 { gradA(serial: true) } else { gradB(serial: true) } } }
        return
    }
    gradA(serial: serial)
    gradB(serial: serial)
}

/// Matrix product of 2-D tensors: `op(a) · op(b)` where op transposes when asked.
/// Shapes: a [M,K] (or [K,M] with transposeA), b [K,N] (or [N,K] with transposeB) → [M,N].
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    guard a.shape.count == 2, b.shape.count == 2 else {
        shapeFailure("matmul", "expects 2-D tensors, got \(a.shape) and \(b.shape)")
    }
    let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
    let kb = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
    guard k == kb else {
        shapeFailure("matmul", "inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") (\(k) vs \(kb))")
    }
    let out = Tensor(uninitialized: [m, n])
    gemm(transposeA, transposeB, m, n, k, a.pointer, b.pointer, out.pointer, beta: 0)
    if Tensor.needsGrad(a, b) {
        out.record([a, b]) { out in
            gemmBackward(transposeA, transposeB, m, n, k, a: a.pointer, b: b.pointer, gC: out.grad!.pointer,
                         gA: a.requiresGrad ? a.gradBuffer() : nil, gB: b.requiresGrad ? b.gradBuffer() : nil)
        }
    }
    return out
}

/// A linear layer as in PyTorch: `x · weightᵀ (+ bias)`.
/// Shapes: x [..., in], weight [out, in], bias [out] → [..., out].
public func linear(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil) -> Tensor {
    guard weight.shape.count == 2, x.lastDim == weight.shape[1] else {
        shapeFailure("linear", "input \(x.shape) does not match weight \(weight.shape) (last dim must equal weight.shape[1])")
    }
    let rows = x.count / x.lastDim, inF = weight.shape[1], outF = weight.shape[0]
    var outShape = x.shape; outShape[outShape.count - 1] = outF
    let out = Tensor(uninitialized: outShape)
    gemm(false, true, rows, outF, inF, x.pointer, weight.pointer, out.pointer, beta: 0)
    if Tensor.needsGrad(x, weight) {
        out.record([x, weight]) { out in
            gemmBackward(false, true, rows, outF, inF, a: x.pointer, b: weight.pointer, gC: out.grad!.pointer,
                         gA: x.requiresGrad ? x.gradBuffer() : nil, gB: weight.requiresGrad ? weight.gradBuffer() : nil)
        }
    }
    if let bias {
        guard bias.shape == [outF] else { shapeFailure("linear", "bias \(bias.shape) does not match weight \(weight.shape)") }
        return add(out, bias)
    }
    return out
}

/// Batched matrix product: for each i, `op(a[i]) · op(b[i])`.
/// Shapes: a [..., M, K] (or [..., K, M]), b [..., K, N] (or [..., N, K]) with equal leading dims → [..., M, N].
public func bmm(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    guard a.shape.count >= 3, a.shape.count == b.shape.count, a.shape.dropLast(2) == b.shape.dropLast(2) else {
        shapeFailure("bmm", "expects [..., M, K] and [..., K, N] with equal batch dims, got \(a.shape) and \(b.shape)")
    }
    let r = a.shape.count
    let m = transposeA ? a.shape[r - 1] : a.shape[r - 2], k = transposeA ? a.shape[r - 2] : a.shape[r - 1]
    let kb = transposeB ? b.shape[r - 1] : b.shape[r - 2], n = transposeB ? b.shape[r - 2] : b.shape[r - 1]
    guard k == kb else { shapeFailure("bmm", "inner dimensions differ: \(a.shape) and \(b.shape) (\(k) vs \(kb))") }
    let batch = a.shape.dropLast(2).reduce(1, *)
    let out = Tensor(uninitialized: Array(a.shape.dropLast(2)) + [m, n])
    let pa = a.pointer, pb = b.pointer, po = out.pointer
    BLAS.configure()
    Parallel.forEachChunk(batch) { r in
        for i in r { gemmSerial(transposeA, transposeB, m, n, k, pa + i * m * k, pb + i * k * n, po + i * m * n, beta: 0) }
    }
    if Tensor.needsGrad(a, b) {
        out.record([a, b]) { out in
            let gA = a.requiresGrad ? a.gradBuffer() : nil, gB = b.requiresGrad ? b.gradBuffer() : nil
            let gC = out.grad!.pointer
            Parallel.forEachChunk(batch) { r in
                for i in r {
                    gemmBackward(transposeA, transposeB, m, n, k, a: pa + i * m * k, b: pb + i * k * n, gC: gC + i * m * n,
                                 gA: gA.map { ($0.pointer + i * m * k, $0.accumulate) }, gB: gB.map { ($0.pointer + i * k * n, $0.accumulate) }, serial: true)
                }
            }
        }
    }
    return out
}
