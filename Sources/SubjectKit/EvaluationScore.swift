import Foundation

/// val_bpb computed by the fixed side from a model's logits: the harness writes the windows
/// (`EvaluationWindows`), the evaluation phase answers with raw logits, and this scores them.
///
/// Each row is normalised here, in Double: log p(v) = (x_v − m) − ln Σ_u exp(x_u − m), m the row's maximum, and the
/// maximum is never added back (in Float32, m + ln Σ rounds to m once |m| ≳ 1e8, so a row of equal huge logits
/// scored log p = 0: the red team's "0 bits per byte"). Every logit must be finite and within ±`maxLogit`; every
/// row's probabilities must sum to 1 within 1e-9 after normalisation. The loss is the negative log-probability of each
/// target byte, summed over every position of every window, divided by ln 2 × the number of targets: the same bits per
/// byte as `bitsPerByte` (and autoresearch's `evaluate_bpb`, with one byte per token).
public struct EvaluationScore: Sendable, Equatable {
    /// Bits per byte over all positions.
    public var bitsPerByte: Double
    public var positions: Int

    /// The largest |logit| the harness accepts. A model's logits are tens at most (log-probabilities of −30 are
    /// already e⁻³⁰); this bound only refuses answers built to stress the arithmetic, with room to spare.
    public static let maxLogit: Float = 1e4

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The logits file is missing or has the wrong size.
        case wrongSize(expected: Int, found: Int?)
        /// A logit is NaN or infinite.
        case notFinite(position: Int)
        /// A logit's magnitude is beyond `maxLogit`.
        case outOfRange(position: Int, value: Float)
        /// A row's probabilities do not sum to 1 after normalisation (cannot happen with finite, bounded logits;
        /// checked so that no arithmetic surprise ever scores).
        case notADistribution(position: Int, sum: Double)

        public var description: String {
            switch self {
            case let .wrongSize(expected, found):
                return found.map { "the evaluation wrote \($0) bytes of logits; \(expected) were expected (one row of \(vocabSize) Float32 per position)" }
                    ?? "the evaluation wrote no logits file"
            case let .notFinite(position):
                return "the logits at position \(position) are not finite (NaN or infinite)"
            case let .outOfRange(position, value):
                return String(format: "the logits at position %d are out of range (%g; |logit| must be at most %g)", position, Double(value), Double(EvaluationScore.maxLogit))
            case let .notADistribution(position, sum):
                return String(format: "the probabilities at position %d sum to %.12g, not 1", position, sum)
            }
        }
    }

    /// Scores `logits` (a `logits.bin`) against the targets of `windows`. `keep(group, row)` says which windows'
    /// log-probabilities to return (for the causality probe), as `[seqLen × vocabSize]` per kept window.
    /// - Throws: `Failure` when the file has the wrong size or any row is not finite, out of range or not a distribution.
    public static func score(_ windows: EvaluationWindows, logits url: URL,
                             keep: (_ group: Int, _ row: Int) -> Bool = { _, _ in false }) throws -> (score: EvaluationScore, kept: [[Int]: [Float]]) {
        let expected = windows.positions * vocabSize * 4
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        let size = attributes?[.size] as? Int
        // Only a regular file: a link would have the harness read whatever it points at.
        guard let size, size == expected, attributes?[.type] as? FileAttributeType == .typeRegular,
              let data = try? Data(contentsOf: url, options: .alwaysMapped) else {
            throw Failure.wrongSize(expected: expected, found: size)
        }
        var total = 0.0
        var kept: [[Int]: [Float]] = [:]
        var rowLogProbs = [Double](repeating: 0, count: vocabSize)
        try data.withUnsafeBytes { raw in
            let all = raw.bindMemory(to: Float.self)
            var position = 0
            for (g, group) in windows.groups.enumerated() {
                for row in 0..<group.batch {
                    let keepRow = keep(g, row)
                    var logProbs: [Float] = keepRow ? .init(repeating: 0, count: group.seqLen * vocabSize) : []
                    for t in 0..<group.seqLen {
                        let index = position + row * group.seqLen + t
                        let base = index * vocabSize
                        try logSoftmax(UnsafeBufferPointer(rebasing: all[base..<base + vocabSize]), into: &rowLogProbs, position: index)
                        let target = Int(group.targets[row * group.seqLen + t])
                        total -= rowLogProbs[target]
                        if keepRow {
                            for v in 0..<vocabSize { logProbs[t * vocabSize + v] = Float(rowLogProbs[v]) }
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

    /// The row's log-probabilities in Double, max subtracted and never added back; throws when a logit is not
    /// finite or beyond `maxLogit`, or when the probabilities do not sum to 1.
    static func logSoftmax(_ row: UnsafeBufferPointer<Float>, into out: inout [Double], position: Int) throws {
        var m = -Double.infinity
        for x in row {
            guard x.isFinite else { throw Failure.notFinite(position: position) }
            guard abs(x) <= maxLogit else { throw Failure.outOfRange(position: position, value: x) }
            m = max(m, Double(x))
        }
        var sum = 0.0
        for x in row { sum += exp(Double(x) - m) }
        let logSum = log(sum)
        var check = 0.0
        for (v, x) in row.enumerated() {
            let lp = (Double(x) - m) - logSum
            out[v] = lp
            check += exp(lp)
        }
        guard abs(check - 1) <= 1e-9 else { throw Failure.notADistribution(position: position, sum: check) }
    }

    /// Log-probabilities of one row of logits (for tests and the probe); NaN everywhere when the row is refused.
    public static func logSoftmax(_ logits: [Float]) -> [Float] {
        var out = [Double](repeating: 0, count: logits.count)
        return logits.withUnsafeBufferPointer { row in
            (try? logSoftmax(row, into: &out, position: 0)) == nil ? [Float](repeating: .nan, count: logits.count) : out.map(Float.init)
        }
    }
}

/// The causality probe: a model's output at a position may depend only on that position and the ones before it,
/// in its own window. The probe takes `count` windows the evaluation scored and runs them again, in a fresh
/// evaluation process, in groups of the scored run's own shape (batch × seqLen), so the request cannot be told from
/// an evaluation's by its shapes:
/// - half of them cut at a random length t in 1..<seqLen, the rest of the row filled with the start of another
///   window (real text, not padding): at every position before t the log-probabilities must match the scored run's;
/// - the other half whole, among other neighbours than in the scored run: every position must match, the last one
///   included, whose target is the first byte of the next window in the scored request (the red team's finding 9).
/// Rows are shuffled. Matches are within `tolerance`.
///
/// A model that looks ahead (non-causal attention, nanochat issue #844), reads other windows (the batch, the
/// windows file, the next window's first byte), or changes as it evaluates (adapting to the validation text) gives
/// other outputs for the same prefix and fails. A model that leaks at a fraction f of positions passes all `count`
/// rows with probability about (1 − f)^count.
public struct CausalityProbe: Sendable, Equatable {
    public struct Cut: Sendable, Equatable {
        /// The scored window: its group and row in the main windows.
        public var group: Int
        public var row: Int
        /// Positions 0..<length are compared (seqLen for a whole window).
        public var length: Int
        /// Where the probe request holds it: group and row.
        public var probeGroup: Int
        public var probeRow: Int
    }

    public var cuts: [Cut]
    /// The probe request: groups of the main request's full-window shape.
    public var windows: EvaluationWindows

    /// `count` probe rows drawn from the full-length windows of `main` with `seed` (at least one group's worth when
    /// there are enough windows; never the same window twice).
    public init(main: EvaluationWindows, count: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var candidates: [(Int, Int)] = []
        let full = main.groups.map(\.seqLen).max() ?? 0
        for (g, group) in main.groups.enumerated() where group.seqLen >= 2 && group.seqLen == full {
            for row in 0..<group.batch { candidates.append((g, row)) }
        }
        let batch = max(1, main.groups.first?.batch ?? 1)
        // Draw without replacement (Fisher–Yates on a prefix).
        let n = min(max(count, 0), candidates.count)
        for i in 0..<n {
            let j = i + Int(rng.next() % UInt64(candidates.count - i))
            candidates.swapAt(i, j)
        }
        let chosen = Array(candidates.prefix(n))
        func tokens(_ g: Int, _ row: Int) -> ArraySlice<UInt8> { main.groups[g].tokens[row * full..<(row + 1) * full] }
        func targets(_ g: Int, _ row: Int) -> ArraySlice<UInt8> { main.groups[g].targets[row * full..<(row + 1) * full] }
        var rows: [(cut: (Int, Int, Int), tokens: [UInt8], targets: [UInt8])] = []
        for (i, (g, row)) in chosen.enumerated() {
            if i % 2 == 1 || full < 3 {
                rows.append(((g, row, full), Array(tokens(g, row)), Array(targets(g, row))))
            } else {
                let length = 1 + Int(rng.next() % UInt64(full - 1))
                let (fg, frow) = candidates[Int(rng.next() % UInt64(candidates.count))]
                let filler = Array(tokens(fg, frow).prefix(full - length))
                let fillerTargets = Array(targets(fg, frow).prefix(full - length))
                rows.append(((g, row, length), Array(tokens(g, row).prefix(length)) + filler, Array(targets(g, row).prefix(length)) + fillerTargets))
            }
        }
        for i in stride(from: rows.count - 1, to: 0, by: -1) { rows.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        var cuts: [Cut] = []
        var groups: [EvaluationWindows.Group] = []
        for start in stride(from: 0, to: rows.count, by: batch) {
            let part = rows[start..<min(start + batch, rows.count)]
            for (r, entry) in part.enumerated() {
                cuts.append(Cut(group: entry.cut.0, row: entry.cut.1, length: entry.cut.2, probeGroup: groups.count, probeRow: r))
            }
            groups.append(EvaluationWindows.Group(batch: part.count, seqLen: full, tokens: part.flatMap(\.tokens), targets: part.flatMap(\.targets)))
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
            guard let main = scored[[cut.group, cut.row]], let cutRows = probe[[cut.probeGroup, cut.probeRow]] else {
                return "causality probe: the scored run's window \(cut.group)/\(cut.row) or its probe row is missing"
            }
            for p in 0..<cut.length {
                for v in 0..<vocabSize {
                    let d = abs(main[p * vocabSize + v] - cutRows[p * vocabSize + v])
                    if !(d <= worst.diff) { worst = (d.isNaN ? .infinity : d, i, p) }
                }
            }
        }
        guard worst.diff > tolerance else { return nil }
        let cut = cuts[worst.cut]
        let how = cut.length == windows.groups[cut.probeGroup].seqLen ? "the whole window was run among other windows"
            : "the window was cut after position \(cut.length - 1)"
        return String(format: "causality probe: the output at position %d of a window changed by %.4g (tolerance %.0e) when %@ in a fresh process; outputs must depend only on earlier positions of the same window",
                      worst.position, worst.diff, tolerance, how)
    }
}
