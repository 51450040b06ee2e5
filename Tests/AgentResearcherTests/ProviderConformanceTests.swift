import AgentResearcher
import AutoResearchCore
import Foundation
import TestSupport
import Testing

/// Every branch of a conversation against a local server that refuses what the real APIs refuse (400 on
/// whitespace-only text blocks, on `content: null` without tool calls, on unparsable earlier arguments, on
/// `max_tokens` for reasoning models), the time limit inside a call, prompt caching, and tool calls written as text.
@Suite(.serialized) struct ProviderConformanceTests {
    static let key = "sk-conformance-secret-42"
    static let edit: JSONValue = ["path": "train.py", "old_string": "LEARNING_RATE = 0.001", "new_string": "LEARNING_RATE = 0.002"]
    static let finish: JSONValue = ["description": "LEARNING_RATE 0.001 -> 0.002", "hypothesis": "faster progress in the fixed budget"]

    func anthropic(_ server: FakeProvider, limits: AgentLimits = AgentLimits(), transport: HTTPTransport? = nil) -> LLMResearcher {
        LLMResearcher(provider: AnthropicProvider(model: "claude-test", baseURL: server.baseURL, apiKey: Self.key,
                                                  transport: transport ?? RecordedSleeps().transport()),
                      limits: limits, prices: Prices(inputPerMillion: 3, outputPerMillion: 15), secrets: [Self.key])
    }

    func openai(_ server: FakeProvider, field: String? = nil, limits: AgentLimits = AgentLimits(),
                prices: Prices = Prices(inputPerMillion: 2, outputPerMillion: 8, cacheReadPerMillion: 0.5)) -> LLMResearcher {
        LLMResearcher(provider: OpenAIProvider(model: "gpt-test", baseURL: server.baseURL.appendingPathComponent("v1"), apiKey: Self.key,
                                               maxTokensField: field, transport: RecordedSleeps().transport()),
                      limits: limits, prices: prices, secrets: [Self.key])
    }

    func entries(_ researcher: LLMResearcher) throws -> [TranscriptEntry] {
        let transcript = try #require(researcher.lastSession()?.transcript)
        return try JSONDecoder().decode([TranscriptEntry].self, from: Data(transcript.utf8))
    }

    // MARK: - The server refuses what the real APIs refuse

    @Test func theServerRefusesWhatTheRealAPIsRefuse() async throws {
        let server = try FakeProvider([])
        let transport = RecordedSleeps().transport()
        let log = TranscriptLog(secrets: [])
        func post(_ path: String, _ body: JSONValue) async throws -> String {
            do {
                _ = try await transport.postJSON(server.baseURL.appendingPathComponent(path), headers: ["x-api-key": "k", "anthropic-version": "2023-06-01"],
                                                 body: body, deadline: Date() + 30, log: log)
                return "accepted"
            } catch let error as ProviderError { return error.description }
        }
        let user: JSONValue = ["role": "user", "content": "hi"]
        #expect(try await post("v1/messages", ["model": "m", "max_tokens": 10, "messages": [
            user, ["role": "assistant", "content": [["type": "text", "text": "\n\n"], ["type": "tool_use", "id": "t1", "name": "f", "input": [:]]]],
            ["role": "user", "content": [["type": "tool_result", "tool_use_id": "t1", "content": "ok"]]]]])
            == "the provider rejected the request: HTTP 400: messages.1.content.0: text content blocks must contain non-whitespace text")
        #expect(try await post("v1/chat/completions", ["model": "m", "messages": [user, ["role": "assistant", "content": .null], user]])
            == "the provider rejected the request: HTTP 400: Invalid value for 'messages[1].content': expected a string, got null.")
        #expect(try await post("v1/chat/completions", ["model": "m", "messages": [
            user, ["role": "assistant", "content": .null, "tool_calls": [["id": "c1", "type": "function", "function": ["name": "f", "arguments": "{not json"]]]],
            ["role": "tool", "tool_call_id": "c1", "content": "ERROR"]]]).hasPrefix(
                "the provider rejected the request: HTTP 400: messages[1].tool_calls[0].function.arguments: Failed to parse tool call arguments as JSON"))
        #expect(server.requests().count == 3)
        #expect(server.rejections().count == 3)
    }

    // MARK: - Anthropic

    @Test func anthropicLeavesOutWhitespaceOnlyTextBlocks() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([
            FakeProvider.anthropic([FakeProvider.text("\n\n"), FakeProvider.toolUse("toolu_1", "edit_file", Self.edit)]),
            FakeProvider.anthropic([FakeProvider.text("  "), FakeProvider.text("")], stop: "end_turn"),
            FakeProvider.anthropic([FakeProvider.toolUse("toolu_2", "finish", Self.finish)]),
        ])
        let proposal = try await anthropic(server).propose(tree.context())
        #expect(proposal.description == "LEARNING_RATE 0.001 -> 0.002")
        #expect(server.rejections() == [])
        let messages = try #require(server.requests().last?["body"]?["messages"]?.array)
        #expect(messages[1]["content"]?.array?.map { $0["type"]?.string ?? "" } == ["tool_use"])
        #expect(messages[3]["content"]?.array?.first?["text"] == "(no reply)")
    }

    @Test func anthropicMarksTheCacheBreakpointsAndCountsCacheTokensAtTheirPrices() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([
            FakeProvider.anthropic([FakeProvider.toolUse("toolu_1", "read_file", ["path": "train.py"])], output: 40),
            FakeProvider.anthropic([FakeProvider.toolUse("toolu_2", "edit_file", Self.edit)], output: 40),
            FakeProvider.anthropic([FakeProvider.toolUse("toolu_3", "finish", Self.finish)], output: 40),
        ], options: ["emulate_usage": true])
        let researcher = anthropic(server)
        _ = try await researcher.propose(tree.context())
        #expect(server.rejections() == [])
        let requests = server.requests()
        let body = try #require(requests.last?["body"])
        #expect(body["system"]?.array?.first?["cache_control"] == ["type": "ephemeral"])
        #expect(body["tools"]?.array?.last?["cache_control"] == ["type": "ephemeral"])
        #expect(body["tools"]?.array?.dropLast().allSatisfy { $0["cache_control"] == nil } == true)
        let last = try #require(body["messages"]?.array?.last?["content"]?.array)
        #expect(last.last?["cache_control"] == ["type": "ephemeral"])
        #expect(requests[1]["body"]?["messages"]?.array?.first?["content"]?.array?.first?["cache_control"] == nil,
                "the breakpoint moves to the newest message")

        // The server counted a write on the first turn and reads after it; the spend prices each part.
        let session = try #require(researcher.lastSession())
        #expect(session.cacheWriteTokens > 0 && session.cacheReadTokens > session.cacheWriteTokens / 2)
        let expected = (Double(session.inputTokens) * 3 + Double(session.outputTokens) * 15
                        + Double(session.cacheWriteTokens) * 3.75 + Double(session.cacheReadTokens) * 0.3) / 1e6
        #expect(abs(session.costUSD - expected) < 1e-12)
        let uncached = Double(session.inputTokens + session.cacheWriteTokens + session.cacheReadTokens) * 3 / 1e6
        #expect(session.costUSD - Double(session.outputTokens) * 15 / 1e6 < uncached)
        #expect(try entries(researcher).contains { $0.kind == "assistant" && $0.text.contains("cache read") })
    }

    // MARK: - OpenAI

    @Test func openaiNeverSendsNullContentWithoutToolCalls() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([
            FakeProvider.openai(text: nil, calls: [], finish: "stop"),
            FakeProvider.openai(text: nil, calls: [], finish: "length"),
            FakeProvider.openai(calls: [("call_1", "edit_file", Self.edit.text)]),
            FakeProvider.openai(calls: [("call_2", "finish", Self.finish.text)]),
        ])
        let proposal = try await openai(server).propose(tree.context())
        #expect(proposal.files.keys.sorted() == ["train.py"])
        #expect(server.rejections() == [])
        let messages = try #require(server.requests().last?["body"]?["messages"]?.array)
        let assistants = messages.filter { $0["role"] == "assistant" }
        #expect(assistants.map { $0["content"] ?? .null } == ["(no reply)", "(no reply)", .null])
        #expect(assistants[2]["tool_calls"]?.array?.count == 1)
    }

    @Test func openaiSendsUnparsableArgumentsBackAsAnEmptyObjectWithTheError() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([
            FakeProvider.openai(calls: [("call_1", "edit_file", #"{"path": "train.py", "old_string": "LEARN"#)]),
            FakeProvider.openai(calls: [("call_2", "edit_file", Self.edit.text)]),
            FakeProvider.openai(calls: [("call_3", "finish", Self.finish.text)]),
        ])
        let researcher = openai(server)
        _ = try await researcher.propose(tree.context())
        #expect(server.rejections() == [], "every later turn is accepted by a server that re-parses earlier calls")
        let messages = try #require(server.requests().last?["body"]?["messages"]?.array)
        #expect(messages[2]["tool_calls"]?.array?.first?["function"]?["arguments"] == "{}")
        #expect(messages[3]["content"] == #"ERROR: the arguments of edit_file are not a JSON object (got: {"path": "train.py", "old_string": "LEARN); send them as a JSON object."#)
        // The transcript keeps what the model really sent.
        #expect(try entries(researcher).contains { $0.kind == "tool_call" && $0.text == #"edit_file {"path": "train.py", "old_string": "LEARN"# })
    }

    @Test func openaiSwitchesToMaxCompletionTokensOnceAndRemembersIt() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([
            FakeProvider.openai(calls: [("call_1", "edit_file", Self.edit.text)]),
            FakeProvider.openai(calls: [("call_2", "finish", Self.finish.text)]),
            FakeProvider.openai(calls: [("call_3", "edit_file", (["path": "train.py", "old_string": "DEPTH = 4", "new_string": "DEPTH = 5"] as JSONValue).text)]),
            FakeProvider.openai(calls: [("call_4", "finish", (["description": "DEPTH 4 -> 5", "hypothesis": "deeper"] as JSONValue).text)]),
        ], options: ["reject_fields": ["max_tokens"]])
        let researcher = openai(server)
        _ = try await researcher.propose(tree.context())
        #expect(try entries(researcher).contains {
            $0.kind == "harness" && $0.text.hasPrefix("the server does not accept `max_tokens` (HTTP 400: Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.); sending `max_completion_tokens` from now on in this run")
        })
        tree.reset()
        let second = try await researcher.propose(tree.context())
        #expect(second.description == "DEPTH 4 -> 5")
        let requests = server.requests()
        #expect(requests.count == 5, "one refused request, then four accepted")
        #expect(server.rejections().count == 1)
        #expect(requests.dropFirst().allSatisfy { $0["body"]?["max_completion_tokens"] == 8192 && $0["body"]?["max_tokens"] == nil })
    }

    @Test func aMaxTokensFieldSetInTheManifestIsNeverSwitched() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([FakeProvider.openai(calls: [("call_1", "finish", Self.finish.text)])],
                                      options: ["reject_fields": ["max_tokens"]])
        await #expect(throws: ResearcherError.failed("the provider rejected the request: HTTP 400: Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.")) {
            _ = try await openai(server, field: "max_tokens").propose(tree.context())
        }
        #expect(server.requests().count == 1)
    }

    @Test func openaiCachedTokensArePricedAsCacheReads() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([
            FakeProvider.openai(calls: [("call_1", "read_file", #"{"path": "train.py"}"#)]),
            FakeProvider.openai(calls: [("call_2", "edit_file", Self.edit.text)]),
            FakeProvider.openai(calls: [("call_3", "finish", Self.finish.text)]),
        ], options: ["emulate_usage": true])
        let researcher = openai(server)
        _ = try await researcher.propose(tree.context())
        let session = try #require(researcher.lastSession())
        #expect(session.cacheReadTokens > 0 && session.cacheReadTokens % 128 == 0)
        #expect(session.cacheWriteTokens == 0)
        let expected = (Double(session.inputTokens) * 2 + Double(session.outputTokens) * 8 + Double(session.cacheReadTokens) * 0.5) / 1e6
        #expect(abs(session.costUSD - expected) < 1e-12)
    }

    /// A typical experiment (the GPT subject's train.swift, 20 results so far; five turns: read the results, read
    /// the file, edit it, write a note, finish) against a server that counts tokens from the request (about 4 bytes
    /// a token) and caches prefixes as each provider documents. Prints the input cost with and without caching.
    @Test func promptCachingCutsATypicalExperimentsInputCost() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let train = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Templates/gpt/Sources/train/train.swift")
        try String(contentsOf: train, encoding: .utf8).write(to: tree.url.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
        let history = (0..<20).map { i in
            ExperimentOutcome(number: i, description: i == 0 ? "baseline" : "WIDTH \(64 + i) -> \(65 + i)", hypothesis: "a wider model learns more per step",
                              researcher: "search", status: i == 0 ? .baseline : .discard, metric: 2.6 - Double(i) * 0.001)
        }
        let edit: JSONValue = ["path": "train.py", "old_string": "let LEARNING_RATE = 0.0015", "new_string": "let LEARNING_RATE = 0.002"]
        let note: JSONValue = ["text": "width moves are all within the noise; trying the learning rate"]
        func reduction(_ researcher: LLMResearcher, _ prices: Prices) throws -> (uncached: Double, cached: Double) {
            let s = try #require(researcher.lastSession())
            let uncached = Double(s.inputTokens + s.cacheWriteTokens + s.cacheReadTokens) * prices.inputPerMillion / 1e6
            return (uncached, s.costUSD - Double(s.outputTokens) * prices.outputPerMillion / 1e6)
        }

        let a = try FakeProvider([
            FakeProvider.anthropic([FakeProvider.toolUse("toolu_1", "read_results", [:])]),
            FakeProvider.anthropic([FakeProvider.toolUse("toolu_2", "read_file", ["path": "train.py"])]),
            FakeProvider.anthropic([FakeProvider.toolUse("toolu_3", "edit_file", edit)]),
            FakeProvider.anthropic([FakeProvider.toolUse("toolu_4", "append_note", note)]),
            FakeProvider.anthropic([FakeProvider.toolUse("toolu_5", "finish", ["description": "LEARNING_RATE 0.0015 -> 0.002", "hypothesis": "h"])]),
        ], options: ["emulate_usage": true])
        let claude = anthropic(a)
        _ = try await claude.propose(tree.context(history: history))
        let (aFull, aCached) = try reduction(claude, Prices(inputPerMillion: 3, outputPerMillion: 15))

        tree.reset()
        try String(contentsOf: train, encoding: .utf8).write(to: tree.url.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
        let o = try FakeProvider([
            FakeProvider.openai(calls: [("c1", "read_results", "{}")]),
            FakeProvider.openai(calls: [("c2", "read_file", #"{"path": "train.py"}"#)]),
            FakeProvider.openai(calls: [("c3", "edit_file", edit.text)]),
            FakeProvider.openai(calls: [("c4", "append_note", note.text)]),
            FakeProvider.openai(calls: [("c5", "finish", #"{"description": "LEARNING_RATE 0.0015 -> 0.002", "hypothesis": "h"}"#)]),
        ], options: ["emulate_usage": true])
        let gpt = openai(o)
        _ = try await gpt.propose(tree.context(history: history))
        let (oFull, oCached) = try reduction(gpt, Prices(inputPerMillion: 2, outputPerMillion: 8))

        print(String(format: "prompt caching, one typical experiment (5 turns): Anthropic input $%.4f -> $%.4f (%.0f %% less); OpenAI input $%.4f -> $%.4f (%.0f %% less)",
                     aFull, aCached, 100 * (1 - aCached / aFull), oFull, oCached, 100 * (1 - oCached / oFull)))
        #expect(aCached < 0.6 * aFull)
        #expect(oCached < 0.8 * oFull)
    }

    // MARK: - The time limit holds inside a call

    @Test func aHangingCallEndsAtTheTimeLimit() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([["action": "hang", "seconds": 60]])
        var limits = AgentLimits(); limits.maxSeconds = 2
        let started = Date()
        do {
            _ = try await anthropic(server, limits: limits).propose(tree.context())
            Issue.record("a hanging provider produced a proposal")
        } catch let error as ResearcherError {
            #expect(error == .failed("the request was still unanswered when the researcher's time limit ran out (2 s left when it was sent) (raise [researcher.limits] max_seconds to allow longer calls)"))
        }
        #expect(Date().timeIntervalSince(started) < 30, "the call ended at the 2 s limit, not the server's 60 s")
        #expect(server.requests().count == 1)
    }

    @Test func aRetryAfterLongerThanTheTimeLeftEndsTheExperimentAtOnce() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([["status": 429, "headers": ["retry-after": "600"],
                                        "body": ["type": "error", "error": ["type": "rate_limit_error", "message": "slow down"]]]])
        var limits = AgentLimits(); limits.maxSeconds = 120
        let sleeps = RecordedSleeps()
        let started = Date()
        do {
            _ = try await anthropic(server, limits: limits, transport: sleeps.transport()).propose(tree.context())
            Issue.record("a proposal without an answer")
        } catch let error as ResearcherError {
            guard case .failed(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.hasPrefix("attempt 1/4 failed (HTTP 429: "))
            #expect(message.contains("and the server asked to retry after 600 s, but only 1"))
            #expect(message.hasSuffix(" s of the researcher's time limit are left (raise [researcher.limits] max_seconds to allow longer calls)"))
        }
        #expect(sleeps.waits == [], "nothing waited for the retry-after")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(server.requests().count == 1)
    }

    // MARK: - Tool calls written as text

    @Test func toolCallsWrittenAsJSONInTheTextAreUnderstood() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let server = try FakeProvider([
            FakeProvider.openai(text: "I will change the learning rate.\n```json\n{\"name\": \"edit_file\", \"arguments\": \(Self.edit.text)}\n```", calls: [], finish: "stop"),
            FakeProvider.openai(text: "<tool_call>\n{\"name\": \"finish\", \"arguments\": \(Self.finish.text)}\n</tool_call>", calls: [], finish: "stop"),
        ])
        let researcher = openai(server)
        let proposal = try await researcher.propose(tree.context())
        #expect(proposal.files["train.py"]?.hasPrefix("LEARNING_RATE = 0.002") == true)
        #expect(proposal.description == "LEARNING_RATE 0.001 -> 0.002")
        #expect(server.rejections() == [])
        let messages = try #require(server.requests().last?["body"]?["messages"]?.array)
        #expect(messages[2]["role"] == "assistant" && messages[2]["tool_calls"] == nil)
        #expect(messages[3]["role"] == "user")
        #expect(messages[3]["content"] == "Result of your edit_file call:\nedited train.py: replaced 1 line(s) with 1.")
        #expect(try entries(researcher).contains { $0.text == "read 1 tool call(s) the model wrote as JSON in its text" })
    }

    @Test func aModelThatWritesNoCallIsToldOnceHowToCallTools() async throws {
        let tree = try Worktree(); defer { tree.remove() }
        let prose = FakeProvider.openai(text: "I think the learning rate should be higher.", calls: [], finish: "stop")
        let server = try FakeProvider([
            prose,
            FakeProvider.openai(text: #"{"name": "edit_file", "arguments": {"path": "train.py"}}"#, calls: [], finish: "stop"),
            prose,
        ])
        await #expect(throws: ResearcherError.failed("the model stopped without calling finish (3 times)")) {
            _ = try await openai(server).propose(tree.context())
        }
        let messages = try #require(server.requests().last?["body"]?["messages"]?.array)
        let told = messages.filter { $0["role"] == "user" }.dropFirst().map { $0["content"]?.string ?? "" }
        #expect(told.count == 2)
        #expect(told[0].hasPrefix("Your reply had no tool call. Call the tools through the tool-calling interface of this API. If you cannot, reply with only a JSON object naming one tool and its arguments, for example {\"name\": \"read_file\", \"arguments\": {\"path\": \"train.py\"}}."))
        #expect(!told[1].contains("tool-calling interface"), "the explanation is given once")
    }

    @Test func textToolCallsAcceptOnlyOfferedToolsWithTheirRequiredArguments() {
        let tools = AgentToolbox.specs
        func names(_ text: String) -> [String] { TextToolCalls.parse(text, tools: tools).map(\.name) }
        #expect(names(#"{"name": "read_file", "parameters": {"path": "a"}}"#) == ["read_file"])
        #expect(names(#"{"function": {"name": "read_file", "arguments": "{\"path\": \"a\"}"}}"#) == ["read_file"])
        #expect(names(#"[{"tool": "list_files"}, {"name": "read_notes", "arguments": {}}]"#) == ["list_files", "read_notes"])
        #expect(names(#"{"tool_calls": [{"type": "function", "function": {"name": "read_results", "arguments": {}}}]}"#) == ["read_results"])
        #expect(names(#"{"name": "rm_rf", "arguments": {"path": "/"}}"#) == [], "not an offered tool")
        #expect(names(#"{"name": "edit_file", "arguments": {"path": "train.py"}}"#) == [], "old_string and new_string are required")
        #expect(names(#"{"name": "read_file", "arguments": "{not json"}"#) == [])
        #expect(names("Set the rate to {0.002} and {\"unbalanced\": ") == [])
        let call = TextToolCalls.parse(#"Sure: {"name": "read_file", "arguments": {"path": "a \"}\" b"}} done"#, tools: tools)
        #expect(call.first?.arguments == ["path": "a \"}\" b"])
    }
}
