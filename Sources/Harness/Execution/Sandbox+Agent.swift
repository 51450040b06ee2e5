import AgentResearcher
import Foundation

/// An agent command's sandbox (`CommandResearcher.confinement`), the same bubblewrap confinement as a phase's but
/// with the network (agents call their APIs) and its worktree writable:
/// - the worktree, with its build outputs (`.build`) hidden under an empty tmpfs, so the agent can neither read nor
///   swap what the harness built; its own builds go there and vanish;
/// - the repository's git folder read-only, the worktree's own git folder writable (its index), so `git status` and
///   `git diff` work; commits fail, and the harness commits;
/// - the folders `AgentAccess` names; nothing else of the host: not the data cache, not `.autoresearch` (ledger,
///   logs, other worktrees), not the home directory;
/// - only the phases' allowlisted variables (PATH, LANG, BLAS and thread settings), TERM, and the variables
///   `AgentAccess.environment` names;
/// - its own PID namespace: when the command ends, every process it started ends with it (no setsid survivor).
extension Sandbox {
    public func agentConfinement() -> AgentConfinement {
        let sandbox = self
        return AgentConfinement(description: "bubblewrap: the worktree (build outputs hidden), git read-only, the network, no data cache, no ledger, an allowlisted environment") { command, worktree, access in
            let (commonDir, worktreeGitDir) = try Self.gitFolders(of: worktree)
            var view = View(workingDirectory: worktree.path, readOnly: [commonDir] + access.readOnly,
                            writable: [worktreeGitDir, worktree.path] + access.writable, limitMemory: false)
            view.network = true
            view.keepsInput = true
            view.masked = [worktree.appendingPathComponent(".build").path]
            // The phases' allowlist (PATH, LANG, …; the private HOME and TMPDIR), the terminal, and what the agent's settings name.
            let harness = ProcessInfo.processInfo.environment
            let named = Dictionary((["TERM"] + access.environment).compactMap { key in harness[key].map { (key, $0) } }, uniquingKeysWith: { a, _ in a })
            let environment = SubjectEnvironment.make(subject: named, sandboxed: true, harness: harness)
            return (sandbox.commandLine(command, view: view, environment: environment), environment)
        }
    }

    /// The repository's git folder and the worktree's own (from the worktree's `.git` file), resolved.
    static func gitFolders(of worktree: URL) throws -> (common: String, own: String) {
        guard let text = try? String(contentsOf: worktree.appendingPathComponent(".git"), encoding: .utf8), text.hasPrefix("gitdir:") else {
            throw HarnessError.other("the worktree \(worktree.path) has no .git file naming its git folder; the agent cannot be confined")
        }
        func resolve(_ path: String, from base: String) -> String {
            let joined = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
            return URL(fileURLWithPath: joined).standardizedFileURL.resolvingSymlinksInPath().path
        }
        let own = resolve(text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines), from: worktree.path)
        let commonText = (try? String(contentsOfFile: own + "/commondir", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "../.."
        return (resolve(commonText, from: own), own)
    }
}
