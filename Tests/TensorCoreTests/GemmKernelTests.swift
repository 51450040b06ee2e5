import Foundation
@testable import TensorCore
import Testing

/// Our AVX-512 SGEMM (GemmKernel.swift) against a plain triple loop in double precision, for each transpose it takes,
/// whole tiles and ragged edges (which go to BLAS), overwrite and accumulate, alpha ≠ 1.
extension TensorCoreTests { @Suite struct GemmKernelTests {
    func reference(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: [Float], _ b: [Float],
                   _ beta: Float, _ c: [Float]) -> (values: [Float], scale: [Float]) {
        var out = c, scale = c
        for i in 0..<m { for j in 0..<n {
            var s = 0.0, magnitude = 0.0
            for p in 0..<k {
                let term = Double(tA ? a[p * m + i] : a[i * k + p]) * Double(tB ? b[j * k + p] : b[p * n + j])
                s += term; magnitude += abs(term)
            }
            out[i * n + j] = Float(Double(alpha) * s + Double(beta) * Double(c[i * n + j]))
            scale[i * n + j] = Float(abs(Double(alpha)) * magnitude + abs(Double(beta) * Double(c[i * n + j])))
        } }
        return (out, scale)
    }

    /// The largest error in units of the float32 rounding budget: |got − want| / (1 + Σ|terms|), which a correct
    /// product in any summation order keeps below about 1e-6 here and a wrong one (a lost K block, a wrong row) far above.
    func worstError(_ got: [Float], _ want: (values: [Float], scale: [Float])) -> Float {
        zip(got, zip(want.values, want.scale)).map { abs($0 - $1.0) / (1 + $1.1) }.max()!
    }

    func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RNG(seed: seed)
        return Tensor.randn([count], rng: &rng).array
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func kernelMatchesTheDefinition(tA: Bool, tB: Bool) {
        for (m, n, k) in [(8, 32, 1), (16, 64, 7), (13, 45, 130), (67, 103, 33), (5, 20, 9), (16, 32, 2 * GEMM_SIMD_DEPTH_BLOCK + 5), (8, GEMM_SIMD_COLUMN_BLOCK + 45, 9)] {
            for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.5, 1), (-2, 0)] {
                let a = values(m * k, seed: 1), b = values(k * n, seed: 2), c0 = values(m * n, seed: 3)
                var c = c0
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    kernelSgemm(tA, tB, m, n, k, alpha: alpha, a: pa.baseAddress!, lda: tA ? m : k,
                                b: pb.baseAddress!, ldb: tB ? k : n, beta: beta, c: pc.baseAddress!, ldc: n)
                } } }
                let want = reference(tA, tB, m, n, k, alpha, a, b, beta, c0)
                let worst = worstError(c, want)
                #expect(worst < 1e-6, "\(tA ? "T" : "N")\(tB ? "T" : "N") \(m)×\(n)×\(k) alpha \(alpha) beta \(beta): \(worst)")
            }
        }
    }

    /// The tiles themselves for every op(A), op(B) they implement, whatever the tunables route to them.
    @Test(arguments: [(false, false), (false, true), (true, false)])
    func tilesMatchTheDefinition(tA: Bool, tB: Bool) {
        let m = 24, n = GEMM_SIMD_COLUMN_BLOCK + 64, k = GEMM_SIMD_DEPTH_BLOCK + 37
        for accumulate in [false, true] {
            let a = values(m * k, seed: 4), b = values(k * n, seed: 5), c0 = values(m * n, seed: 6)
            var c = c0
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                simdGemmTiles(tA, tB, m, n, k, alpha: 0.75, a: pa.baseAddress!, lda: tA ? m : k, b: pb.baseAddress!,
                              ldb: tB ? k : n, accumulate: accumulate, c: pc.baseAddress!, ldc: n)
            } } }
            let want = reference(tA, tB, m, n, k, 0.75, a, b, accumulate ? 1 : 0, c0)
            let worst = worstError(c, want)
            #expect(worst < 1e-6, "\(tA ? "T" : "N")\(tB ? "T" : "N") accumulate \(accumulate): \(worst)")
        }
    }

    @Test func theKernelIsInUseWhereTheCPUHasAVX512() throws {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        #expect(simdGemmAvailable == flags.contains(" avx512f"))
        #expect(simdGemmApplies(false, true, beta: 0) == simdGemmAvailable)
        #expect(!simdGemmApplies(true, true, beta: 0))
        #expect(!simdGemmApplies(false, false, beta: 0.5))
    }
} }
