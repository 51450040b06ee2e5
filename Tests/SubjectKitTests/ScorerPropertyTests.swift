import Foundation
import Testing
@testable import SubjectKit

/// The harness's scorer against values built to fool it (the red team's finding 1: rows of one huge logit scored
/// 0 bits per byte in Float32), and against a Double reference on random rows.
@Suite("Scorer properties")
struct ScorerPropertyTests {
    /// log-softmax in Double, computed another way (log-sum-exp by sorted accumulation), for rows within range.
    func reference(_ row: [Float]) -> [Double] {
        let xs = row.map(Double.init)
        let m = xs.max()!
        let lse = m + log(xs.map { exp($0 - m) }.sorted().reduce(0, +))
        return xs.map { $0 - lse }
    }

    func rowResult(_ row: [Float]) -> Result<[Double], EvaluationScore.Failure> {
        var out = [Double](repeating: 0, count: row.count)
        do {
            try row.withUnsafeBufferPointer { try EvaluationScore.logSoftmax($0, into: &out, position: 7) }
            return .success(out)
        } catch let failure as EvaluationScore.Failure { return .failure(failure) } catch { fatalError("\(error)") }
    }

    @Test func randomRowsMatchADoubleReference() {
        var rng = SplitMix64(seed: 2026)
        func uniform() -> Float { Float(Double(rng.next() >> 11) / Double(1 << 53)) }
        for trial in 0..<400 {
            let scale: Float = [0.01, 1, 30, 1000, EvaluationScore.maxLogit][trial % 5]
            let row = (0..<vocabSize).map { _ in (uniform() * 2 - 1) * scale }
            guard case .success(let got) = rowResult(row) else { Issue.record("row \(trial) refused"); return }
            let want = reference(row)
            let worst = zip(got, want).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-9 * max(1, Double(scale)), "trial \(trial) scale \(scale): worst \(worst)")
            #expect(abs(got.map(exp).reduce(0, +) - 1) < 1e-9)
        }
    }

    @Test func adversarialRowsAreNormalisedOrRefused() {
        let n = vocabSize
        // Equal logits, whatever their value within range: exactly −ln 256 each.
        for value: Float in [0, -1e4, 1e4, 123.456, 1e-40] {
            guard case .success(let lp) = rowResult([Float](repeating: value, count: n)) else { Issue.record("equal \(value) refused"); continue }
            #expect(lp.allSatisfy { abs($0 + log(256.0)) < 1e-12 }, "equal \(value): \(lp[0])")
        }
        // One-hot at the bound: the hot byte has log p ≈ 0, the others −2e4 (not −inf, not NaN).
        var hot = [Float](repeating: -1e4, count: n); hot[42] = 1e4
        if case .success(let lp) = rowResult(hot) {
            #expect(abs(lp[42]) < 1e-12 && abs(lp[0] + 2e4) < 1e-9)
        } else { Issue.record("one-hot refused") }
        // Beyond the bound: the red team's 2e8, ±the largest float, one huge logit among small ones.
        for (value, at) in [(Float(2e8), 0), (Float.greatestFiniteMagnitude, 3), (-Float.greatestFiniteMagnitude, 5), (Float(10_000.001), 9)] {
            var row = [Float](repeating: 0.5, count: n); row[at] = value
            if at == 0 { row = [Float](repeating: value, count: n) }
            #expect(rowResult(row) == .failure(.outOfRange(position: 7, value: value)), "\(value)")
        }
        for value in [Float.nan, .infinity, -.infinity] {
            var row = [Float](repeating: 0, count: n); row[200] = value
            #expect(rowResult(row) == .failure(.notFinite(position: 7)))
        }
        #expect(EvaluationScore.Failure.outOfRange(position: 3, value: 2e8).description
                == "the logits at position 3 are out of range (2e+08; |logit| must be at most 10000)")
    }

    /// The attack as the red team ran it: every row the same huge logit scored 0 bits per byte; now refused. Raising
    /// only some rows (chosen by a hash of the prefix) by a constant changes nothing.
    @Test func hugeOrShiftedLogitsGainNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scorer-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let split = Array(String(repeating: "to be or not to be, that is the question. ", count: 12).utf8)
        let windows = EvaluationWindows.covering(split, maxSeqLen: 64, batchSize: 2)
        func write(_ name: String, _ row: (Int) -> [Float]) throws -> URL {
            var all: [Float] = []
            for p in 0..<windows.positions { all += row(p) }
            let url = dir.appendingPathComponent(name)
            try all.withUnsafeBytes { Data($0) }.write(to: url)
            return url
        }
        let huge = try write("huge.bin") { _ in [Float](repeating: 2e8, count: vocabSize) }
        #expect(throws: EvaluationScore.Failure.outOfRange(position: 0, value: 2e8)) { try EvaluationScore.score(windows, logits: huge) }
        let model: (Int) -> [Float] = { p in (0..<vocabSize).map { Float(($0 * 31 + p * 7) % 13) * 0.25 } }
        let honest = try EvaluationScore.score(windows, logits: try write("honest.bin", model)).score.bitsPerByte
        let raised = try EvaluationScore.score(windows, logits: try write("raised.bin") { p in
            (p * 2_654_435_761) % 3 == 0 ? model(p).map { $0 + 8_192 } : model(p)
        }).score.bitsPerByte
        #expect(abs(honest - raised) < 1e-9, "\(honest) vs \(raised)")
        // A link instead of a file is refused: the harness never reads what it points at.
        let link = dir.appendingPathComponent("link.bin")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: dir.appendingPathComponent("honest.bin"))
        #expect(throws: EvaluationScore.Failure.self) { try EvaluationScore.score(windows, logits: link) }
    }
}
