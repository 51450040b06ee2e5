import Foundation

/// Every stretch of `window` letters of the validation and test splits, hashed, so that admission can refuse an
/// edit that carries either split verbatim (the red team's finding 3: a causal n-gram table built from val.txt and
/// test.txt, pasted into the editable file, passed the probe and was kept).
///
/// Text is compared as its letters only, lowercased, after the usual string-literal escapes (`\n`, `\t`, `\"`,
/// `\\`, `\'`, `\u{…}`) are undone, so line breaks, punctuation, quoting and case do not hide a copy: a 64-letter
/// stretch is about 80 bytes of Shakespeare. The hash is a 64-bit polynomial rolling hash (Karp–Rabin), one set
/// lookup per position; a chance collision over a 600 K-letter split and a 100 K-letter file is about 1e-8.
public struct SplitLeakIndex: Sendable {
    public static let window = 64
    let hashes: Set<UInt64>
    static let base: UInt64 = 1_099_511_628_211

    /// The index of `splits` (name, bytes).
    public init(_ splits: [[UInt8]]) {
        var set = Set<UInt64>()
        for split in splits { Self.forEachWindow(Self.letters(split)) { set.insert($0) } }
        hashes = set
    }

    /// The number of `window`-letter stretches of `text` that are in a split and not in `allowed` (the file before
    /// the edit: what the baseline already held is not the researcher's copy).
    public func copiedStretches(in text: String, allowed: String = "") -> Int {
        var before = Set<UInt64>()
        Self.forEachWindow(Self.letters(Array(Self.unescaped(allowed).utf8))) { before.insert($0) }
        var count = 0
        Self.forEachWindow(Self.letters(Array(Self.unescaped(text).utf8))) { h in
            if hashes.contains(h), !before.contains(h) { count += 1 }
        }
        return count
    }

    /// ASCII letters, lowercased.
    static func letters(_ bytes: [UInt8]) -> [UInt8] {
        bytes.compactMap { b in
            if b >= 65 && b <= 90 { return b + 32 }
            return b >= 97 && b <= 122 ? b : nil
        }
    }

    /// String-literal escapes undone, so `"Thou\\nart"` compares as the text it stands for.
    static func unescaped(_ text: String) -> String {
        var s = text
        for (escape, plain) in [(#"\n"#, " "), (#"\t"#, " "), (#"\r"#, " "), (#"\""#, "\""), (#"\'"#, "'"), (#"\\"#, "\\")] {
            s = s.replacingOccurrences(of: escape, with: plain)
        }
        return s.replacingOccurrences(of: #"\\u\{[0-9a-fA-F]+\}"#, with: " ", options: .regularExpression)
    }

    static func forEachWindow(_ letters: [UInt8], _ body: (UInt64) -> Void) {
        let w = window
        guard letters.count >= w else { return }
        var power: UInt64 = 1
        for _ in 0..<(w - 1) { power = power &* base }
        var h: UInt64 = 0
        for i in 0..<w { h = h &* base &+ UInt64(letters[i]) }
        body(h)
        for i in w..<letters.count {
            h = (h &- UInt64(letters[i - w]) &* power) &* base &+ UInt64(letters[i])
            body(h)
        }
    }
}
