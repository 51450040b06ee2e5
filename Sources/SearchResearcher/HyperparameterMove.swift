import Foundation

/// One step of one hyperparameter, e.g. LEARNING_RATE 0.003 → 0.0045.
public struct HyperparameterMove: Sendable, Equatable {
    /// The parameter's name.
    public var parameter: String
    /// `up` or `down` for numbers, `on` or `off` for booleans, the new value for string choices.
    public var direction: String
    /// The value before the move.
    public var from: HyperparameterValue
    /// The value after the move, inside the parameter's range or choices.
    public var to: HyperparameterValue

    public init(parameter: String, direction: String, from: HyperparameterValue, to: HyperparameterValue) {
        self.parameter = parameter; self.direction = direction; self.from = from; self.to = to
    }

    /// The bandit's label for this kind of move: `hp:<NAME>:<direction>`, e.g. `hp:LEARNING_RATE:up`.
    public var key: String { "hp:\(parameter):\(direction)" }
}

/// The candidate steps of a hyperparameter block.
///
/// - Reals: ×/÷ f with f = 1.5^stepSize, then f², √f, f³ and f^¼, rounded to 3 significant digits; a
///   parameter whose range starts at 0 may also step down to 0; a 0 steps up to 10 % of its range
///   (or 0.1 without one).
/// - Integers, by name and value: heads (`HEADS`, `N_HEAD`, …) step to the neighbouring divisors of the
///   width when there is one; depths (`DEPTH`, `N_LAYER`, `…_LAYERS`, below 64) and small counts (< 32) step by ±k, then
///   ±2k and ±3k (k = max(1, round(stepSize))); sizes (`…BATCH…`, `…WIDTH…`, `…DIM…`, `…SIZE…`,
///   `…LEN…`, …) and powers of two ≥ 16 step by ×/÷ 2^k, then 4^k and 8^k; other large counts by
///   ×/÷ f, f², √f. A width stays a
///   multiple of the heads (best effort: rounded to the nearest multiple).
/// - Booleans flip (`on` / `off`); string choices switch to each other choice; numeric choices step to
///   the neighbouring choices.
/// Every candidate is clamped to the parameter's range; positive integers without a range that
/// allows 0 stay ≥ 1; candidates equal to the current value are dropped.
public enum MoveGenerator {
    /// Parameters never moved: a seed change is not research (the harness varies the seed itself
    /// to measure the noise, see the Harness's `NoiseSettings.seedParameter`).
    public static let frozen: Set<String> = ["SEED"]

    /// The candidate moves of `parameter`, in order of preference within each direction (the usual
    /// step first, then a bigger one, then a smaller one). None for a `frozen` parameter.
    public static func moves(for parameter: Hyperparameter, in block: HyperparameterBlock,
                             settings: SearchSettings = .default) -> [HyperparameterMove] {
        let name = parameter.name
        if frozen.contains(name) { return [] }
        func move(_ direction: String, _ to: HyperparameterValue) -> HyperparameterMove {
            HyperparameterMove(parameter: name, direction: direction, from: parameter.value, to: to)
        }
        switch parameter.value {
        case .bool(let v):
            return [move(v ? "off" : "on", .bool(!v))]
        case .string(let v):
            return (parameter.choices ?? []).compactMap { choice in
                guard case .string(let c) = choice, c != v else { return nil }
                return move(c, choice)
            }
        case .int, .double:
            if let choices = parameter.choices {
                return numericChoiceMoves(parameter, choices).map { move($0.0, $0.1) }
            }
            let up = steps(parameter, block: block, settings: settings, up: true)
            let down = steps(parameter, block: block, settings: settings, up: false)
            return up.map { move("up", $0) } + down.map { move("down", $0) }
        }
    }

    /// Every candidate move of every parameter in `block`, parameters in file order.
    public static func moves(in block: HyperparameterBlock, settings: SearchSettings = .default) -> [HyperparameterMove] {
        block.parameters.flatMap { moves(for: $0, in: block, settings: settings) }
    }

    private static func numericChoiceMoves(_ p: Hyperparameter, _ choices: [HyperparameterValue]) -> [(String, HyperparameterValue)] {
        guard let v = p.value.number else { return [] }
        var seen: Set<Double> = []
        let sorted = choices.filter { $0.number.map { seen.insert($0).inserted } ?? false }
            .sorted { ($0.number ?? 0) < ($1.number ?? 0) }
        let up = sorted.filter { ($0.number ?? v) > v }.map { ("up", $0) }
        let down = sorted.filter { ($0.number ?? v) < v }.reversed().map { ("down", $0) }
        return up + down
    }

    // MARK: numeric steps

    private static func steps(_ p: Hyperparameter, block: HyperparameterBlock, settings: SearchSettings,
                              up: Bool) -> [HyperparameterValue] {
        switch p.value {
        case .double(let v):
            return realSteps(v, range: p.range, settings: settings, up: up).map { .double($0) }
        case .int(let v):
            return integerSteps(p, v, block: block, settings: settings, up: up).map { .int($0) }
        default:
            return []
        }
    }

    static func roundSignificant(_ v: Double, digits: Int = 3) -> Double {
        guard v.isFinite, v != 0 else { return v }
        return Double(String(format: "%.\(digits - 1)e", v)) ?? v
    }

    private static func realSteps(_ v: Double, range: ClosedRange<Double>?, settings: SearchSettings, up: Bool) -> [Double] {
        let f = pow(1.5, settings.stepSize)
        var raw: [Double]
        if v == 0 {
            guard up else { return [] }
            if let r = range, r.upperBound > 0 {
                let lo = max(r.lowerBound, 0), span = r.upperBound - lo
                raw = [lo + span * 0.1, lo + span * 0.3, lo + span * 0.03]
            } else {
                raw = [0.1, 0.01]
            }
        } else {
            // Up means numerically larger, also for negative values.
            let grow = (v > 0) == up
            raw = [f, f * f, f.squareRoot(), f * f * f, pow(f, 0.25)].map { grow ? v * $0 : v / $0 }
            if !up, let r = range, r.lowerBound == 0, v > 0 { raw.append(0) }
        }
        var out: [Double] = []
        for candidate in raw where candidate.isFinite {
            var c = roundSignificant(candidate)
            if let r = range { c = min(max(c, r.lowerBound), r.upperBound) }
            if c != v, (c > v) == up, !out.contains(c) { out.append(c) }
        }
        return out
    }

    private static func integerSteps(_ p: Hyperparameter, _ v: Int, block: HyperparameterBlock,
                                     settings: SearchSettings, up: Bool) -> [Int] {
        let name = p.name
        let k = min(16, max(1, settings.stepSize.rounded()))
        let width = block.parameters.first { isWidth($0.name) && $0.name != name }.flatMap { param -> Int? in
            if case .int(let w) = param.value { return w } else { return nil }
        }
        let heads = block.parameters.first { isHeads($0.name) && $0.name != name }.flatMap { param -> Int? in
            if case .int(let h) = param.value { return h } else { return nil }
        }
        // In Double, so that no step can overflow; converted back with clamping below.
        let x = Double(v)
        var raw: [Double]
        if isHeads(name), let width, width > 0, width <= 1 << 20 {
            let divisors = (1...width).filter { width % $0 == 0 }.map(Double.init)
            raw = up ? Array(divisors.filter { $0 > x }.prefix(3)) : Array(divisors.filter { $0 < x }.reversed().prefix(3))
        } else if isDepth(name), v.magnitude < 64 {
            raw = [1.0, 2, 3].map { up ? x + $0 * k : x - $0 * k }
        } else if isSize(name) || (v >= 16 && v & (v - 1) == 0) {
            let m = pow(2, k)
            raw = v == 0 ? (up ? [1] : []) : [m, m * m, m * m * m].map { up ? x * $0 : ($0 <= x.magnitude ? (x / $0).rounded(.towardZero) : 0) }
        } else if v.magnitude < 32 {
            raw = [1.0, 2, 3].map { up ? x + $0 * k : x - $0 * k }
        } else {
            let f = pow(1.5, settings.stepSize)
            let grow = (v > 0) == up
            raw = [f, f * f, f.squareRoot()].map { factor in
                let scaled = (grow ? x * factor : x / factor).rounded()
                return scaled == x ? x + (up ? 1 : -1) : scaled
            }
        }
        if isWidth(name), let heads, heads > 0 {
            let h = Double(heads)
            raw = raw.map { max(h, ($0 / h).rounded() * h) }
        }
        let limit = 9.0e15  // well inside both Int and exact Double integers
        let floor = max(-limit, p.range.map { $0.lowerBound.rounded(.up) } ?? (v >= 1 ? 1 : -limit))
        let ceiling = min(limit, p.range.map { $0.upperBound.rounded(.down) } ?? limit)
        guard floor <= ceiling else { return [] }
        var out: [Int] = []
        for candidate in raw where candidate.isFinite {
            let c = Int(min(max(candidate, floor), ceiling))
            if c != v, (c > v) == up, !out.contains(c) { out.append(c) }
        }
        return out
    }

    static func isHeads(_ name: String) -> Bool {
        name == "HEADS" || name.hasSuffix("_HEADS") || name == "N_HEAD" || name.hasSuffix("_N_HEAD")
    }

    /// A model's depth: `DEPTH`, `N_LAYER`, `NUM_LAYERS`, `ENCODER_DEPTH`, … — not a name that merely contains the
    /// word (`GEMM_SIMD_DEPTH_BLOCK`, a block of a product's depth K, is a size: it steps by powers of two).
    static func isDepth(_ name: String) -> Bool {
        let words = name.split(separator: "_")
        guard let last = words.last else { return false }
        return ["DEPTH", "LAYER", "LAYERS"].contains(last) || (words.first == "N" && last.hasPrefix("LAYER"))
    }

    static func isWidth(_ name: String) -> Bool {
        ["WIDTH", "MODEL_WIDTH", "N_EMBD", "N_EMBED", "D_MODEL", "MODEL_DIM", "EMBED_DIM", "EMBEDDING_DIM",
         "HIDDEN_SIZE", "HIDDEN_DIM", "DIM"].contains(name)
    }

    static func isSize(_ name: String) -> Bool {
        ["BATCH", "WIDTH", "DIM", "EMBD", "EMBED", "HIDDEN", "SIZE", "LEN", "CONTEXT", "SEQ", "TOKENS", "VOCAB", "CHANNELS"]
            .contains { name.contains($0) }
    }
}
