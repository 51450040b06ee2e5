import Foundation

/// The secret that state-changing requests (stop, pause, resume) must carry as `Authorization: Bearer TOKEN`.
/// Made fresh by every `autoresearch serve` from the system's random generator and printed once on its terminal;
/// never written to a file or a log.
public struct ControlToken: Sendable, Equatable, CustomStringConvertible {
    public let value: String

    /// 32 random bytes (`SystemRandomNumberGenerator`), as 64 hex digits.
    public static func random() -> ControlToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return ControlToken(value: bytes.map { String(format: "%02x", $0) }.joined())
    }

    public init(value: String) { self.value = value }

    public var description: String { value }

    /// Whether an `Authorization` header carries this token; compares in constant time (every byte, whatever the first
    /// difference), so the answer's timing tells nothing about how much of a guess was right.
    public func accepts(authorization header: String?) -> Bool {
        guard let header else { return false }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else { return false }
        return Self.constantTimeEqual(Array(header.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces).utf8), Array(value.utf8))
    }

    /// Equal byte strings, in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
