import Foundation
import Testing
@testable import SubjectKit

/// The protocol between the harness and the evaluation phase: checkpoints, windows, logits, the harness's score and
/// the causality probe.
@Suite("Evaluation protocol")
struct EvaluationProtocolTests {
    /// Writes a logits file for `windows` from `model(tokens of the window, position) -> logits row`.
    func answer(_ windows: EvaluationWindows, in dir: URL, name: String = "logits.bin",
                _ model: (_ window: [UInt8], _ position: Int) -> [Float]) throws -> URL {
        var all: [Float] = []
        for g in windows.groups {
            for row in 0..<g.batch {
                let window = Array(g.tokens[row * g.seqLen..<(row + 1) * g.seqLen])
                for t in 0..<g.seqLen { all += model(window, t) }
            }
        }
        let url = dir.appendingPathComponent(name)
        try all.withUnsafeBytes { Data($0) }.write(to: url)
        return url
    }

    /// A bigram model: log-probability 0 (certainty) on the byte after `window[t]` in `text`'s most common transition.
    func peaked(on byte: UInt8, strength: Float = 5) -> [Float] {
        var row = [Float](repeating: 0, count: vocabSize)
        row[Int(byte)] = strength
        return row
    }

    @Test func checkpointsRoundTripAndBadOnesAreExplained() throws {
        let dir = try makeTempDirectory(); defer { remove(dir) }
        let url = dir.appendingPathComponent("checkpoint.bin")
        let checkpoint = Checkpoint(entries: [.init(name: "wte", shape: [2, 3], values: [1, 2, 3, 4, 5, -6.5]),
                                              .init(name: "h0.wq", shape: [1], values: [.pi])])
        try checkpoint.write(to: url)
        #expect(try Checkpoint.read(from: url) == checkpoint)
        try Data("ARCK\u{1}\0\0\0\u{3}".utf8).write(to: url)
        #expect(errorMessage { _ = try Checkpoint.read(from: url) }
            == "the checkpoint \(url.path) cannot be restored: it ends in the middle of entry 1; the training phase must save every parameter the evaluation phase restores (saveCheckpoint and restore with the same names and shapes)")
        #expect(errorMessage { _ = try Checkpoint.read(from: dir.appendingPathComponent("none.bin")) }?
            .contains("it does not exist (did the training phase call saveCheckpoint?)") == true)
    }

    @Test func windowsCoverTheSplitAsBitsPerByteDoes() throws {
        let split = Array(sampleText(600, seed: 9).utf8)
        let windows = EvaluationWindows.covering(split, maxSeqLen: 256, batchSize: 16)
        // 599 targets: two full windows in one group, then the tail of 87.
        #expect(windows.groups.map(\.batch) == [2, 1])
        #expect(windows.groups.map(\.seqLen) == [256, 87])
        #expect(windows.positions == 599)
        #expect(windows.groups[1].tokens == Array(split[512..<599]) && windows.groups[1].targets == Array(split[513..<600]))
        let dir = try makeTempDirectory(); defer { remove(dir) }
        try windows.write(to: dir.appendingPathComponent("w.bin"))
        let read = try EvaluationWindows.read(from: dir.appendingPathComponent("w.bin"))
        #expect(read.groups.map(\.tokens) == windows.groups.map(\.tokens))
        #expect(read.groups.allSatisfy { $0.targets.isEmpty }, "targets never leave the harness")
    }

    @Test func theHarnessScoreMatchesBitsPerByteAndNormalisesTheLogits() throws {
        let dir = try makeTempDirectory(); defer { remove(dir) }
        let split = Array(sampleText(700, seed: 4).utf8)
        let windows = EvaluationWindows.covering(split, maxSeqLen: 64, batchSize: 3)
        // Uniform logits (any constant): exactly 8 bits per byte.
        let uniform = try answer(windows, in: dir) { _, _ in [Float](repeating: 3.5, count: vocabSize) }
        #expect(abs(try EvaluationScore.score(windows, logits: uniform).score.bitsPerByte - 8) < 1e-6)
        // A model that favours the byte it just saw: the same value as bitsPerByte with the same model.
        let model: ([UInt8], Int) -> [Float] = { window, t in self.peaked(on: window[t]) }
        let logits = try answer(windows, in: dir, model)
        let harness = try EvaluationScore.score(windows, logits: logits).score.bitsPerByte
        let reference = bitsPerByte(split, maxSeqLen: 64, batchSize: 3) { inputs, targets, _, _ in
            zip(inputs, targets).reduce(0.0) { sum, pair in
                let row = EvaluationScore.logSoftmax(self.peaked(on: UInt8(pair.0)))
                return sum - Double(row[Int(pair.1)])
            }
        }
        #expect(abs(harness - reference) < 1e-5, "\(harness) vs \(reference)")
        // Logits that are not a distribution are normalised: adding 100 to every logit changes nothing.
        let shifted = try answer(windows, in: dir, name: "shifted.bin") { window, t in self.peaked(on: window[t]).map { $0 + 100 } }
        #expect(abs(try EvaluationScore.score(windows, logits: shifted).score.bitsPerByte - harness) < 1e-4)
    }

    @Test func malformedLogitsAreRefused() throws {
        let dir = try makeTempDirectory(); defer { remove(dir) }
        let windows = EvaluationWindows.covering(Array(sampleText(300, seed: 2).utf8), maxSeqLen: 64, batchSize: 2)
        let short = dir.appendingPathComponent("short.bin")
        try Data(count: 1024).write(to: short)
        #expect(throws: EvaluationScore.Failure.wrongSize(expected: 299 * 256 * 4, found: 1024)) {
            try EvaluationScore.score(windows, logits: short)
        }
        let nan = try answer(windows, in: dir) { _, t in t == 5 ? [Float](repeating: .nan, count: vocabSize) : [Float](repeating: 0, count: vocabSize) }
        #expect(throws: EvaluationScore.Failure.notFinite(position: 5)) { try EvaluationScore.score(windows, logits: nan) }
        #expect(EvaluationScore.Failure.wrongSize(expected: 8, found: nil).description == "the evaluation wrote no logits file")
    }

    /// A causal model passes; one that looks at the next byte, or that changes as it evaluates, fails.
    @Test func theCausalityProbeCatchesLookAheadAndState() throws {
        let dir = try makeTempDirectory(); defer { remove(dir) }
        let split = Array(sampleText(5000, seed: 11).utf8)
        let windows = EvaluationWindows.covering(split, maxSeqLen: 64, batchSize: 4)
        let probe = CausalityProbe(main: windows, count: 16, seed: 3)
        #expect(probe.cuts.count == 16 && probe.cuts.allSatisfy { $0.length >= 1 && $0.length <= 64 })
        // Half whole (the last position checked too), every group of the scored run's shape.
        #expect(probe.cuts.filter { $0.length == 64 }.count == 8 && probe.windows.groups.allSatisfy { $0.seqLen == 64 && $0.batch == 4 })
        func check(_ model: @escaping ([UInt8], Int) -> [Float], scoredModel: (([UInt8], Int) -> [Float])? = nil) throws -> String? {
            let main = try answer(windows, in: dir, name: "main.bin", scoredModel ?? model)
            let (_, kept) = try EvaluationScore.score(windows, logits: main, keep: probe.needs)
            let cut = try answer(probe.windows, in: dir, name: "probe.bin", model)
            return try probe.violation(scored: kept, probeLogits: cut, tolerance: 1e-3)
        }
        // Causal: depends on the byte at t and the one before.
        #expect(try check { w, t in self.peaked(on: w[t]).enumerated().map { i, v in v + (t > 0 && Int(w[t - 1]) == i ? 1 : 0) } } == nil)
        // Looks ahead: the byte after t, when the window has one.
        let ahead = try check { w, t in self.peaked(on: t + 1 < w.count ? w[t + 1] : w[t]) }
        #expect(ahead?.hasPrefix("causality probe: the output at position") == true, "\(ahead ?? "passed")")
        // Adapts as it evaluates: the scored run drifts, a fresh process does not.
        var calls: Float = 0
        let drifting: ([UInt8], Int) -> [Float] = { w, t in calls += 1e-3; return self.peaked(on: w[t], strength: 5 + calls) }
        let stateful = try check({ w, t in self.peaked(on: w[t]) }, scoredModel: drifting)
        #expect(stateful != nil)
    }
}
