import Foundation

/// Runs Fixtures/llama_server.py: llama.cpp's real HTTP server (PyPI `xllamacpp`) serving a small instruct model.
/// `scripts/llama-server.sh` installs both and names them in `AUTORESEARCH_LLAMA_PYTHON` and `AUTORESEARCH_LLAMA_MODEL`.
public final class LlamaServer {
    let process = Process()
    let input = Pipe()
    public let port: Int
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }

    /// The interpreter and model the environment names; nil when `scripts/llama-server.sh` has not set them up.
    public static var configured: (python: String, model: String)? {
        let env = ProcessInfo.processInfo.environment
        guard let python = env["AUTORESEARCH_LLAMA_PYTHON"], let model = env["AUTORESEARCH_LLAMA_MODEL"],
              FileManager.default.fileExists(atPath: model) else { return nil }
        return (python, model)
    }

    public init(python: String, model: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/llama_server.py")
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, model]
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = input
        try process.run()
        let text = firstLine(of: out)
        guard let port = Int(text.replacingOccurrences(of: "PORT ", with: "")) else {
            throw NSError(domain: "LlamaServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "llama.cpp's server did not start: '\(text)'"])
        }
        self.port = port
    }

    deinit {
        try? input.fileHandleForWriting.close()  // the server exits when its standard input closes
        process.waitUntilExit()
    }
}

/// The first line a child process prints on `pipe` (without its newline): how the test servers announce their port.
public func firstLine(of pipe: Pipe) -> String {
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
    }
    return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
