import Foundation

/// The `range:` and `choices:` annotations of a hyperparameter's trailing comment.
///
/// - `range: lo..hi` (also `lo...hi`, `lo..<hi`, `lo-hi`, `lo to hi`): inclusive numeric bounds, e.g.
///   `range: 1e-4..1e-2` or `range: 1-12`.
/// - `choices: a|b|c` (also `a, b, c`): the allowed values, bare or quoted, in the parameter's type.
/// Other text in the comment is ignored.
enum Annotation {
    static func apply(_ comment: String, to parameter: inout Hyperparameter, path: String) throws {
        let text = Array(comment)
        if let start = find("range:", in: text) {
            parameter.range = try range(text, from: start, parameter: parameter, path: path)
        }
        if let start = find("choices:", in: text) {
            parameter.choices = try choices(text, from: start, parameter: parameter, path: path)
        }
    }

    /// Index just after the (case-insensitive) `keyword` in `text`.
    private static func find(_ keyword: String, in text: [Character]) -> Int? {
        let key = Array(keyword)
        guard text.count >= key.count else { return nil }
        for start in 0...(text.count - key.count) where zip(text[start...], key).allSatisfy({ $0.lowercased() == $1.lowercased() }) {
            // Only a whole word: `arrange:` is not `range:`.
            if start > 0, text[start - 1].isLetter { continue }
            return start + key.count
        }
        return nil
    }

    private static func range(_ text: [Character], from start: Int, parameter: Hyperparameter, path: String) throws -> ClosedRange<Double> {
        let fail = { (reason: String) in
            SearchError.invalidAnnotation(path: path, line: parameter.line, reason: "\(parameter.name): \(reason)")
        }
        guard parameter.value.number != nil else {
            throw fail("`range:` applies only to numbers; use `choices: a|b|c` for \(parameter.literal)")
        }
        let usage = "write the range as `range: lo..hi`, e.g. `range: 1e-4..1e-2`"
        var i = skipSpaces(text, start)
        guard let (lo, afterLo) = number(text, i) else { throw fail(usage) }
        i = skipSpaces(text, afterLo)
        var separated = false
        for separator in ["...", "..<", "..", "-", "–", "—", "to"] {
            let s = Array(separator)
            if i + s.count <= text.count, Array(text[i..<(i + s.count)]) == s { i += s.count; separated = true; break }
        }
        guard separated, let (hi, _) = number(text, skipSpaces(text, i)) else { throw fail(usage) }
        guard lo <= hi else { throw fail("range \(lo)..\(hi) has its lower bound above its upper bound; \(usage)") }
        return lo...hi
    }

    private static func choices(_ text: [Character], from start: Int, parameter: Hyperparameter, path: String) throws -> [HyperparameterValue] {
        let fail = { (reason: String) in
            SearchError.invalidAnnotation(path: path, line: parameter.line, reason: "\(parameter.name): \(reason)")
        }
        var tokens: [String] = []
        var i = skipSpaces(text, start)
        var separator: Character?
        while i < text.count {
            var token = ""
            if text[i] == "\"" || text[i] == "'" {
                let quote = text[i]
                i += 1
                while i < text.count, text[i] != quote { token.append(text[i]); i += 1 }
                guard i < text.count else { throw fail("unterminated quote in `choices:`") }
                i += 1
            } else {
                while i < text.count, !text[i].isWhitespace, !"|,;)".contains(text[i]) { token.append(text[i]); i += 1 }
            }
            guard !token.isEmpty else { break }
            tokens.append(token)
            i = skipSpaces(text, i)
            guard i < text.count, text[i] == "|" || text[i] == "," else { break }
            if separator == nil { separator = text[i] } else if separator != text[i] { break }
            i = skipSpaces(text, i + 1)
        }
        guard !tokens.isEmpty else { throw fail("`choices:` lists nothing; write e.g. `choices: relu2|gelu|silu`") }
        return try tokens.map { token in
            switch parameter.value {
            case .string: return .string(token)
            case .int:
                guard let v = Int(token.replacingOccurrences(of: "_", with: "")) else { throw fail("choice '\(token)' is not an integer like \(parameter.literal)") }
                return .int(v)
            case .double:
                guard let v = Double(token.replacingOccurrences(of: "_", with: "")) else { throw fail("choice '\(token)' is not a number like \(parameter.literal)") }
                return .double(v)
            case .bool:
                switch token.lowercased() {
                case "true": return .bool(true)
                case "false": return .bool(false)
                default: throw fail("choice '\(token)' is not true or false")
                }
            }
        }
    }

    private static func skipSpaces(_ text: [Character], _ start: Int) -> Int {
        var i = start
        while i < text.count, text[i] == " " || text[i] == "\t" { i += 1 }
        return i
    }

    /// A number at `start`: `[-+]digits[.digits][e[-+]digits]`, underscores allowed between digits.
    private static func number(_ text: [Character], _ start: Int) -> (Double, Int)? {
        var i = start
        var s = ""
        if i < text.count, text[i] == "-" || text[i] == "+" { s.append(text[i]); i += 1 }
        var digits = 0
        func takeDigits() {
            while i < text.count, text[i].isASCII, text[i].isNumber || (text[i] == "_" && digits > 0) {
                if text[i] != "_" { s.append(text[i]); digits += 1 }
                i += 1
            }
        }
        takeDigits()
        if i + 1 < text.count, text[i] == ".", text[i + 1].isASCII, text[i + 1].isNumber {
            s.append("."); i += 1; takeDigits()
        }
        guard digits > 0 else { return nil }
        if i + 1 < text.count, text[i] == "e" || text[i] == "E" {
            var j = i + 1
            var exponent = "e"
            if j < text.count, text[j] == "-" || text[j] == "+" { exponent.append(text[j]); j += 1 }
            let before = j
            while j < text.count, text[j].isASCII, text[j].isNumber { exponent.append(text[j]); j += 1 }
            if j > before { s += exponent; i = j }
        }
        return Double(s).map { ($0, i) }
    }
}
