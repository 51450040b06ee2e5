import Foundation

/// Everything the harness can refuse or fail at, each with a message that says what is wrong and what to do.
///
/// The CLI prints `error: <description>` and exits 1; nothing here is ever shown as a stack trace.
public enum HarnessError: Error, CustomStringConvertible, Equatable {
    /// `dir` has no `autoresearch.toml`.
    case notAWorkspace(dir: String)
    /// The manifest could not be parsed as TOML.
    case manifestUnreadable(path: String, reason: String)
    /// A key of the manifest is missing or has the wrong type or value.
    case manifestKey(key: String, problem: String)
    /// `autoresearch init` was pointed at a template that does not exist.
    case templateNotFound(name: String, searched: String)
    /// `autoresearch init` was pointed at a directory that already has files.
    case workspaceExists(dir: String)
    /// An editable file of the manifest does not exist.
    case editableMissing(path: String)
    /// An editable file has no hyperparameter block the researchers can read.
    case noHyperparameterBlock(path: String, reason: String)
    /// A tag already exists in the ledger with a different manifest.
    case tagManifestMismatch(tag: String, recorded: String, current: String)
    /// The research branch exists in git but the ledger does not know the tag.
    case branchWithoutLedger(tag: String, branch: String)
    /// The tag is not in the ledger (results, status, report).
    case unknownTag(tag: String, known: [String])
    /// Tracked files of the workspace have uncommitted changes.
    case dirtyWorkTree(files: [String])
    /// A protected file's SHA-256 differs from the manifest's `[fixed]` table.
    case integrity(path: String, expected: String, actual: String)
    /// A git command failed.
    case git(command: String, output: String)
    /// A process could not be started.
    /// The source tree of AutoResearch (templates, vendored sources) could not be found.
    case sourceRootNotFound(tried: String)
    /// A tag name that git cannot use as a branch name.
    case invalidTag(String)
    /// Anything else, already phrased for the user.
    case other(String)

    public var description: String {
        switch self {
        case .notAWorkspace(let dir):
            return "\(dir) is not an AutoResearch workspace (there is no autoresearch.toml in it). "
                + "Create one with `autoresearch init DIR`, or pass `--workspace DIR`."
        case .manifestUnreadable(let path, let reason):
            return "\(path) is not valid TOML: \(reason). Fix the file (or recreate the workspace with `autoresearch init`)."
        case .manifestKey(let key, let problem):
            return "autoresearch.toml: '\(key)' \(problem)"
        case .templateNotFound(let name, let searched):
            return "there is no template '\(name)' (looked for \(searched)/template.toml). "
                + "Pass a template name under Templates/ or a directory that holds a template.toml."
        case .workspaceExists(let dir):
            return "\(dir) already exists and is not empty; `autoresearch init` only creates new workspaces. "
                + "Choose another directory or remove this one."
        case .editableMissing(let path):
            return "autoresearch.toml: 'editable' names \(path), which does not exist in this workspace."
        case .noHyperparameterBlock(let path, let reason):
            return "\(path) has no hyperparameter block the researchers can read (\(reason)). "
                + "Put the tunable constants at the top of the file, one `NAME = value` a line."
        case .tagManifestMismatch(let tag, let recorded, let current):
            return "tag '\(tag)' was started with a different autoresearch.toml (manifest hash \(recorded.prefix(12)), "
                + "now \(current.prefix(12))). Results under one tag must be comparable: start a new tag with `--tag NAME`."
        case .branchWithoutLedger(let tag, let branch):
            return "the branch \(branch) exists, but the ledger has no tag '\(tag)'. "
                + "Choose another tag with `--tag NAME`, or delete the branch (`git branch -D \(branch)`)."
        case .unknownTag(let tag, let known):
            let list = known.isEmpty ? "no tags yet; run `autoresearch run` first" : "known tags: " + known.joined(separator: ", ")
            return "there is no tag '\(tag)' in this workspace's ledger (\(list))."
        case .dirtyWorkTree(let files):
            return "the workspace has uncommitted changes to tracked files (\(files.prefix(5).joined(separator: ", "))"
                + (files.count > 5 ? ", ..." : "") + "). The baseline must be a commit: commit or revert them "
                + "(`git commit -am ...` or `git checkout -- .`) and run again."
        case .integrity(let path, let expected, let actual):
            return "\(path) is protected but its SHA-256 is \(actual.prefix(12)), not \(expected.prefix(12)) as recorded in "
                + "autoresearch.toml [fixed]. Restore it (`git checkout -- \(path)`) or start a new workspace."
        case .git(let command, let output):
            return "`\(command)` failed: \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .sourceRootNotFound(let tried):
            return "could not find the AutoResearch source tree (tried \(tried)). Set AUTORESEARCH_HOME to the directory that holds Templates/."
        case .invalidTag(let tag):
            return "'\(tag)' cannot be a tag: use letters, digits, '-', '_' and '.' only (e.g. `--tag nov29`)."
        case .other(let message):
            return message
        }
    }
}
