import AutoResearchCore
import Foundation

/// The handful of git operations the harness needs, run with the `git` command line in one repository
/// (the workspace or one of its worktrees).
public struct Git: Sendable {
    /// The directory git runs in.
    public var directory: URL

    public init(_ directory: URL) { self.directory = directory }

    /// Identity for the harness's own commits when the user has none configured.
    static let identity = ["-c", "user.name=AutoResearch", "-c", "user.email=autoresearch@localhost",
                           "-c", "commit.gpgsign=false"]

    /// Runs `git args` and returns its stdout; throws `HarnessError.git` with git's message on failure.
    @discardableResult
    public func run(_ args: [String], environment extra: [String: String] = [:]) throws -> String {
        // The user's global config is ignored (SafeGit), so the harness names itself as the author of its commits.
        let result = try ProcessRunner.capture(SafeGit.command(Git.identity + args), in: directory,
                                               environment: SafeGit.environment.merging(extra) { _, new in new })
        guard result.status == 0 else {
            throw HarnessError.git(command: "git " + args.joined(separator: " "), output: result.stderr + result.stdout)
        }
        return result.stdout
    }

    /// Like `run`, but returns nil instead of throwing.
    public func attempt(_ args: [String]) -> String? { try? run(args) }

    /// `git init -b main`.
    public func initialize() throws { try run(["init", "-q", "-b", "main"]) }

    /// Commits everything staged with `message` and returns the new commit's hash.
    @discardableResult
    public func commit(_ message: String, allowEmpty: Bool = false) throws -> String {
        try run(Git.identity + ["commit", "-q", "--no-verify", "-m", message] + (allowEmpty ? ["--allow-empty"] : []))
        return try revParse("HEAD")
    }

    /// The full hash `rev` names.
    public func revParse(_ rev: String) throws -> String {
        try run(["rev-parse", "--verify", "--quiet", rev + "^{commit}"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The commit a ref points at, or nil if it does not exist.
    public func resolve(_ ref: String) -> String? { try? revParse(ref) }

    /// Points `ref` at `new` only if it still points at `old` (compare-and-swap); nil `old` = create only if absent.
    public func updateRef(_ ref: String, to new: String, from old: String?) throws {
        try run(["update-ref", ref, new, old ?? String(repeating: "0", count: 40)])
    }

    /// Paths of tracked files with uncommitted changes (staged or not).
    public func dirtyTrackedFiles() throws -> [String] {
        try run(["status", "--porcelain", "--untracked-files=no"])
            .split(separator: "\n").map { String($0.dropFirst(3)) }
    }

    /// Every tracked file at HEAD.
    public func trackedFiles() throws -> [String] {
        try run(["ls-files", "-z"]).split(separator: "\0").map(String.init)
    }

    /// Paths that differ between two commits.
    public func changedFiles(from old: String, to new: String) throws -> [String] {
        try run(["diff", "--name-only", "-z", old, new]).split(separator: "\0").map(String.init)
    }

    /// The unified diff between two commits.
    public func diff(from old: String, to new: String) throws -> String {
        try run(["diff", old, new])
    }

    /// A clean worktree at `commit` in `path`: created the first time, afterwards reset in place.
    /// `git clean -ffdx -e .build` removes everything an earlier experiment wrote except the build folder,
    /// which is kept so incremental builds stay fast.
    public func prepareWorktree(at path: URL, commit: String) throws {
        let fm = FileManager.default
        let gitFile = path.appendingPathComponent(".git")
        if fm.fileExists(atPath: path.path), fm.fileExists(atPath: gitFile.path) {
            let wt = Git(path)
            if (try? wt.run(["checkout", "-q", "--detach", "--force", commit])) != nil {
                try wt.run(["clean", "-q", "-ffdx", "-e", ".build"])
                return
            }
        }
        // Missing or broken: start over.
        try? fm.removeItem(at: path)
        _ = attempt(["worktree", "prune"])
        try fm.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try run(["worktree", "add", "-q", "--detach", "--force", path.path, commit])
    }
}
