import CBLAS

/// The one seam between the tensor core and BLAS: single-precision GEMM and thread control.
///
/// Linux: OpenBLAS from Debian's `libopenblas-dev`; macOS: Accelerate. Every matrix multiply in
/// the core goes through ``BLAS/sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
public enum BLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major; op(A) is m×k, op(B) is k×n.
    /// `lda`, `ldb`, `ldc` are the row strides (in elements) of A, B, C as stored.
    @inline(__always)
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Makes BLAS single-threaded, once: the core splits large products over its own threads
    /// (`Parallel`) instead, so BLAS worker threads never spin against ours.
    @inline(__always)
    public static func configure() { _ = configured }
    private static let configured: Bool = { threads = 1; return true }()

    /// The number of threads BLAS uses for one call (OpenBLAS only; Accelerate manages its own).
    public static var threads: Int {
        get {
            #if canImport(Accelerate)
            return 1
            #else
            return Int(openblas_get_num_threads())
            #endif
        }
        set {
            #if !canImport(Accelerate)
            openblas_set_num_threads(Int32(newValue))
            #endif
        }
    }

    /// The BLAS kernel in use, e.g. "OpenBLAS Haswell" or "OpenBLAS SkylakeX" (OPENBLAS_CORETYPE picks it).
    public static var kernel: String {
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        if let name = openblas_get_corename() { return "OpenBLAS " + String(cString: name) }
        return "OpenBLAS"
        #endif
    }
}

extension BLAS {
    /// The machine's measured SGEMM throughput in GFLOP/s: the best of `repeats` products of two n×n
    /// matrices by the BLAS library (not our own kernel), one single-threaded call per thread on a block of
    /// rows each, as the core splits products (the denominator of model FLOP utilisation).
    public static func measurePeakGFLOPS(n: Int = 1024, repeats: Int = 4) -> Double {
        var rng = RNG(seed: 1)
        let a = Tensor.randn([n, n], rng: &rng), b = Tensor.randn([n, n], rng: &rng)
        let c = Tensor(uninitialized: [n, n])
        let pa = a.pointer, pb = b.pointer, pc = c.pointer
        configure()
        func product() {
            Parallel.forEachChunk(n, grain: 16, perThread: 1) { r in
                sgemm(transA: false, transB: false, m: r.count, n: n, k: n, alpha: 1, a: pa + r.lowerBound * n, lda: n,
                      b: pb, ldb: n, beta: 0, c: pc + r.lowerBound * n, ldc: n)
            }
        }
        product()
        var best = 0.0
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            product()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, 2 * Double(n) * Double(n) * Double(n) / seconds / 1e9)
        }
        return best
    }
}

import Dispatch
