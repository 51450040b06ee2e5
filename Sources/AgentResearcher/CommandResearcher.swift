import AutoResearchCore
import Foundation
import Synchronization

/// An external coding agent (`claude -p`, `codex exec`, any script) run as a command inside the worktree.
///
/// The prompt goes to the command on standard input, or replaces `{prompt}` (shell-quoted) or `{prompt_file}`
/// (a file's path) in the template. The agent edits the files itself; afterwards its changes are read back from
/// git: a change to a protected file refuses the whole proposal, files it adds are ignored, commits it makes are
/// undone (the harness commits). Its reply ends with `DESCRIPTION:` and `HYPOTHESIS:` lines.
public final class CommandResearcher: Researcher, @unchecked Sendable {
    public let name = "command"
    public let template: String
    public let timeout: Double
    public let buildFixAttempts: Int
    let secrets: [String]
    /// What the agent may reach beyond its worktree when it runs confined.
    public let access: AgentAccess
    /// The transcript of the current experiment: a repair appends to the proposal's.
    private let current = Mutex<TranscriptLog?>(nil)
    private let confinementBox = Mutex<AgentConfinement?>(nil)

    /// How the agent runs confined (the harness sets it when it has a sandbox); nil: unconfined, which the harness
    /// reports as untrusted.
    public var confinement: AgentConfinement? {
        get { confinementBox.withLock { $0 } }
        set { confinementBox.withLock { $0 = newValue } }
    }

    public init(template: String, timeout: Double, buildFixAttempts: Int = 2, secrets: [String] = [], access: AgentAccess = AgentAccess()) {
        self.template = template; self.timeout = timeout; self.buildFixAttempts = buildFixAttempts
        self.secrets = secrets + TranscriptLog.environmentSecrets()
        self.access = access
    }

    public func lastSession() -> ResearcherSession? {
        current.withLock { $0.map { ResearcherSession(transcript: $0.json) } }
    }

    public func propose(_ context: ResearchContext) async throws -> Proposal {
        let notes = ((try? context.records?.notes()) ?? nil) ?? []
        return try await run(context, prompt: ResearchPrompt.task(context, notes: notes, forCommand: true))
    }

    public func repair(_ context: ResearchContext, compilerOutput: String) async throws -> Proposal {
        let prompt = ResearchPrompt.buildFailed(compilerOutput, attempt: 1, of: buildFixAttempts)
            + "\n\n" + ResearchPrompt.fences
            + "\n\nEnd your reply with the DESCRIPTION: and HYPOTHESIS: lines again."
        return try await run(context, prompt: prompt, keepChanges: true)
    }

    /// The template with `{prompt}` / `{prompt_file}` filled in, and whether the prompt goes to standard input.
    public static func commandLine(_ template: String, prompt: String, promptFile: URL) -> (command: String, stdin: Bool) {
        let quoted = "'" + prompt.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let quotedFile = "'" + promptFile.path.replacingOccurrences(of: "'", with: "'\\''") + "'"
        if template.contains("{prompt_file}") || template.contains("{prompt}") {
            return (template.replacingOccurrences(of: "{prompt_file}", with: quotedFile)
                        .replacingOccurrences(of: "{prompt}", with: quoted), false)
        }
        return (template, true)
    }

    /// The last `DESCRIPTION:` and `HYPOTHESIS:` lines of the agent's output.
    public static func report(from output: String) -> (description: String?, hypothesis: String?) {
        var description: String?, hypothesis: String?
        for line in output.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "**", with: "")
            if t.uppercased().hasPrefix("DESCRIPTION:") { description = String(t.dropFirst(12)).trimmingCharacters(in: .whitespaces) }
            if t.uppercased().hasPrefix("HYPOTHESIS:") { hypothesis = String(t.dropFirst(11)).trimmingCharacters(in: .whitespaces) }
        }
        return (description?.isEmpty == true ? nil : description, hypothesis)
    }

    private func run(_ context: ResearchContext, prompt: String, keepChanges: Bool = false) async throws -> Proposal {
        let log = current.withLock { existing -> TranscriptLog in
            if keepChanges, let existing { return existing }
            let log = TranscriptLog(secrets: secrets)
            existing = log
            return log
        }
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("autoresearch-agent-\(UUID().uuidString)")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        let promptFile = scratch.appendingPathComponent("prompt.md")
        let outputFile = scratch.appendingPathComponent("output.log")
        try prompt.write(to: promptFile, atomically: true, encoding: .utf8)
        let (command, stdin) = CommandResearcher.commandLine(template, prompt: prompt, promptFile: promptFile)
        log.append("user", prompt)
        log.append("harness", "running `\(template)` in the worktree (prompt on \(stdin ? "standard input" : "the command line")), limit \(Int(timeout)) s")

        let git = { (args: [String]) throws -> String in
            let r = try ProcessRunner.capture(SafeGit.command(args), in: context.worktree, environment: SafeGit.environment)
            guard r.status == 0 else { throw ResearcherError.failed("git \(args.joined(separator: " ")) failed in the worktree: \(r.stderr)") }
            return r.stdout
        }
        let base = try git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
        var before: [String: String] = [:]
        for path in context.editableFiles {
            before[path] = keepChanges ? nil : (try? String(contentsOf: context.worktree.appendingPathComponent(path), encoding: .utf8))
        }

        var line = command
        var environment: [String: String]?
        if let confinement {
            var access = self.access
            access.readOnly.append(scratch.path)  // the prompt file
            (line, environment) = try confinement.confine(command, context.worktree, access)
            log.append("harness", "the agent runs confined: \(confinement.description)")
        }
        let result = try await ProcessRunner.run(shell: line, in: context.worktree, environment: environment ?? [:],
                                                 removing: ["AUTORESEARCH_EVAL_TEST"], exactEnvironment: environment != nil,
                                                 input: stdin ? promptFile : nil, log: outputFile, timeout: timeout)
        // Ignored files it left (a package manager's configuration, caches) take no part in the build; the build
        // outputs it never saw stay.
        _ = try? git(["clean", "-ffdqX", "-e", "!/.build"])
        let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        log.append("command", String(output.suffix(50_000)))
        switch result.termination {
        case .exited(0): break
        case .cancelled: throw CancellationError()
        case .timedOut:
            log.append("harness", "the agent ran past \(Int(timeout)) s and was stopped")
            throw ResearcherError.failed("the agent command ran past its limit of \(Int(timeout)) s and was stopped")
        default:
            let tail = output.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw ResearcherError.failed("the agent command \(result.termination): \(tail)")
        }

        // Commits the agent made are undone (the files stay); the harness commits.
        if try git(["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines) != base {
            _ = try git(["reset", "-q", "--mixed", base])
            log.append("harness", "the agent committed; its commits were undone and its changes kept for the harness to commit")
        }
        let changed = try git(["diff", "--name-only", "-z", base]).split(separator: "\0").map(String.init)
        let protected = changed.filter { !context.editableFiles.contains($0) }
        guard protected.isEmpty else {
            let message = "the agent changed protected files (\(protected.joined(separator: ", "))); only \(context.editableFiles.joined(separator: ", ")) may change, so the proposal is refused"
            log.append("harness", message)
            throw ResearcherError.failed(message)
        }
        var files: [String: String] = [:]
        // A repair returns every editable file (the harness compares with the parent); a proposal what changed.
        for path in keepChanges ? context.editableFiles : changed {
            let content = (try? String(contentsOf: context.worktree.appendingPathComponent(path), encoding: .utf8)) ?? ""
            if keepChanges || before[path] != content { files[path] = content }
        }
        guard !files.isEmpty, keepChanges || !changed.isEmpty else {
            log.append("harness", "the agent changed no editable file")
            throw ResearcherError.failed("the agent changed no editable file (\(context.editableFiles.joined(separator: ", ")))")
        }
        let report = CommandResearcher.report(from: output)
        let description = report.description ?? "agent change to \(files.keys.sorted().joined(separator: ", ")) (no DESCRIPTION line)"
        return Proposal(files: files, description: description, hypothesis: report.hypothesis ?? "", move: "command")
    }
}
