import AutoResearchCore
import Foundation
import TOMLKit

/// The Python environment of a Python subject (`[python]` in the manifest): a virtual environment inside the
/// workspace, made once by `autoresearch init` from pinned requirements and reused by every build and run.
///
/// Runs never download anything (the sandbox has no network): they use the environment as it is. Its
/// interpreter and the version of every package it was made with are in the manifest, so a tag's results are
/// measured with one set of versions; before a session starts, `verify` checks the environment still has them.
/// Every phase gets the environment's `bin` first on `PATH` (so `python` is its interpreter) and sees the
/// environment and the base interpreter's installation read-only.
public struct PythonSettings: Sendable, Equatable {
    /// The virtual environment, relative to the workspace (ignored by git).
    public var venv = ".venv"
    /// The pinned requirements, relative to the workspace (a protected file).
    public var requirements = "requirements.txt"
    /// The interpreter the environment was made from, and its installation (`sys.base_prefix`).
    public var interpreter = ""
    public var home = ""
    /// What made the environment: "pip" (`python -m venv`, then pip) or "uv".
    public var installer = "pip"
    /// `python` and every requirement's installed version, as recorded when the environment was made.
    public var versions: [String: String] = [:]

    public init() {}

    /// The `[python]` table's keys (`ManifestSchema`); `[python.versions]` is read on its own.
    static var keys: [ManifestKey<PythonSettings>] {
        let inside: (String) -> String? = { Manifest.isSafeRelativePath($0) ? nil : "is '\($0)', not a path inside the workspace." }
        return [
            .string("venv", \.venv, "The virtual environment, relative to the workspace (ignored by git).", problem: inside),
            .string("requirements", \.requirements, "The pinned requirements (a hashed lock), relative to the workspace (a protected file).", problem: inside),
            .string("interpreter", \.interpreter, "The interpreter the environment was made from."),
            .string("home", \.home, "The interpreter's installation (sys.base_prefix), visible read-only to every phase."),
            .oneOf("installer", \.installer, ["pip", "uv"], "What made the environment.", problem: { "is '\($0)'; use \"pip\" or \"uv\"." }),
        ]
    }

    static func parse(_ t: TableReader) throws -> PythonSettings {
        var s = PythonSettings()
        try ManifestSchema.read(keys, from: t, into: &s)
        if t.table.contains(key: "versions") {
            let versions = try t.section("versions")
            for key in versions.table.keys {
                guard let value = versions.table[key]?.string else {
                    throw HarnessError.manifestKey(key: "python.versions.\(key)", problem: "must be a version string, e.g. \"2.13.0\".")
                }
                s.versions[key] = value
            }
        }
        return s
    }

    func render() -> [String] {
        var lines = ManifestSchema.render("python", comment: ["The subject's Python environment: made once by `autoresearch init` from the pinned requirements, reused by",
                                                             "every run (runs never download). Broken or missing: `autoresearch python-env` makes it again."],
                                          Self.keys, self)
        lines += ["", "[python.versions]"]
        for key in versions.keys.sorted() { lines.append("\(tomlKey(key)) = \(tomlString(versions[key]!))") }
        lines.append("")
        return lines
    }
}

/// A TOML key: bare when it can be, else quoted.
func tomlKey(_ key: String) -> String {
    !key.isEmpty && key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) ? key : tomlString(key)
}
