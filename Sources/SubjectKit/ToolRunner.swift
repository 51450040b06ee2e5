import Foundation

/// Runs the corpus preparation's helper programs (pip, tar) with Foundation's Process: blocking, output captured. (Not
/// AutoResearchCore's `ProcessRunner`, which the harness uses for phases: SubjectKit depends on nothing of ours.)
enum ToolRunner {
    struct Result {
        var status: Int32
        /// Standard output and standard error, interleaved.
        var output: String

        /// The last line starting `ERROR:` (pip's verdict), else the last non-empty line.
        var lastLine: String {
            let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            return lines.last(where: { $0.hasPrefix("ERROR:") }) ?? lines.last ?? ""
        }
    }

    /// The executable that `name` denotes: a path if it contains `/`, otherwise the first match on
    /// `PATH` in `environment`. Nil when there is no such executable file.
    static func resolve(_ name: String, environment: [String: String]) -> URL? {
        let fm = FileManager.default
        if name.contains("/") {
            return fm.isExecutableFile(atPath: name) ? URL(fileURLWithPath: name) : nil
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if fm.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Runs `executable` with `arguments`, stdin closed, and waits for it.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw SubjectError.fileSystem(action: "run", path: executable.path, reason: "\(error.localizedDescription)")
        }
        // Read to the end before waiting, so a chatty child never blocks on a full pipe.
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
