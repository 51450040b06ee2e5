import Foundation
import Synchronization

/// One entry of a researcher's transcript.
public struct TranscriptEntry: Sendable, Codable, Equatable {
    /// system, user, assistant, tool_call, tool_result, http, harness, command.
    public var kind: String
    public var text: String
    /// Seconds since the transcript began.
    public var at: Double

    public init(kind: String, text: String, at: Double) { self.kind = kind; self.text = text; self.at = at }
}

/// Everything one researcher said and was told during one experiment, with secrets removed.
///
/// Every text passes through the redactor before it is stored: each secret the log knows about
/// (the API key of the backend, any `*_API_KEY`/`*_TOKEN` in the environment) is replaced by
/// `[redacted]`, so a key a model or server echoes back never reaches the ledger.
public final class TranscriptLog: Sendable {
    private let state = Mutex<[TranscriptEntry]>([])
    private let start = Date()
    private let secrets: [String]

    public init(secrets: [String]) {
        self.secrets = secrets.filter { $0.count >= 8 }.sorted { $0.count > $1.count }
    }

    /// The environment's secrets: values of variables whose names end in _KEY, _TOKEN, _SECRET or _PASSWORD.
    public static func environmentSecrets(_ env: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        env.filter { name, _ in ["_KEY", "_TOKEN", "_SECRET", "_PASSWORD"].contains { name.uppercased().hasSuffix($0) } }
            .map(\.value)
    }

    public func redact(_ text: String) -> String {
        var out = text
        for secret in secrets where out.contains(secret) { out = out.replacingOccurrences(of: secret, with: "[redacted]") }
        return out
    }

    public func append(_ kind: String, _ text: String) {
        let entry = TranscriptEntry(kind: kind, text: redact(text), at: Date().timeIntervalSince(start))
        state.withLock { $0.append(entry) }
    }

    public var entries: [TranscriptEntry] { state.withLock { $0 } }

    /// The transcript as JSON (what the ledger stores).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(entries)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    /// A stored transcript in reading form, as `autoresearch show` prints it.
    public static func render(json: String) -> String {
        guard let entries = try? JSONDecoder().decode([TranscriptEntry].self, from: Data(json.utf8)) else { return json }
        return entries.map { entry in
            let head = String(format: "[%6.1fs] %@", entry.at, entry.kind)
            return head + "\n" + entry.text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "    " + $0 }.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
