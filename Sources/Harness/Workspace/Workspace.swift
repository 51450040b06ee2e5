import AutoResearchCore
import SubjectKit
import Foundation

/// A research workspace: a git repository with `autoresearch.toml` at its root, the subject's files,
/// and the harness's private state in `.autoresearch/` (ledger, worktrees, logs, researcher policy).
public struct Workspace: Sendable {
    /// The workspace directory.
    public let root: URL
    public let manifest: Manifest
    /// SHA-256 of autoresearch.toml as it is on disk, without its `[researcher]` tables.
    public let manifestHash: String

    /// Name of the private state directory (ignored by git).
    public static let stateDirectoryName = ".autoresearch"

    public var stateDirectory: URL { root.appendingPathComponent(Workspace.stateDirectoryName) }
    public var ledgerURL: URL { stateDirectory.appendingPathComponent("ledger.sqlite") }
    public var worktreesDirectory: URL { stateDirectory.appendingPathComponent("worktrees") }
    public func logsDirectory(tag: String) -> URL { stateDirectory.appendingPathComponent("logs").appendingPathComponent(tag) }
    /// What the search researcher learned, shared by every tag of the workspace, so a new session
    /// (a new tag) starts from the statistics of the earlier ones.
    public var policyFile: URL { stateDirectory.appendingPathComponent("search-policy.json") }
    public var git: Git { Git(root) }

    /// Opens the workspace at `directory`; throws `notAWorkspace` when it has no manifest.
    public static func open(_ directory: URL) throws -> Workspace {
        let root = directory.standardizedFileURL
        let url = root.appendingPathComponent(Manifest.fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw HarnessError.notAWorkspace(dir: root.path) }
        let manifest = try Manifest.parse(String(decoding: data, as: UTF8.self), path: url.path)
        // The researcher settings are not part of the evaluation: they stay out of the hash a tag records.
        let evaluated = ResearcherSection.strip(from: String(decoding: data, as: UTF8.self))
        return Workspace(root: root, manifest: manifest, manifestHash: sha256Hex(Data(evaluated.utf8)))
    }

    init(root: URL, manifest: Manifest, manifestHash: String) {
        self.root = root; self.manifest = manifest; self.manifestHash = manifestHash
    }

    /// Throws `dirtyWorkTree` when tracked files other than the notes (program.md) have uncommitted changes:
    /// the baseline must be a commit. The research program may be edited while research runs.
    public func ensureClean() throws {
        let dirty = try git.dirtyTrackedFiles().filter { !manifest.notes.contains($0) }
        if !dirty.isEmpty { throw HarnessError.dirtyWorkTree(files: dirty) }
    }

    /// Checks every editable file exists and has a hyperparameter block, in `directory` (the workspace by default).
    public func validateEditable(in directory: URL? = nil) throws {
        try Workspace.validateEditable(manifest.editable, in: directory ?? root)
    }

    static func validateEditable(_ files: [String], in directory: URL) throws {
        for path in files {
            let url = directory.appendingPathComponent(path)
            guard let source = try? String(contentsOf: url, encoding: .utf8) else { throw HarnessError.editableMissing(path: path) }
            try SubjectBridge.checkHyperparameterBlock(source, path: path)
        }
    }

    /// Verifies the SHA-256 of every protected file in `directory` against the manifest's `[fixed]` table.
    public func verifyFixed(in directory: URL) throws {
        for (path, expected) in manifest.fixed.sorted(by: { $0.key < $1.key }) {
            let url = directory.appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw HarnessError.integrity(path: path, expected: expected, actual: "missing")
            }
            let actual = sha256Hex(data)
            if actual != expected { throw HarnessError.integrity(path: path, expected: expected, actual: actual) }
        }
    }

    /// The hashes for `[fixed]`: every file of `files` except the editable ones, the notes and the manifest itself.
    static func fixedHashes(of files: [String], in directory: URL, manifest: Manifest) throws -> [String: String] {
        let unprotected = Set(manifest.editable + manifest.notes + [Manifest.fileName])
        var hashes: [String: String] = [:]
        for path in files where !unprotected.contains(path) {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(path).path) else {
                throw HarnessError.other("cannot read \(path) in \(directory.path)")
            }
            hashes[path] = sha256Hex(data)
        }
        return hashes
    }
}
