import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real MLflow tracking server (`python -m mlflow server`, PyPI `mlflow`, installed by `scripts/mlflow-server.sh`,
/// which names its interpreter in `AUTORESEARCH_MLFLOW_PYTHON`), on a free port of 127.0.0.1 with a SQLite store in a
/// temporary folder; stopped (its process group) when released.
public final class MLflowServer {
    let process = Process()
    let folder: URL
    public let port: Int
    public var uri: String { "http://127.0.0.1:\(port)" }

    /// The interpreter the environment names; nil when `scripts/mlflow-server.sh` has not installed MLflow.
    public static var configured: String? {
        ProcessInfo.processInfo.environment["AUTORESEARCH_MLFLOW_PYTHON"].flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }
    }

    /// Starts the server and waits (up to two minutes) until its /health answers.
    public init(python: String) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlflow-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = Self.freePort()
        // Foundation starts the server as the leader of its own process group, which stop() signals as a whole.
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-m", "mlflow", "server", "--host", "127.0.0.1", "--port", "\(port)", "--workers", "1",
                             "--backend-store-uri", "sqlite:///\(folder.path)/mlflow.db", "--default-artifact-root", folder.appendingPathComponent("artifacts").path]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = try FileHandle(forWritingTo: { let log = folder.appendingPathComponent("server.log"); _ = FileManager.default.createFile(atPath: log.path, contents: nil); return log }())
        process.currentDirectoryURL = folder
        try process.run()
        let deadline = Date().addingTimeInterval(300)  // starting mlflow on a loaded 2-core machine took over 120 s once
        while Date() < deadline {
            if let (data, _) = try? await URLSession.shared.data(from: URL(string: "\(uri)/health")!), String(decoding: data, as: UTF8.self).contains("OK") { return }
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        stop()
        throw NSError(domain: "MLflowServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "mlflow server did not answer /health within 300 s"])
    }

    /// A TCP port nothing listens on now.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// SIGTERM to the server's process group (uvicorn and MLflow's job consumers), then SIGKILL after 10 s.
    func stop() {
        let group = -process.processIdentifier
        kill(group, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(100_000) }
        kill(group, SIGKILL)
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }
}
