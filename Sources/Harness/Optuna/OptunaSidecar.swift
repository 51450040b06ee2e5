import AutoResearchCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Optuna researcher's Python environment, managed by the harness like the MLflow test's: a virtual environment
/// under `~/.cache/autoresearch/optuna/venv` (`$AUTORESEARCH_CACHE` instead of `~/.cache/autoresearch`) with the
/// versions pinned in `Templates/optuna/requirements.in`, installed from its hashed lock `requirements.txt` (made by
/// scripts/lock-requirements.sh) on first use. `$AUTORESEARCH_OPTUNA_PYTHON` names
/// another interpreter that has them.
public enum OptunaEnvironment {
    /// The sidecar script and the pinned requirements, found like the templates are.
    public static func script(sourceRoot: URL? = nil) throws -> URL {
        let root = try sourceRoot ?? Workspace.sourceRoot()
        let script = root.appendingPathComponent("Templates/optuna/sidecar.py")
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw HarnessError.other("the Optuna researcher's sidecar is missing: \(script.path) (set AUTORESEARCH_HOME to an AutoResearch checkout)")
        }
        return script
    }

    public static func venv(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let cache = environment["AUTORESEARCH_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/autoresearch")
        return URL(fileURLWithPath: cache).appendingPathComponent("optuna/venv")
    }

    /// The `name==version` pins of a requirements file (the direct pins of the `.in` file; a lock's continuation
    /// lines, hashes and environment markers are skipped).
    static func pins(_ requirements: URL) throws -> [(name: String, version: String)] {
        guard let text = try? String(contentsOf: requirements, encoding: .utf8) else {
            throw HarnessError.other("the Optuna researcher's requirements are missing: \(requirements.path)")
        }
        return text.split(separator: "\n").compactMap { line in
            let requirement = line.split(separator: "#").first?.split(separator: ";").first?.split(separator: " ").first ?? ""
            let parts = requirement.components(separatedBy: "==")
            return parts.count == 2 && !parts[0].isEmpty ? (parts[0], parts[1]) : nil
        }
    }

    private static let lock = NSLock()

    /// The interpreter to run the sidecar with: the managed environment's, made or repaired first when it does not
    /// have the pinned versions (which needs PyPI once).
    /// - Throws: `HarnessError.other` with pip's last lines when the install fails.
    public static func python(sourceRoot: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                              installer: InstallSandbox = .detect(),
                              log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws -> String {
        if let explicit = environment["AUTORESEARCH_OPTUNA_PYTHON"], !explicit.isEmpty { return explicit }
        let requirements = try script(sourceRoot: sourceRoot).deletingLastPathComponent().appendingPathComponent("requirements.txt")
        let pins = try pins(requirements.deletingPathExtension().appendingPathExtension("in"))
        let venv = venv(environment: environment)
        let python = venv.appendingPathComponent("bin/python").path
        let check = "import importlib.metadata as m, sys; sys.exit(any(m.version(n) != v for n, v in "
            + "[" + pins.map { "('\($0.name)', '\($0.version)')" }.joined(separator: ", ") + "]))"
        return try lock.withLock {
            if let r = try? ProcessRunner.capture([python, "-c", check], in: URL(fileURLWithPath: "/")), r.status == 0 { return python }
            log("optuna: installing \(pins.map { "\($0.name)==\($0.version)" }.joined(separator: ", ")) into \(venv.path) (once)")
            try? FileManager.default.createDirectory(at: venv.deletingLastPathComponent(), withIntermediateDirectories: true)
            let base = try PythonEnvironment.baseInterpreter(environment["AUTORESEARCH_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }, environment: environment)
            try? FileManager.default.removeItem(at: venv)
            // The lock's hashes are checked (--require-hashes), and pip runs in an installer's sandbox.
            let steps = [[base.executable, "-m", "venv", venv.path],
                         [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes", "-r", requirements.path]]
            if let (step, result) = try installer.run(steps, in: requirements.deletingLastPathComponent(),
                                                       readOnly: [requirements.deletingLastPathComponent().path, base.home, base.executable],
                                                       writable: [venv.path], harness: environment, log: log) {
                let tail = (result.stderr + result.stdout).split(separator: "\n").suffix(8).joined(separator: "\n")
                throw HarnessError.other("making the Optuna environment failed at `\(step.joined(separator: " "))`:\n\(tail)")
            }
            return python
        }
    }
}

/// One running sidecar process (Templates/optuna/sidecar.py): requests and answers as JSON lines over its
/// stdin and stdout; its stderr goes to a file whose tail explains a death.
final class OptunaSidecar: @unchecked Sendable {
    let process = Process()
    private let input: FileHandle
    private let output: FileHandle
    private let stderrURL: URL
    private var buffer = Data()

    /// Starts the sidecar. - Throws: `ResearcherError.failed` when it cannot be started.
    init(python: String, script: URL) throws {
        _ = signal(SIGPIPE, SIG_IGN)  // a write to a dead sidecar must be an error, not the harness's death
        stderrURL = FileManager.default.temporaryDirectory.appendingPathComponent("autoresearch-optuna-\(UUID().uuidString.prefix(8)).err")
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdin = Pipe(), stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-u", script.path]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        do { try process.run() } catch {
            throw ResearcherError.failed("the Optuna sidecar did not start (\(python) \(script.path)): \(error.localizedDescription)")
        }
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
    }

    deinit { stop(); try? FileManager.default.removeItem(at: stderrURL) }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func stop() {
        if process.isRunning { process.terminate() }
        try? input.close()
    }

    /// Why it is gone: its exit status or signal and the last lines of its stderr.
    func deathReport() -> String {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let how = process.terminationReason == .uncaughtSignal ? "was killed by signal \(process.terminationStatus)"
                                                                : "exited with status \(process.terminationStatus)"
        let err = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        let tail = err.split(separator: "\n").suffix(12).joined(separator: "\n")
        return "the Optuna sidecar (pid \(pid)) \(how)" + (tail.isEmpty ? "; its stderr is empty" : "; its stderr ends:\n\(tail)")
            + "\nThe next experiment starts a new sidecar and tells it every experiment again."
    }

    /// Sends one request and waits (up to `timeout` seconds) for its answer.
    /// - Throws: `ResearcherError.failed` when the sidecar died or hung (with `deathReport()`), or answered an error.
    func request(_ object: [String: Any], timeout: Double = 300) throws -> [String: Any] {
        var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        line.append(0x0A)
        let fd = input.fileDescriptor
        let sent = line.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        guard sent else { throw ResearcherError.failed(deathReport()) }
        let started = Date()
        let watchdog = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let answer = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[(newline + 1)...])
                guard let parsed = try? JSONSerialization.jsonObject(with: answer) as? [String: Any] else {
                    throw ResearcherError.failed("the Optuna sidecar answered something that is not a JSON object: \(String(decoding: answer.prefix(200), as: UTF8.self))")
                }
                if let error = parsed["error"] as? String {
                    throw ResearcherError.failed("the Optuna sidecar refused `\(object["op"] ?? "?")`: \(error)")
                }
                return parsed
            }
            let chunk = output.availableData
            if chunk.isEmpty {
                let report = deathReport()
                let hung = Date().timeIntervalSince(started) >= timeout
                throw ResearcherError.failed(hung ? "no answer within \(Int(timeout)) s, so it was stopped: " + report : report)
            }
            buffer.append(chunk)
        }
    }
}
