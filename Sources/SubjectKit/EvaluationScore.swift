import Foundation

/// val_bpb computed by the fixed side from a model's logits: the harness writes the windows
/// (`EvaluationWindows`), the evaluation phase answers with raw logits, and this scores them.
///
/// Each row is normalised here (log-softmax with the max subtracted), so a model cannot inflate its score with
/// logits that are not a distribution; the loss is the negative log-probability of each target byte, summed
/// over every position of every window, divided by ln 2 × the number of targets: the same bits per byte as
/// `bitsPerByte` (and autoresearch's `evaluate_bpb`, with one byte per token).
public struct EvaluationScore: Sendable, Equatable {
    /// Bits per byte over all positions.
    public var bitsPerByte: Double
    public var positions: Int

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The logits file is missing or has the wrong size.
        case wrongSize(expected: Int, found: Int?)
        /// A logit is NaN or infinite.
        case notFinite(position: Int)

        public var description: String {
            switch self {
            case let .wrongSize(expected, found):
                return found.map { "the evaluation wrote \($0) bytes of logits; \(expected) were expected (one row of \(vocabSize) Float32 per position)" }
                    ?? "the evaluation wrote no logits file"
            case let .notFinite(position):
                return "the logits at position \(position) are not finite (NaN or infinite)"
            }
        }
    }

    /// Scores `logits` (a `logits.bin`) against the targets of `windows`. `keep(group, row)` says which windows'
    /// log-probabilities to return (for the causality probe), as `[seqLen × vocabSize]` per kept window.
    public static func score(_ windows: EvaluationWindows, logits url: URL,
                             keep: (_ group: Int, _ row: Int) -> Bool = { _, _ in false }) throws -> (score: EvaluationScore, kept: [[Int]: [Float]]) {
        let expected = windows.positions * vocabSize * 4
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        guard let size, size == expected, let data = try? Data(contentsOf: url, options: .alwaysMapped) else {
            throw Failure.wrongSize(expected: expected, found: size)
        }
        var total = 0.0
        var kept: [[Int]: [Float]] = [:]
        try data.withUnsafeBytes { raw in
            let all = raw.bindMemory(to: Float.self)
            var position = 0
            for (g, group) in windows.groups.enumerated() {
                for row in 0..<group.batch {
                    let keepRow = keep(g, row)
                    var logProbs: [Float] = keepRow ? .init(repeating: 0, count: group.seqLen * vocabSize) : []
                    for t in 0..<group.seqLen {
                        let base = (position + row * group.seqLen + t) * vocabSize
                        let rowLogits = UnsafeBufferPointer(rebasing: all[base..<base + vocabSize])
                        let lse = try logSumExp(rowLogits, position: position + row * group.seqLen + t)
                        let target = Int(group.targets[row * group.seqLen + t])
                        total += Double(lse - rowLogits[target])
                        if keepRow {
                            for v in 0..<vocabSize { logProbs[t * vocabSize + v] = rowLogits[v] - lse }
                        }
                    }
                    if keepRow { kept[[g, row]] = logProbs }
                }
                position += group.batch * group.seqLen
            }
        }
        let positions = windows.positions
        return (EvaluationScore(bitsPerByte: total / (log(2.0) * Double(positions)), positions: positions), kept)
    }

    /// log Σ exp(x), stable; throws when a logit is not finite.
    static func logSumExp(_ row: UnsafeBufferPointer<Float>, position: Int) throws -> Float {
        var m = -Float.infinity
        for x in row {
            guard x.isFinite else { throw Failure.notFinite(position: position) }
            m = max(m, x)
        }
        var sum: Float = 0
        for x in row { sum += expf(x - m) }
        return m + logf(sum)
    }

    /// Log-probabilities of one row of logits (for tests and the probe).
    public static func logSoftmax(_ logits: [Float]) -> [Float] {
        logits.withUnsafeBufferPointer { row in
            let lse = (try? logSumExp(row, position: 0)) ?? .nan
            return row.map { $0 - lse }
        }
    }
}

/// The causality probe: a model's output at a position may depend only on that position and the ones before it,
/// in its own window. The probe takes `count` windows the evaluation scored, cuts each at a random length t in
/// 1..<seqLen (so everything from position t on is gone), and runs the cut windows in a fresh evaluation process;
/// at every position before t the log-probabilities must match what the scored run produced, within `tolerance`.
///
/// A model that looks ahead (non-causal attention, nanochat issue #844), reads other windows (the batch, the
/// windows file), or changes as it evaluates (adapting to the validation text) gives other outputs for the
/// same prefix and fails. Each cut tests next-byte leakage at its last position: a model that leaks at a
/// fraction f of positions passes all `count` cuts with probability (1 − f)^count.
public struct CausalityProbe: Sendable, Equatable {
    public struct Cut: Sendable, Equatable {
        /// The scored window: its group and row in the main windows.
        public var group: Int
        public var row: Int
        /// The cut window's length: positions 0..<length are compared.
        public var length: Int
    }

    public var cuts: [Cut]
    /// The cut windows, one group per cut, in the order of `cuts`.
    public var windows: EvaluationWindows

    /// `count` cuts of full-length windows of `main`, drawn with `seed`.
    public init(main: EvaluationWindows, count: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var candidates: [(Int, Int)] = []
        for (g, group) in main.groups.enumerated() where group.seqLen >= 2 {
            for row in 0..<group.batch { candidates.append((g, row)) }
        }
        var cuts: [Cut] = []
        var groups: [EvaluationWindows.Group] = []
        for _ in 0..<min(count, candidates.count * 4) where !candidates.isEmpty {
            let (g, row) = candidates[Int(rng.next() % UInt64(candidates.count))]
            let group = main.groups[g]
            let length = 1 + Int(rng.next() % UInt64(group.seqLen - 1))
            let start = row * group.seqLen
            cuts.append(Cut(group: g, row: row, length: length))
            groups.append(EvaluationWindows.Group(batch: 1, seqLen: length, tokens: Array(group.tokens[start..<start + length]),
                                                  targets: Array(group.targets[start..<start + length])))
        }
        self.cuts = cuts
        windows = EvaluationWindows(groups: groups)
    }

    /// Whether the scored run's window `(group, row)` is one the probe needs.
    public func needs(group: Int, row: Int) -> Bool { cuts.contains { $0.group == group && $0.row == row } }

    /// Compares the probe's logits (`logits.bin` of the probe run) with the scored run's log-probabilities.
    /// Returns nil when every position matches within `tolerance`, else why not.
    public func violation(scored: [[Int]: [Float]], probeLogits url: URL, tolerance: Float) throws -> String? {
        let (_, probe) = try EvaluationScore.score(windows, logits: url, keep: { _, _ in true })
        var worst: (diff: Float, cut: Int, position: Int) = (0, 0, 0)
        for (i, cut) in cuts.enumerated() {
            guard let main = scored[[cut.group, cut.row]], let cutRows = probe[[i, 0]] else { continue }
            for p in 0..<cut.length {
                for v in 0..<vocabSize {
                    let d = abs(main[p * vocabSize + v] - cutRows[p * vocabSize + v])
                    if !(d <= worst.diff) { worst = (d.isNaN ? .infinity : d, i, p) }
                }
            }
        }
        guard worst.diff > tolerance else { return nil }
        let cut = cuts[worst.cut]
        return String(format: "causality probe: the output at position %d of a window changed by %.4g (tolerance %.0e) when the window was cut after position %d and run in a fresh process; outputs must depend only on earlier positions of the same window",
                      worst.position, worst.diff, tolerance, cut.length - 1)
    }
}
