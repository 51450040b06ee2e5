import AgentResearcher
import AutoResearchCore
import Foundation
import TestSupport
import Testing

/// The command backend with small shell scripts standing in for a coding agent.
@Suite struct CommandResearcherTests {
    /// A script that saves its prompt, edits train.py and reports.
    static let agent = """
    cat > "$PWD/../prompt-seen-$(basename "$PWD").txt"
    sed -i 's/DEPTH = 4/DEPTH = 6/' train.py
    echo "thinking..."
    echo "DESCRIPTION: DEPTH 4 -> 6"
    echo "HYPOTHESIS: more layers fit the budget"
    """

    @Test func theAgentGetsThePromptOnStandardInputAndItsEditsBecomeTheProposal() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let seen = tree.url.deletingLastPathComponent().appendingPathComponent("prompt-seen-\(tree.url.lastPathComponent).txt")
        defer { try? FileManager.default.removeItem(at: seen) }
        let researcher = CommandResearcher(template: Self.agent, timeout: 30)
        let proposal = try await researcher.propose(tree.context())
        #expect(proposal.files == ["train.py": "LEARNING_RATE = 0.001  # range: 0.0001..0.1\nDEPTH = 6\nprint('train')\n"])
        #expect(proposal.description == "DEPTH 4 -> 6")
        #expect(proposal.hypothesis == "more layers fit the budget")
        let prompt = try String(contentsOf: seen, encoding: .utf8)
        #expect(prompt.contains("# Program\nLower val_bpb."))
        #expect(prompt.contains("DESCRIPTION: <one line describing the change>"))
        #expect(researcher.lastSession()?.transcript.contains("thinking...") == true)
    }

    @Test func aRepairContinuesTheTranscriptAndReturnsEveryEditableFile() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let researcher = CommandResearcher(template: Self.agent, timeout: 30)
        _ = try await researcher.propose(tree.context())
        let repair = CommandResearcher(template: "echo fixing; echo 'DESCRIPTION: depth 6, fixed'", timeout: 30)
        let fixed = try await repair.repair(tree.context(), compilerOutput: "error: x")
        #expect(fixed.files.keys.sorted() == ["train.py"])
        #expect(fixed.description == "depth 6, fixed")
        let twice = try await researcher.repair(tree.context(), compilerOutput: "error: y")
        #expect(twice.files["train.py"]?.contains("DEPTH = 6") == true)
        let transcript = try #require(researcher.lastSession()?.transcript)
        #expect(transcript.contains("thinking..."), "the proposal's output is still there")
        #expect(transcript.contains("fix attempt 1 of 2"))
        try? FileManager.default.removeItem(at: tree.url.deletingLastPathComponent().appendingPathComponent("prompt-seen-\(tree.url.lastPathComponent).txt"))
    }

    @Test func promptFileAndPromptPlaceholdersAreFilledIn() {
        let file = URL(fileURLWithPath: "/tmp/p q.md")
        #expect(CommandResearcher.commandLine("agent --file {prompt_file}", prompt: "x", promptFile: file) == ("agent --file '/tmp/p q.md'", false))
        #expect(CommandResearcher.commandLine("codex exec {prompt}", prompt: "it's", promptFile: file) == ("codex exec 'it'\\''s'", false))
        #expect(CommandResearcher.commandLine("claude -p", prompt: "x", promptFile: file) == ("claude -p", true))
        #expect(CommandResearcher.report(from: "**DESCRIPTION:** a\nHYPOTHESIS: b\nDESCRIPTION: c") == ("c", "b"))
    }

    @Test func changingAProtectedFileRefusesTheProposal() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let researcher = CommandResearcher(template: "sed -i 's/DEPTH = 4/DEPTH = 6/' train.py; echo x >> data.txt", timeout: 30)
        await #expect(throws: ResearcherError.failed("the agent changed protected files (data.txt); only train.py may change, so the proposal is refused")) {
            _ = try await researcher.propose(tree.context())
        }
    }

    @Test func commitsOfTheAgentAreUndoneAndItsFilesKept() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let base = try ProcessRunner.capture(["git", "rev-parse", "HEAD"], in: tree.url).stdout
        let researcher = CommandResearcher(
            template: "sed -i 's/DEPTH = 4/DEPTH = 5/' train.py && git -c user.name=a -c user.email=a@a commit -qam 'agent commit'; echo 'DESCRIPTION: depth 5'",
            timeout: 30)
        let proposal = try await researcher.propose(tree.context())
        #expect(proposal.files["train.py"]?.contains("DEPTH = 5") == true)
        #expect(try ProcessRunner.capture(["git", "rev-parse", "HEAD"], in: tree.url).stdout == base)
        #expect(proposal.hypothesis == "")
    }

    @Test func noChangeATimeoutAndAFailureAreResearcherErrors() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        await #expect(throws: ResearcherError.failed("the agent changed no editable file (train.py)")) {
            _ = try await CommandResearcher(template: "echo nothing to do", timeout: 30).propose(tree.context())
        }
        await #expect(throws: ResearcherError.failed("the agent command ran past its limit of 1 s and was stopped")) {
            _ = try await CommandResearcher(template: "sleep 30", timeout: 1).propose(tree.context())
        }
        await #expect(throws: ResearcherError.failed("the agent command exited with status 3: no credits left")) {
            _ = try await CommandResearcher(template: "echo no credits left; exit 3", timeout: 30).propose(tree.context())
        }
    }
}
