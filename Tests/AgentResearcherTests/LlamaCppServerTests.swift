import AgentResearcher
import AutoResearchCore
import Foundation
import TestSupport
import Testing

/// The OpenAI-compatible researcher against a real llama.cpp server (PyPI `xllamacpp`) serving
/// Qwen2.5-Coder-0.5B-Instruct with its own chat template, installed by `scripts/llama-server.sh`.
@Suite struct LlamaCppServerTests {
    @Test(.enabled(if: LlamaServer.configured != nil, "run scripts/llama-server.sh to install llama.cpp's server and the model"))
    func aSmallLocalModelProposesAnExperimentOrFailsCleanly() async throws {
        let (python, model) = try #require(LlamaServer.configured)
        let server = try LlamaServer(python: python, model: model)
        let tree = try Worktree(); defer { tree.remove() }
        var limits = AgentLimits()
        limits.maxTurns = 8
        limits.maxTokensPerReply = 384
        limits.maxSeconds = 600
        let provider = OpenAIProvider(model: "local", baseURL: server.baseURL, apiKey: nil,
                                      transport: HTTPTransport(retry: RetryPolicy(maxAttempts: 2, baseDelay: 1)))
        let researcher = LLMResearcher(provider: provider, limits: limits, prices: Prices(inputPerMillion: 0, outputPerMillion: 0))
        var outcome: String
        do {
            let proposal = try await researcher.propose(tree.context())
            outcome = "proposal: \(proposal.description)"
            // A proposal is a real change to the editable file, and nothing else.
            #expect(proposal.files.keys.sorted() == ["train.py"])
            #expect(!proposal.description.isEmpty)
        } catch let error as ResearcherError {
            // A model that cannot use the tools ends the experiment with the harness's own reason, never with
            // the server refusing a request.
            outcome = "researcher error: \(error)"
            guard case .failed(let reason) = error else { Issue.record("unexpected \(error)"); return }
            #expect(["without finishing", "without calling finish", "time limit"].contains { reason.contains($0) }, "\(reason)")
        }
        let transcript = try #require(researcher.lastSession()?.transcript)
        #expect(!transcript.contains("rejected the request"), "every request was accepted")
        #expect(!transcript.contains("failed: HTTP"), "no request needed a retry")
        let session = try #require(researcher.lastSession())
        let entries = try JSONDecoder().decode([TranscriptEntry].self, from: Data(transcript.utf8))
        let calls = entries.filter { $0.kind == "tool_call" }.map { String($0.text.prefix(while: { $0 != " " })) }
        let written = entries.filter { $0.text.hasPrefix("read ") && $0.text.contains("as JSON in its text") }.count
        print("llama.cpp (Qwen2.5-Coder-0.5B-Instruct): \(outcome); \(session.turns) turns, tool calls \(calls) "
              + "(\(written) turn(s) of them written as JSON text), \(session.inputTokens) input and \(session.outputTokens) output tokens")
    }
}
