import AutoResearchCore
import Foundation
import TOMLKit

/// Making, checking and using a workspace's Python environment.
public enum PythonEnvironment {
    /// The command that makes the environment again, for error messages.
    public static func fixCommand(_ root: URL) -> String { "autoresearch python-env --workspace \(shellQuote(root.path))" }

    /// The base interpreter to make environments from: `explicit`, else `$AUTORESEARCH_PYTHON`, else `python3`
    /// on `PATH`; with its real executable, installation prefix and version.
    /// - Throws: `HarnessError.other` naming the interpreter when it does not run.
    static func baseInterpreter(_ explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> (executable: String, home: String, version: String) {
        let python = explicit ?? environment["AUTORESEARCH_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let probe = "import sys, platform; print(sys.executable); print(sys.base_prefix); print(platform.python_version())"
        guard let result = try? ProcessRunner.capture([python, "-c", probe], in: URL(fileURLWithPath: "/"), environment: environment),
              result.status == 0 else {
            throw HarnessError.other("the Python interpreter '\(python)' does not run; install Python 3.10 or later, or name one with --python PATH")
        }
        let lines = result.stdout.split(separator: "\n").map(String.init)
        guard lines.count >= 3 else { throw HarnessError.other("the Python interpreter '\(python)' did not say where it is installed") }
        let parts = lines[2].split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2, parts[0] == 3, parts[1] >= 10 else {
            throw HarnessError.other("the Python interpreter '\(python)' is version \(lines[2]); the subject needs Python 3.10 or later (name one with --python PATH)")
        }
        return (lines[0], lines[1], lines[2])
    }

    /// Package names in a requirements file (`name==version` lines; comments and options skipped).
    static func requirementNames(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let s = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !s.isEmpty, !s.hasPrefix("-") else { return nil }
            let name = s.prefix { $0.isLetter || $0.isNumber || "-_.".contains($0) }
            return name.isEmpty ? nil : String(name)
        }
    }

    /// Makes the environment at `root/settings.venv` from the requirements file (replacing a broken one), with uv
    /// when it is on `PATH`, else `python -m venv` and pip, and records the interpreter and installed versions.
    /// A requirements file with hashes (a lock made by scripts/lock-requirements.sh, as the templates' are) is
    /// installed in hash-checking mode (`--require-hashes`: every file's SHA-256 must be the recorded one); the
    /// installer runs in `installer`'s sandbox (the network, the workspace writable, its git folder and
    /// `.autoresearch` hidden, nothing else of the host's home).
    /// Prints what it does (the install can take minutes the first time).
    /// - Throws: `HarnessError.other` with the installer's last lines when it fails.
    public static func create(in root: URL, settings: PythonSettings, python: String? = nil,
                              installer: InstallSandbox = .detect(),
                              log: (String) -> Void = { print($0) }) throws -> PythonSettings {
        var s = settings
        let base = try baseInterpreter(python)
        let venv = root.appendingPathComponent(s.venv)
        let requirements = root.appendingPathComponent(s.requirements)
        guard let text = try? String(contentsOf: requirements, encoding: .utf8) else {
            throw HarnessError.other("\(s.requirements) is missing in \(root.path); the Python environment is made from it")
        }
        try? FileManager.default.removeItem(at: venv)
        let uv = findExecutable("uv")
        s.installer = uv == nil ? "pip" : "uv"
        s.interpreter = base.executable
        s.home = base.home
        let hashed = isHashed(text)
        log("making the Python environment \(s.venv) (Python \(base.version), \(s.installer)\(hashed ? ", hashes required" : ", not hash-pinned")) from \(s.requirements); the first install takes a few minutes")
        let python = venv.appendingPathComponent("bin/python").path
        let hashMode = hashed ? ["--require-hashes"] : []
        let steps: [[String]] = uv.map { uv in
            [[uv, "venv", "--quiet", "--allow-existing", "--python", base.executable, venv.path],
             [uv, "pip", "install", "--quiet", "--python", python] + hashMode + ["-r", requirements.path]]
        } ?? [[base.executable, "-m", "venv", venv.path],
              [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + hashMode + ["-r", requirements.path]]
        if let (step, result) = try installer.run(steps, in: root, readOnly: [base.home, base.executable], writable: [root.path, venv.path],
                                                   hidden: hiddenFromInstalls(root), executables: uv.map { [$0] } ?? [], log: log) {
            throw installFailure(step, result)
        }
        s.versions = try installedVersions(python: python, names: requirementNames(text), root: root)
        log("Python environment ready: " + s.versions.keys.sorted().map { "\($0) \(s.versions[$0]!)" }.joined(separator: ", "))
        return s
    }

    /// The workspace's folders an install must not see: git's (a planted hook would run as the harness) and the ledger's.
    static func hiddenFromInstalls(_ root: URL) -> [String] { [".git", ".autoresearch"].map { root.appendingPathComponent($0).path } }

    /// Whether a requirements file records hashes (`--hash=sha256:…`), so pip installs it in hash-checking mode.
    static func isHashed(_ text: String) -> Bool { text.contains("--hash=") }

    /// The error of a failed install step: the command and the installer's last lines.
    static func installFailure(_ step: [String], _ result: ProcessRunner.Captured) -> HarnessError {
        let tail = (result.stderr + result.stdout).split(separator: "\n").suffix(8).joined(separator: "\n")
        let hint = tail.contains("hash") || tail.contains("Hash")
            ? "\n(the requirements are a hashed lock: a file whose SHA-256 differs, or a package without a hash, is refused; on Linux put torch's CPU wheel in PIP_FIND_LINKS, or make the lock again with scripts/lock-requirements.sh)" : ""
        return HarnessError.other("making the Python environment failed at `\(step.map(shellQuote).joined(separator: " "))`:\n\(tail)\(hint)")
    }

    /// Makes the environment of a uv project (an adopted repository with pyproject.toml / uv.lock): `uv sync` into
    /// `settings.venv` (`--frozen` when there is a lock), then records every installed package's version. uv runs in
    /// `installer`'s sandbox, the project folder writable (uv writes its lock there).
    /// - Throws: `HarnessError.other` with uv's last lines when it fails.
    static func createUVProject(in root: URL, settings: PythonSettings, uv: String, python: String?,
                                installer: InstallSandbox = .detect(),
                                log: (String) -> Void = { print($0) }) throws -> PythonSettings {
        var s = settings
        let base = try baseInterpreter(python)
        s.installer = "uv"; s.interpreter = base.executable; s.home = base.home
        let venv = root.appendingPathComponent(s.venv)
        try? FileManager.default.removeItem(at: venv)
        log("making the Python environment \(s.venv) with `uv sync` (Python \(base.version)); the first sync takes a few minutes")
        let locked = FileManager.default.fileExists(atPath: root.appendingPathComponent("uv.lock").path)
        let step = ["/usr/bin/env", "UV_PROJECT_ENVIRONMENT=" + venv.path, uv, "sync", "--quiet", "--python", base.executable] + (locked ? ["--frozen"] : [])
        if let (step, result) = try installer.run([step], in: root, readOnly: [base.home, base.executable], writable: [root.path],
                                                   hidden: hiddenFromInstalls(root), executables: [uv], log: log) {
            throw installFailure(step, result)
        }
        s.versions = try installedVersions(python: venv.appendingPathComponent("bin/python").path, names: nil, root: root)
        return s
    }

    /// `python` and the installed version of each package in `names` (every installed package when nil).
    static func installedVersions(python: String, names: [String]?, root: URL) throws -> [String: String] {
        let script = """
        import importlib.metadata as m, platform, sys
        print("python=" + platform.python_version())
        names = sys.argv[2:] if sys.argv[1] == "some" else sorted({d.metadata["Name"] for d in m.distributions()})
        for name in names:
            try: print(name + "=" + m.version(name))
            except m.PackageNotFoundError: print(name + "=")
        """
        let result = try ProcessRunner.capture([python, "-c", script] + (names.map { ["some"] + $0 } ?? ["all"]), in: root)
        guard result.status == 0 else {
            throw HarnessError.other("the Python environment's interpreter \(python) does not run: \(result.stderr.split(separator: "\n").last ?? "")")
        }
        var versions: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { versions[String(parts[0]).lowercased()] = String(parts[1]) }
        }
        return versions
    }

    /// Makes the environment of an existing workspace again (`autoresearch python-env`), from its pinned
    /// requirements; the manifest is not changed, so the new environment must have the versions it records.
    /// - Throws: `HarnessError.other` when the workspace needs no environment, the install fails, or the versions differ.
    public static func remake(_ workspace: Workspace, python: String?, log: (String) -> Void = { print($0) }) throws {
        guard let settings = workspace.manifest.python else {
            throw HarnessError.other("the workspace at \(workspace.root.path) has no [python] section: its subject needs no Python environment")
        }
        let uvProject = ["pyproject.toml", "uv.lock"].contains(settings.requirements)
        let made: PythonSettings
        if uvProject {
            guard let uv = findExecutable("uv") else {
                throw HarnessError.other("this workspace's environment is a uv project (\(settings.requirements)), and uv is not installed: pip install uv")
            }
            made = try createUVProject(in: workspace.root, settings: settings, uv: uv, python: python ?? settings.interpreter, log: log)
        } else {
            made = try create(in: workspace.root, settings: settings, python: python, log: log)
        }
        let wrong = settings.versions.keys.sorted().filter { made.versions[$0] != settings.versions[$0] }
        guard wrong.isEmpty else {
            let list = wrong.map { "\($0) \(made.versions[$0].flatMap { $0.isEmpty ? nil : $0 } ?? "missing") instead of \(settings.versions[$0]!)" }
            throw HarnessError.other("the new environment does not have the versions the manifest records (\(list.joined(separator: ", "))); "
                                     + "name the interpreter it was made with (--python \(settings.interpreter)), or start a new workspace for these versions")
        }
    }

    /// Checks that the workspace's environment exists, runs, and has the recorded versions.
    /// - Throws: `HarnessError.other` naming what is wrong and the command that fixes it.
    public static func verify(_ settings: PythonSettings, root: URL) throws {
        let python = root.appendingPathComponent(settings.venv).appendingPathComponent("bin/python").path
        let fix = "make it again with: \(fixCommand(root))"
        guard FileManager.default.fileExists(atPath: python) else {
            throw HarnessError.other("the workspace's Python environment \(settings.venv) is missing (no \(settings.venv)/bin/python); \(fix)")
        }
        let names = settings.versions.keys.filter { $0 != "python" }.sorted()
        let found: [String: String]
        do { found = try installedVersions(python: python, names: names, root: root) } catch let error as HarnessError {
            throw HarnessError.other("the workspace's Python environment \(settings.venv) is broken (\(error.description)); \(fix)")
        }
        let wrong = settings.versions.keys.sorted().filter { found[$0] != settings.versions[$0] }
        guard wrong.isEmpty else {
            let list = wrong.map { "\($0) \(found[$0].flatMap { $0.isEmpty ? nil : $0 } ?? "missing") instead of \(settings.versions[$0]!)" }
            throw HarnessError.other("the workspace's Python environment \(settings.venv) does not have the versions its manifest records (\(list.joined(separator: ", "))); \(fix)")
        }
    }

    /// The folders every phase must see read-only: the environment and the base installation (unless it is a
    /// system folder the sandbox shows anyway).
    static func sandboxPaths(_ settings: PythonSettings, root: URL) -> [String] {
        var paths = [root.appendingPathComponent(settings.venv).path]
        if !settings.home.isEmpty, !Sandbox.systemFolders.contains(where: { settings.home == $0 || settings.home.hasPrefix($0 + "/") }) {
            paths.append(settings.home)
        }
        return paths
    }

    /// `PATH` with the environment's `bin` first, and `VIRTUAL_ENV`.
    /// For a uv project, uv runs the environment as it is: offline, never syncing, with a private cache.
    static func environment(_ settings: PythonSettings, root: URL, path: String?) -> [String: String] {
        let venv = root.appendingPathComponent(settings.venv).path
        var env = ["PATH": venv + "/bin:" + (path ?? "/usr/local/bin:/usr/bin:/bin"), "VIRTUAL_ENV": venv]
        if settings.installer == "uv" {
            env["UV_PROJECT_ENVIRONMENT"] = venv
            env["UV_OFFLINE"] = "1"
            env["UV_NO_SYNC"] = "1"
            env["UV_CACHE_DIR"] = "/tmp/uv-cache"
        }
        return env
    }

    /// The first executable called `name` on `PATH`.
    static func findExecutable(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for dir in (path ?? "").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
