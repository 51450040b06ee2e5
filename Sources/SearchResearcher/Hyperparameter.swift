import Foundation

/// The literal value of one hyperparameter, as written in the editable file.
public enum HyperparameterValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)

    /// The value as a number (ints and doubles), or nil for bools and strings.
    public var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        case .bool, .string: return nil
        }
    }

    /// A neutral rendering (Swift spelling); use `Hyperparameter.literal(for:)` to get the file's own style.
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return LiteralFormat.plainDecimal(v)
        case .bool(let v): return v ? "true" : "false"
        case .string(let v): return "\"\(v)\""
        }
    }
}

/// One ALL_CAPS constant of a hyperparameter block, e.g. `let LEARNING_RATE = 0.003  // range: 1e-4..1e-2`.
public struct Hyperparameter: Sendable, Equatable {
    /// The constant's name, e.g. `LEARNING_RATE`.
    public var name: String
    /// The current value.
    public var value: HyperparameterValue
    /// The literal exactly as written (`3e-3`, `0.003`, `True`, `'relu2'`); its style is kept on rewrite.
    public var literal: String
    /// The inclusive bounds from a `range: lo..hi` (or `lo-hi`) annotation, if any.
    public var range: ClosedRange<Double>?
    /// The allowed values from a `choices: a|b|c` (or `a, b, c`) annotation, if any, in the order written.
    public var choices: [HyperparameterValue]?
    /// The 1-based line number in the file.
    public var line: Int
    /// The trailing comment without its `//` or `#`, if any.
    public var comment: String?

    public init(name: String, value: HyperparameterValue, literal: String, range: ClosedRange<Double>? = nil,
                choices: [HyperparameterValue]? = nil, line: Int, comment: String? = nil) {
        self.name = name; self.value = value; self.literal = literal; self.range = range
        self.choices = choices; self.line = line; self.comment = comment
    }

    /// `value` written in the style of this parameter's literal: the same quote character, `True` vs `true`,
    /// `3e-3` vs `0.003`, `524_288` vs `524288`. A double is always written with a dot or an exponent so
    /// that it stays a floating-point literal in both Swift and Python.
    public func literal(for value: HyperparameterValue) -> String {
        LiteralFormat.render(value, likeLiteral: literal)
    }
}

/// Rendering of literals in the style of an existing one.
enum LiteralFormat {
    static func render(_ value: HyperparameterValue, likeLiteral original: String) -> String {
        switch value {
        case .int(let v):
            if original.contains("_") { return grouped(v) }
            return String(v)
        case .double(let v):
            if original.contains("e") || original.contains("E") {
                let upper = original.contains("E")
                let mantissaPart = original.split(whereSeparator: { $0 == "e" || $0 == "E" }).first.map(String.init) ?? ""
                let exponentPart = original.split(whereSeparator: { $0 == "e" || $0 == "E" }).dropFirst().first.map(String.init) ?? ""
                let digitsOnly = exponentPart.filter(\.isNumber)
                return scientific(v, upperE: upper, plusSign: exponentPart.hasPrefix("+"),
                                  padExponent: digitsOnly.count >= 2 && digitsOnly.hasPrefix("0"),
                                  mantissaDot: mantissaPart.contains("."))
            }
            return plainDecimal(v)
        case .bool(let v):
            let capitalized = original.first == "T" || original.first == "F"
            return capitalized ? (v ? "True" : "False") : (v ? "true" : "false")
        case .string(let s):
            let quote: Character = original.first == "'" ? "'" : "\""
            return "\(quote)\(s)\(quote)"
        }
    }

    static func grouped(_ v: Int) -> String {
        let digits = Array(String(v.magnitude))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append("_") }
            out.append(d)
        }
        return (v < 0 ? "-" : "") + out
    }

    /// The shortest round-trip decimal digits of `v`: `v = ±0.d₁d₂… × 10^exponent`; empty digits for zero.
    static func decimalDigits(_ v: Double) -> (negative: Bool, digits: [Character], exponent: Int) {
        let text = v.magnitude.description  // "0.0045", "1e-05", "4.5e+20", "123.0"
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts.first.map(String.init) ?? "0"
        let exp = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let point = mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count
        var digits = Array(mantissa.filter { $0 != "." })
        var position = point + exp
        while let first = digits.first, first == "0" { digits.removeFirst(); position -= 1 }
        while let last = digits.last, last == "0" { digits.removeLast() }
        if digits.isEmpty { position = 0 }
        return (v < 0, digits, position)
    }

    /// `v` as a plain decimal with at least one digit after the point: `0.0045`, `2.0`, `0.00001`.
    static func plainDecimal(_ v: Double) -> String {
        guard v.isFinite else { return v.description }
        let (negative, digits, e) = decimalDigits(v)
        let sign = negative ? "-" : ""
        if digits.isEmpty { return "0.0" }
        if e <= 0 { return sign + "0." + String(repeating: "0", count: -e) + String(digits) }
        if e >= digits.count { return sign + String(digits) + String(repeating: "0", count: e - digits.count) + ".0" }
        return sign + String(digits[..<e]) + "." + String(digits[e...])
    }

    /// `v` in scientific notation with a mantissa in [1, 10): `4.5e-3`, `6e-3`.
    static func scientific(_ v: Double, upperE: Bool = false, plusSign: Bool = false, padExponent: Bool = false,
                           mantissaDot: Bool = false) -> String {
        guard v.isFinite else { return v.description }
        let (negative, digits, e) = decimalDigits(v)
        let letter = upperE ? "E" : "e"
        if digits.isEmpty { return mantissaDot ? "0.0\(letter)0" : "0\(letter)0" }
        var mantissa = String(digits[0])
        if digits.count > 1 { mantissa += "." + String(digits[1...]) } else if mantissaDot { mantissa += ".0" }
        let exponent = e - 1
        var expDigits = String(exponent.magnitude)
        if padExponent && expDigits.count < 2 { expDigits = "0" + expDigits }
        let expSign = exponent < 0 ? "-" : (plusSign ? "+" : "")
        return (negative ? "-" : "") + mantissa + letter + expSign + expDigits
    }
}
