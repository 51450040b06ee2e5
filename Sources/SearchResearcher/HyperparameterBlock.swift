import Foundation

/// The hyperparameter block of an editable file: the ALL_CAPS constants with literal values near the
/// top, one per line, in Swift or Python:
///
/// ```swift
/// let LEARNING_RATE = 3e-3      // range: 1e-4..1e-2
/// let DEPTH = 4                 // range: 1..12
/// let ACTIVATION = "relu2"      // choices: relu2|gelu|silu
/// let USE_ROPE = true
/// ```
/// ```python
/// LEARNING_RATE = 0.003  # range: 1e-4-1e-2
/// ACTIVATION = 'relu2'   # choices: relu2, gelu, silu
/// ```
///
/// The block is the first run of lines, from the top, made only of top-level ALL_CAPS assignments,
/// comments and blank lines that holds at least one assignment with a literal value; any other line
/// ends it. Assignments whose value is not a literal (`TOTAL_BATCH = 2**19`) stay in the run but are
/// not parameters. Literals: integers (`524_288` too), floating-point numbers (`0.003`, `3e-3`),
/// booleans (`true`/`false`, `True`/`False`) and strings in `"` or `'` without escapes. A Swift
/// declaration may carry access modifiers and a type annotation (`let LR: Float = 1` is a
/// floating-point parameter). When a name is assigned twice, the first assignment is the parameter.
public struct HyperparameterBlock: Sendable, Equatable {
    /// The path the block was parsed from, as given to `parse(_:path:)`; used in messages.
    public var path: String
    /// The parameters in file order.
    public var parameters: [Hyperparameter]

    public init(path: String, parameters: [Hyperparameter]) {
        self.path = path; self.parameters = parameters
    }

    /// The parameter called `name`, if the block has one.
    public func parameter(named name: String) -> Hyperparameter? {
        parameters.first { $0.name == name }
    }

    /// Parses the hyperparameter block of `source`.
    /// - Parameter path: the file's path, only for messages.
    /// - Throws: `SearchError.noHyperparameterBlock` when the file has no block;
    ///   `SearchError.invalidAnnotation` for a `range:` or `choices:` comment that cannot be used.
    public static func parse(_ source: String, path: String) throws -> HyperparameterBlock {
        let syntax = CommentSyntax(path: path)
        var run: [Hyperparameter] = []
        var seen: Set<String> = []
        for (index, line) in SourceLines.split(source).enumerated() {
            switch LineKind.classify(line, syntax: syntax) {
            case .blankOrComment:
                continue
            case .other:
                if !run.isEmpty { return HyperparameterBlock(path: path, parameters: run) }
                seen = []
            case .declaration(let declaration):
                guard let value = declaration.value, !seen.contains(declaration.name) else { continue }
                seen.insert(declaration.name)
                let literal = String(decoding: line[declaration.valueRange], as: UTF8.self)
                var parameter = Hyperparameter(name: declaration.name, value: value, literal: literal,
                                               line: index + 1, comment: declaration.comment)
                if let comment = declaration.comment {
                    try Annotation.apply(comment, to: &parameter, path: path)
                }
                run.append(parameter)
            }
        }
        if run.isEmpty { throw SearchError.noHyperparameterBlock(path: path) }
        return HyperparameterBlock(path: path, parameters: run)
    }

    /// `source` with the value of the first top-level assignment to `name` replaced by `value`, written in
    /// the style of the parameter's literal (see `Hyperparameter.literal(for:)`). Only that value changes:
    /// the rest of the line, its comment and every other byte stay as they were. Returns `source`
    /// unchanged when it has no such assignment with a literal value.
    public func replacing(_ name: String, with value: HyperparameterValue, in source: String) -> String {
        var lines = SourceLines.split(source)
        for i in lines.indices {
            guard case .declaration(let declaration) = LineKind.classify(lines[i], syntax: CommentSyntax(path: path)),
                  declaration.name == name, declaration.value != nil else { continue }
            let original = String(decoding: lines[i][declaration.valueRange], as: UTF8.self)
            let style = parameter(named: name)?.literal ?? original
            let rendered = LiteralFormat.render(value, likeLiteral: style)
            lines[i].replaceSubrange(declaration.valueRange, with: Array(rendered.utf8))
            return SourceLines.join(lines)
        }
        return source
    }
}

/// Splitting a file into lines of UTF-8 bytes and joining them back, byte for byte (a `\r` before a
/// `\n` stays at the end of its line).
enum SourceLines {
    static func split(_ source: String) -> [[UInt8]] {
        Array(source.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
    }

    static func join(_ lines: [[UInt8]]) -> String {
        String(decoding: Array(lines.joined(separator: [UInt8(ascii: "\n")])), as: UTF8.self)
    }
}

/// Which trailing comments a file has, from its extension: `#` for Python (where `//` is floor
/// division), `//` for Swift and C-like files, either for anything else.
enum CommentSyntax: Equatable {
    case hash, slashes, both

    init(path: String) {
        switch (path as NSString).pathExtension.lowercased() {
        case "py", "pyi", "sh", "toml", "yaml", "yml", "rb", "jl", "r": self = .hash
        case "swift", "c", "h", "cc", "cpp", "cu", "m", "mm", "js", "ts", "go", "rs", "java", "kt", "zig": self = .slashes
        default: self = .both
        }
    }
}

/// A top-level ALL_CAPS assignment as found on one line.
struct Declaration {
    var name: String
    /// The literal value, or nil when the right-hand side is not a single literal.
    var value: HyperparameterValue?
    /// Byte range of the value's literal within the line (empty when `value` is nil).
    var valueRange: Range<Int>
    /// The trailing comment's text after `//` or `#`, if any.
    var comment: String?
}

/// How a line takes part in the block.
enum LineKind {
    case blankOrComment
    case declaration(Declaration)
    case other

    static func classify(_ line: [UInt8], syntax: CommentSyntax) -> LineKind {
        var trimmed = line[...]
        while let f = trimmed.first, f == 0x20 || f == 0x09 || f == 0x0D { trimmed = trimmed.dropFirst() }
        if trimmed.isEmpty { return .blankOrComment }
        let text = String(decoding: trimmed.prefix(2), as: UTF8.self)
        if text.hasPrefix("#") || text == "//" || text == "/*" || text.hasPrefix("*") { return .blankOrComment }
        if trimmed.count != line.count { return .other }  // indented: not top level
        var lexer = LineLexer(line, syntax: syntax)
        if let declaration = lexer.declaration() { return .declaration(declaration) }
        return .other
    }
}

/// A small lexer for `[modifiers] [let|var] NAME [: Type] = literal [// comment | # comment]`.
struct LineLexer {
    let bytes: [UInt8]
    let syntax: CommentSyntax
    var i = 0

    init(_ bytes: [UInt8], syntax: CommentSyntax) { self.bytes = bytes; self.syntax = syntax }

    private var current: UInt8? { i < bytes.count ? bytes[i] : nil }
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }
    private static func isIdentifier(_ b: UInt8) -> Bool {
        isDigit(b) || isUpper(b) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }

    private mutating func skipSpaces() { while let c = current, Self.isSpace(c) { i += 1 } }

    private mutating func word() -> String? {
        let start = i
        while let c = current, Self.isIdentifier(c) { i += 1 }
        return i > start ? String(decoding: bytes[start..<i], as: UTF8.self) : nil
    }

    mutating func declaration() -> Declaration? {
        let modifiers: Set<String> = ["public", "private", "fileprivate", "internal", "package", "let", "var"]
        var name: String?
        while name == nil {
            guard let w = word() else { return nil }
            guard modifiers.contains(w) else { name = w; break }
            guard let c = current, Self.isSpace(c) else { return nil }
            skipSpaces()
        }
        guard let name, let first = name.utf8.first, Self.isUpper(first),
              name.utf8.allSatisfy({ Self.isUpper($0) || Self.isDigit($0) || $0 == 0x5F }) else { return nil }
        skipSpaces()
        var floatingType = false
        if current == UInt8(ascii: ":") {
            i += 1; skipSpaces()
            let typeStart = i
            while let c = current, Self.isIdentifier(c) || c == UInt8(ascii: ".") { i += 1 }
            guard i > typeStart else { return nil }
            let type = String(decoding: bytes[typeStart..<i], as: UTF8.self)
            floatingType = ["Double", "Float", "Float32", "Float64", "CGFloat", "float"].contains(type)
            skipSpaces()
        }
        guard current == UInt8(ascii: "=") else { return nil }
        i += 1
        if current == UInt8(ascii: "=") { return nil }
        skipSpaces()
        let valueStart = i
        guard var value = literal() else {
            return Declaration(name: name, value: nil, valueRange: valueStart..<valueStart, comment: nil)
        }
        let valueEnd = i
        skipSpaces()
        if current == UInt8(ascii: ";") { i += 1; skipSpaces() }
        var comment: String?
        if current == UInt8(ascii: "#"), syntax != .slashes {
            comment = String(decoding: bytes[(i + 1)...], as: UTF8.self)
        } else if syntax != .hash, current == UInt8(ascii: "/"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "/") {
            comment = String(decoding: bytes[(i + 2)...], as: UTF8.self)
        } else if current != nil {
            return Declaration(name: name, value: nil, valueRange: valueStart..<valueStart, comment: nil)
        }
        if floatingType, case .int(let v) = value { value = .double(Double(v)) }
        return Declaration(name: name, value: value, valueRange: valueStart..<valueEnd,
                           comment: comment?.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Lexes a literal at `i`, leaving `i` after it; nil (with `i` unspecified) when there is none.
    private mutating func literal() -> HyperparameterValue? {
        guard let c = current else { return nil }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            let start = i + 1
            var j = start
            while j < bytes.count, bytes[j] != c {
                if bytes[j] == UInt8(ascii: "\\") { return nil }
                j += 1
            }
            guard j < bytes.count else { return nil }
            i = j + 1
            return .string(String(decoding: bytes[start..<j], as: UTF8.self))
        }
        if Self.isIdentifier(c) && !Self.isDigit(c) {
            guard let w = word() else { return nil }
            switch w {
            case "true", "True": return .bool(true)
            case "false", "False": return .bool(false)
            default: return nil
            }
        }
        return number()
    }

    private mutating func number() -> HyperparameterValue? {
        let start = i
        if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") { i += 1 }
        var digits = 0, isFloat = false
        while let c = current, Self.isDigit(c) || (c == UInt8(ascii: "_") && digits > 0) { if c != 0x5F { digits += 1 }; i += 1 }
        if current == UInt8(ascii: "."), i + 1 < bytes.count, Self.isDigit(bytes[i + 1]) || digits > 0 {
            // A dot followed by a non-digit letter is member access (`1.description`), not a literal.
            if i + 1 < bytes.count, Self.isIdentifier(bytes[i + 1]), !Self.isDigit(bytes[i + 1]),
               bytes[i + 1] != UInt8(ascii: "e"), bytes[i + 1] != UInt8(ascii: "E") { return nil }
            isFloat = true; i += 1
            while let c = current, Self.isDigit(c) || c == UInt8(ascii: "_") { if c != 0x5F { digits += 1 }; i += 1 }
        }
        guard digits > 0 else { return nil }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isFloat = true; i += 1
            if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") { i += 1 }
            var expDigits = 0
            while let c = current, Self.isDigit(c) { expDigits += 1; i += 1 }
            guard expDigits > 0 else { return nil }
        }
        if let c = current, Self.isIdentifier(c) || c == UInt8(ascii: ".") { return nil }
        let text = String(decoding: bytes[start..<i], as: UTF8.self).replacingOccurrences(of: "_", with: "")
        if isFloat { return Double(text).map { .double($0) } }
        return Int(text).map { .int($0) }
    }
}
