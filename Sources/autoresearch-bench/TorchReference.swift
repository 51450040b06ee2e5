import Foundation

/// PyTorch eager's side of the bench: `scripts/bench/torch_step.py` in a child process, asked over JSON
/// lines to time the same model's training steps. It starts with `OMP_WAIT_POLICY=PASSIVE` so its
/// OpenMP threads sleep (rather than spin) while our side runs, and with as many threads as ours.
final class TorchReference {
    /// What the script reported at start: torch's version, its threads and its BLAS.
    private(set) var version = "", threads = 0, blas = ""
    private let process: Process
    private let input: FileHandle, output: FileHandle
    private var buffer = Data()

    enum StartError: Error, CustomStringConvertible {
        case notStarted(String)
        var description: String { if case .notStarted(let why) = self { return why }; return "" }
    }

    /// Starts `python script threads` and reads its greeting.
    /// - Throws: `StartError.notStarted` naming the cause (no such Python, torch not importable, with the
    ///   script's last stderr line) and how to fix it.
    init(python: String, script: String, threads: Int) throws {
        guard FileManager.default.fileExists(atPath: script) else {
            throw StartError.notStarted("the PyTorch script \(script) does not exist (pass --torch-script PATH)")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, String(threads)]
        var env = ProcessInfo.processInfo.environment
        env["OMP_WAIT_POLICY"] = "PASSIVE"
        env["OMP_NUM_THREADS"] = String(threads)
        env["MKL_NUM_THREADS"] = String(threads)
        process.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin; process.standardOutput = stdout; process.standardError = stderr
        input = stdin.fileHandleForWriting; output = stdout.fileHandleForReading
        do { try process.run() } catch {
            throw StartError.notStarted("could not start \(python): \(error.localizedDescription) (pass --python PY)")
        }
        guard let line = readLine(), let hello = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let version = hello["torch"] as? String else {
            process.waitUntilExit()
            let why = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .split(separator: "\n").last.map(String.init) ?? "no output"
            throw StartError.notStarted("\(python) could not run the PyTorch side: \(why) " +
                                        "(install torch, e.g. scripts/bench/tensorcore.sh makes a venv, or pass --python PY)")
        }
        self.version = version
        self.threads = hello["threads"] as? Int ?? threads
        self.blas = hello["blas"] as? String ?? "?"
    }

    /// Times PyTorch's training steps of `config` for at least `seconds`; tokens per second, or nil if the
    /// script died (its process is then gone and the bench goes on without it).
    func time(_ config: Config, seconds: Double) -> Double? {
        let request: [String: Any] = [
            "config": ["layers": config.layers, "heads": config.heads, "width": config.width, "mlp_ratio": config.mlpRatio,
                       "context": config.context, "batch": config.batch],
            "seconds": seconds,
        ]
        guard process.isRunning, let data = try? JSONSerialization.data(withJSONObject: request) else { return nil }
        do { try input.write(contentsOf: data + Data("\n".utf8)) } catch { return nil }
        guard let line = readLine(), let answer = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { return nil }
        return answer["tokens_per_second"] as? Double
    }

    private func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = output.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    deinit {
        try? input.close()
        if process.isRunning { process.terminate() }
    }
}
