import Foundation

// Tunables (ALL_CAPS, one per line, with the range the search researcher may move them in): the tensorcore
// research template's moves. Changing one changes speed, never results beyond float summation order.
public let GEMM_SIMD_KERNEL = true               // choices: true|false
public let GEMM_SIMD_TRANSPOSED_A = true         // choices: true|false
public let GEMM_SIMD_DEPTH_BLOCK = 512           // range: 32..8192
public let GEMM_SIMD_COLUMN_BLOCK = 256          // range: 32..4096

/// Our own single-threaded SGEMM for the products a training step is made of, on CPUs with AVX-512.
///
/// The classic register-tiled scheme of GotoBLAS / BLIS (Goto & van de Geijn 2008, "Anatomy of high-performance
/// matrix multiplication"; Van Zee & van de Geijn 2015, BLIS): C is computed in 8×32 tiles held in 16 vector
/// registers of 16 floats for a block of K, each step of K one row of 32 of op(B) (two loads) against 8 broadcast
/// elements of op(A) (16 fused multiply-adds). Unlike a BLAS call it writes C once (no zero-fill pass when it
/// overwrites), and it packs only when op(B) is transposed: one panel of 32 columns × K, reused by every row of C.
/// On the step's products one core runs it at 1.1-1.3× OpenBLAS SkylakeX and about 2× OpenBLAS Haswell, except the
/// largest Xᵀ·dY (K = 4,096 tokens: 0.9× SkylakeX) (`autoresearch-bench --gemm`, 2026-12-02, AMD EPYC, README).
///
/// `GEMM_SIMD_KERNEL` turns it off (every product then goes to BLAS); `GEMM_SIMD_TRANSPOSED_A` also routes
/// op(A) = Aᵀ (the weight gradients' Xᵀ·dY, K = the tokens) through it: first shipped off (level with OpenBLAS
/// SkylakeX there), turned on by the tensorcore research loop (1.30× the step with OpenBLAS Haswell; README).
/// `GEMM_SIMD_DEPTH_BLOCK` is the K block, `GEMM_SIMD_COLUMN_BLOCK` the N block of the Xᵀ·dY products. Edges that
/// are not whole tiles (M mod 8 rows, N mod 32 columns), op(A)ᵀ·op(B)ᵀ, and a beta other than 0 or 1 go to BLAS.

/// The kernel for benchmarks and tests, whatever the tunables route to it.
public enum GemmKernel {
    /// Whether this CPU has AVX-512F, which the kernel needs (otherwise every product goes to BLAS).
    public static var available: Bool { simdGemmAvailable }

    /// What computes the matrix products, for logs: e.g. "our AVX-512 SGEMM + OpenBLAS SkylakeX (edges, Xᵀ·dY)".
    public static var path: String {
        guard GEMM_SIMD_KERNEL, simdGemmAvailable else { return BLAS.kernel }
        return "our AVX-512 SGEMM + \(BLAS.kernel) (\(GEMM_SIMD_TRANSPOSED_A ? "edges" : "edges, Xᵀ·dY"))"
    }

    /// C[m×n] = op(A)·op(B) by the kernel alone: row-major, C's row stride n; m a multiple of 8, n of 32,
    /// not both transposed (precondition, unchecked beyond a fatal error).
    public static func sgemmTiles(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, a: UnsafePointer<Float>, lda: Int,
                                  b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>) {
        precondition(m % 8 == 0 && n % 32 == 0 && !(tA && tB), "GemmKernel.sgemmTiles: m must be a multiple of 8, n of 32, and not both transposed")
        simdGemmTiles(tA, tB, m, n, k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, accumulate: false, c: c, ldc: n)
    }
}

/// Whether this CPU runs the kernel's 16-float vectors natively (AVX-512F; read once from /proc/cpuinfo).
let simdGemmAvailable: Bool = {
    #if os(Linux) && arch(x86_64)
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
    return text.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").contains("avx512f") ?? false
    #else
    return false
    #endif
}()

/// Whether `kernelSgemm` takes products of this kind (whole tiles of them) instead of BLAS.
@inline(__always)
func simdGemmApplies(_ tA: Bool, _ tB: Bool, beta: Float) -> Bool {
    GEMM_SIMD_KERNEL && simdGemmAvailable && !(tA && tB) && (!tA || GEMM_SIMD_TRANSPOSED_A) && (beta == 0 || beta == 1)
}

/// C[m×n] = alpha·op(A)·op(B) + beta·C on the calling thread, row-major with row strides lda, ldb, ldc:
/// our kernel where it applies (see above), BLAS for the rest.
@inline(__always)
func kernelSgemm(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, alpha: Float,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let mm = m / 8 * 8, nn = n / 32 * 32
    guard simdGemmApplies(tA, tB, beta: beta), mm > 0, nn > 0, k > 0 else {
        BLAS.sgemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    simdGemmTiles(tA, tB, mm, nn, k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, accumulate: beta == 1, c: c, ldc: ldc)
    if mm < m {   // the last m mod 8 rows, every column
        BLAS.sgemm(transA: tA, transB: tB, m: m - mm, n: n, k: k, alpha: alpha, a: a + (tA ? mm : mm * lda), lda: lda,
                   b: b, ldb: ldb, beta: beta, c: c + mm * ldc, ldc: ldc)
    }
    if nn < n {   // the last n mod 32 columns of the other rows
        BLAS.sgemm(transA: tA, transB: tB, m: mm, n: n - nn, k: k, alpha: alpha, a: a, lda: lda,
                   b: b + (tB ? nn * ldb : nn), ldb: ldb, beta: beta, c: c + nn, ldc: ldc)
    }
}

/// The whole 8×32 tiles: m a multiple of 8, n of 32, op(A)ᵀ·op(B)ᵀ excluded. op(A) = Aᵀ goes K block by K block
/// across column blocks; otherwise panel by panel of 32 columns (packed when op(B) = Bᵀ), K block by K block.
@inline(never)
func simdGemmTiles(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, alpha: Float,
                   a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                   c: UnsafeMutablePointer<Float>, ldc: Int) {
    if tA {
        // Aᵀ: a tile's 8 rows of op(A) are 8 consecutive floats of each of K rows of A, one cache line a step of K.
        // So each block of K takes 8 rows of C at a time across all of C's columns (that tile of A stays in L1 while
        // the block of op(B) streams from L2), instead of reading A again for every panel of 32 columns.
        // Columns in blocks of GEMM_SIMD_COLUMN_BLOCK, so a block of K × those columns of op(B) fits in L2.
        // (Packing each tile of op(A) into a contiguous buffer first was tried: slower on the small models' products.)
        let nc = max(32, GEMM_SIMD_COLUMN_BLOCK / 32 * 32)
        var column = 0
        while column < n {
            let end = min(n, column + nc)
            var depth = 0
            while depth < k {
                let kc = min(max(1, GEMM_SIMD_DEPTH_BLOCK), k - depth)
                var i = 0
                while i < m {
                    var j = column
                    while j < end {
                        tile8x32(kc, a + i + depth * lda, 1, lda, b + depth * ldb + j, ldb, c + i * ldc + j, ldc, alpha, accumulate || depth > 0)
                        j += 32
                    }
                    i += 8
                }
                depth += kc
            }
            column = end
        }
        return
    }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: tB ? k * 32 : 1) { panel in
        let panel = panel.baseAddress!
        var j = 0
        while j < n {
            var rows = UnsafePointer(b + j), step = ldb
            if tB {
                // op(B)(p, j + q) = b[(j + q)·ldb + p]: copy the 32 columns into k rows of 32.
                for q in 0..<32 {
                    let src = b + (j + q) * ldb
                    for p in 0..<k { panel[p * 32 + q] = src[p] }
                }
                rows = UnsafePointer(panel); step = 32
            }
            // K in blocks of GEMM_SIMD_DEPTH_BLOCK, so the panel's block stays in L1 across all of C's rows; the first
            // block overwrites or accumulates as asked, the others accumulate.
            var depth = 0
            while depth < k {
                let kc = min(max(1, GEMM_SIMD_DEPTH_BLOCK), k - depth)
                var i = 0
                while i < m {
                    // op(A) = A: row i at a + i·lda, K contiguous.
                    tile8x32(kc, a + i * lda + depth, lda, 1, rows + depth * step, step,
                             c + i * ldc + j, ldc, alpha, accumulate || depth > 0)
                    i += 8
                }
                depth += kc
            }
            j += 32
        }
    }
}

private typealias Lane16 = SIMD16<Float>
@inline(__always) private func load16(_ p: UnsafePointer<Float>) -> Lane16 { UnsafeRawPointer(p).loadUnaligned(as: Lane16.self) }
@inline(__always) private func store16(_ v: Lane16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lane16.self)
}

/// One 8×32 tile of C (+)= alpha·Σ_p op(A)(r, p)·op(B)(p, 0..<32): op(A)(r, p) = a[r·rs + p·ds], row p of op(B) at
/// b + p·bs. Sixteen accumulators, two loads and eight broadcasts per step of K.
@inline(__always)
private func tile8x32(_ k: Int, _ a: UnsafePointer<Float>, _ rs: Int, _ ds: Int, _ b: UnsafePointer<Float>, _ bs: Int,
                      _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ accumulate: Bool) {
    var c00 = Lane16(), c01 = Lane16(), c10 = Lane16(), c11 = Lane16(), c20 = Lane16(), c21 = Lane16(), c30 = Lane16(), c31 = Lane16()
    var c40 = Lane16(), c41 = Lane16(), c50 = Lane16(), c51 = Lane16(), c60 = Lane16(), c61 = Lane16(), c70 = Lane16(), c71 = Lane16()
    var ap = a, bp = b
    for _ in 0..<k {
        let b0 = load16(bp), b1 = load16(bp + 16)
        var x = Lane16(repeating: ap[0]); c00.addProduct(x, b0); c01.addProduct(x, b1)
        x = Lane16(repeating: ap[rs]); c10.addProduct(x, b0); c11.addProduct(x, b1)
        x = Lane16(repeating: ap[2 * rs]); c20.addProduct(x, b0); c21.addProduct(x, b1)
        x = Lane16(repeating: ap[3 * rs]); c30.addProduct(x, b0); c31.addProduct(x, b1)
        x = Lane16(repeating: ap[4 * rs]); c40.addProduct(x, b0); c41.addProduct(x, b1)
        x = Lane16(repeating: ap[5 * rs]); c50.addProduct(x, b0); c51.addProduct(x, b1)
        x = Lane16(repeating: ap[6 * rs]); c60.addProduct(x, b0); c61.addProduct(x, b1)
        x = Lane16(repeating: ap[7 * rs]); c70.addProduct(x, b0); c71.addProduct(x, b1)
        ap += ds; bp += bs
    }
    @inline(__always) func put(_ v0: Lane16, _ v1: Lane16, _ p: UnsafeMutablePointer<Float>) {
        if accumulate { store16(load16(p) + alpha * v0, p); store16(load16(p + 16) + alpha * v1, p + 16) }
        else if alpha == 1 { store16(v0, p); store16(v1, p + 16) }
        else { store16(alpha * v0, p); store16(alpha * v1, p + 16) }
    }
    put(c00, c01, c); put(c10, c11, c + ldc); put(c20, c21, c + 2 * ldc); put(c30, c31, c + 3 * ldc)
    put(c40, c41, c + 4 * ldc); put(c50, c51, c + 5 * ldc); put(c60, c61, c + 6 * ldc); put(c70, c71, c + 7 * ldc)
}
