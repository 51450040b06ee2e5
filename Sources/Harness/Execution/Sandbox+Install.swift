import AutoResearchCore
import Foundation

/// The sandbox of a package install (`pip install`, `uv sync`, `python -m venv`): installers run third-party code
/// (an sdist's build backend, a package's setup.py), so they get a phase's bubblewrap confinement with the network
/// and nothing of the host they do not need:
/// - the workspace being set up writable (pip builds a local package in its folder, uv writes its lock), its git
///   folder and `.autoresearch` (ledger, logs) hidden under empty tmpfs, so nothing an install runs can plant a git
///   hook or touch the ledger; a scratch folder of their own (`TMPDIR`, pip's and uv's caches), deleted afterwards;
/// - the base interpreter's installation, uv's executable and the files pip's settings name (`PIP_FIND_LINKS`,
///   certificates) read-only; not the home directory, not the data cache, not another workspace;
/// - the phases' allowlisted variables plus the installers' own (`PIP_*`, `UV_*`, proxies, certificate paths);
///   never the harness's API keys.
/// Where bubblewrap cannot run, `InstallSandbox.detect` says why and the install runs on the host (logged).
public struct InstallSandbox: Sendable {
    /// The confinement, or nil when installs run on the host.
    let sandbox: Sandbox?
    /// Why installs run on the host, when they do.
    public let unavailable: String?

    /// Installer settings passed into the sandbox when the harness has them.
    static let passedPrefixes = ["PIP_", "UV_"]
    static let passedNames = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                              "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PYTHONHOME"]
    /// Variables whose value may be a host path the installer must read (a wheel folder, a certificate bundle).
    static let pathNames = ["PIP_FIND_LINKS", "UV_FIND_LINKS", "PIP_CERT", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"]

    /// bubblewrap when it runs here (a phase's settings: no memory limit for the installer), else the host.
    public static func detect(settings: SandboxSettings = SandboxSettings()) -> InstallSandbox {
        switch Sandbox.detect() {
        case .success(let bwrap): return InstallSandbox(sandbox: Sandbox(bwrap: bwrap, settings: settings), unavailable: nil)
        case .failure(let why): return InstallSandbox(sandbox: nil, unavailable: why.reason)
        }
    }

    /// The host, stated (tests of the unsandboxed path, machines without bubblewrap).
    public static func host(because reason: String) -> InstallSandbox { InstallSandbox(sandbox: nil, unavailable: reason) }

    /// Runs the install steps in order, each confined (or on the host when no sandbox runs here), in `directory`.
    /// - Parameters:
    ///   - readOnly: host paths the steps read (the requirements' folder, the base interpreter's installation).
    ///   - writable: host paths the steps write (the workspace, the environment; created when missing).
    ///   - hidden: paths under `writable` the steps must neither read nor change (a workspace's `.git`, `.autoresearch`):
    ///     each, when it exists, is covered by an empty tmpfs.
    ///   - executables: programs the steps start by absolute path outside the system folders (uv), bound read-only.
    /// - Returns: the first failing step and its output, or nil when every step succeeded.
    /// - Throws: `ProcessError` when a step cannot be started.
    func run(_ steps: [[String]], in directory: URL, readOnly: [String], writable: [String], hidden: [String] = [], executables: [String] = [],
             harness: [String: String] = ProcessInfo.processInfo.environment,
             log: (String) -> Void) throws -> (step: [String], result: ProcessRunner.Captured)? {
        guard let sandbox else {
            log("installing without a sandbox: \(unavailable ?? "none")")
            for step in steps {
                let result = try ProcessRunner.capture(step, in: directory)
                if result.status != 0 { return (step, result) }
            }
            return nil
        }
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("autoresearch-install-\(UUID().uuidString.prefix(8))")
        try? fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        for path in writable { try? fm.createDirectory(atPath: path, withIntermediateDirectories: true) }
        var named = harness.filter { key, _ in Self.passedNames.contains(key) || Self.passedPrefixes.contains { key.hasPrefix($0) } }
        named["TMPDIR"] = scratch.path
        named["XDG_CACHE_HOME"] = scratch.appendingPathComponent("cache").path
        named["UV_CACHE_DIR"] = scratch.appendingPathComponent("cache/uv").path
        var environment = SubjectEnvironment.make(subject: [:], sandboxed: true, harness: harness)
        environment.merge(named) { _, new in new }
        let hostPaths = Self.pathNames.compactMap { harness[$0] }.flatMap { $0.split(separator: " ").map(String.init) }
            .filter { $0.hasPrefix("/") && fm.fileExists(atPath: $0) }
        var view = Sandbox.View(workingDirectory: directory.path,
                                readOnly: (readOnly + hostPaths + executables).filter { fm.fileExists(atPath: $0) },
                                writable: writable + [scratch.path], limitMemory: false)
        view.network = true
        view.masked = hidden.filter { fm.fileExists(atPath: $0) }
        for step in steps {
            let line = sandbox.commandLine(step.map(shellQuote).joined(separator: " "), view: view, environment: environment)
            let result = try ProcessRunner.capture(["/bin/sh", "-c", line], in: directory)
            if result.status != 0 { return (step, result) }
        }
        return nil
    }
}
