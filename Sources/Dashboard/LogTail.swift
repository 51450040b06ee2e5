import Foundation
import Harness

/// Reading a run's log while it grows: its tail, and the training curve of the run training now.
public enum LogTail {
    /// The last `bytes` bytes of the file at `path`, from the first whole line; "" when it cannot be read.
    public static func read(_ path: String, bytes: Int) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(bytes) ? size - UInt64(bytes) : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        var text = String(decoding: data, as: UTF8.self)
        if start > 0, let newline = text.firstIndex(of: "\n") { text = String(text[text.index(after: newline)...]) }
        return text
    }

    /// The `step | loss | tok/s` points of the last run in `log` (a rerun starts again from a low step, and the
    /// dashboard shows the run training now).
    public static func currentRunCurve(_ log: String) -> [TrainingCurve.Point] {
        let lines = log.split(separator: "\n", omittingEmptySubsequences: true)
        var start = lines.endIndex
        var lastStep = Int.max
        for i in lines.indices.reversed() where lines[i].hasPrefix("step ") {
            guard let point = TrainingCurve.parse(String(lines[i])).first else { continue }
            if point.step >= lastStep { break }
            lastStep = point.step
            start = i
        }
        guard start < lines.endIndex else { return [] }
        return TrainingCurve.parse(lines[start...].joined(separator: "\n"))
    }
}
