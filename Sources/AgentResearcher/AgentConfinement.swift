import Foundation

/// What an agent command may reach besides its worktree: folders it reads (its own binary or configuration) or
/// writes, and the names of the harness's environment variables it gets (its API key). Everything else of the
/// machine's files, the data cache, the workspace's `.autoresearch` and the harness's environment stays out.
/// `[researcher] agent_read_only`, `agent_writable` and `agent_environment` in autoresearch.toml.
public struct AgentAccess: Sendable, Equatable {
    public var readOnly: [String]
    public var writable: [String]
    public var environment: [String]

    public init(readOnly: [String] = [], writable: [String] = [], environment: [String] = []) {
        self.readOnly = readOnly; self.writable = writable; self.environment = environment
    }
}

/// How the harness confines an agent command (the red team's finding 3: an unsandboxed agent read val.txt and
/// test.txt from the data cache, could write the ledger, and left a setsid process that swapped the built binary).
/// `confine(command, worktree, access)` returns the shell line that runs `command` confined and its whole environment.
public struct AgentConfinement: Sendable {
    public let description: String
    public let confine: @Sendable (_ command: String, _ worktree: URL, _ access: AgentAccess) throws -> (line: String, environment: [String: String])

    public init(description: String,
                confine: @escaping @Sendable (_ command: String, _ worktree: URL, _ access: AgentAccess) throws -> (line: String, environment: [String: String])) {
        self.description = description; self.confine = confine
    }
}
