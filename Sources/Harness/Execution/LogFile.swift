import Foundation

/// An experiment's log: appended to by the harness and its phases, capped in size by the phases' file-size
/// limit, and only ever read by its tail.
public enum LogFile {
    /// The most of a log the harness reads at once (its tail).
    public static let readLimit = 1 << 20

    public static func append(_ url: URL, _ text: String) {
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let handle = FileHandle(forWritingAtPath: url.path) {
            handle.seekToEndOfFile()
            handle.write(Data(text.utf8))
            try? handle.close()
        } else {
            try? text.write(to: url, atomically: false, encoding: .utf8)
        }
    }

    /// The size of the log in bytes (0 when it does not exist).
    public static func size(_ url: URL) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    }

    /// At most the last `bytes` of the log from `offset` on (never the whole of a huge log); nil when it cannot be read.
    public static func tail(_ url: URL, from offset: Int = 0, bytes: Int = readLimit) -> String? {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? handle.close() }
        let end = Int((try? handle.seekToEnd()) ?? 0)
        let start = max(offset, end - bytes)
        guard start < end else { return "" }
        try? handle.seek(toOffset: UInt64(start))
        let data = (try? handle.read(upToCount: end - start)) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        return start > offset ? "[… \(start - offset) earlier bytes of the log not read]\n" + text : text
    }
}
