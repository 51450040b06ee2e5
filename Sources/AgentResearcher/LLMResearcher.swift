import AutoResearchCore
import Foundation
import Synchronization

/// A researcher driven by a chat model with tool use (Anthropic Messages or OpenAI Chat Completions).
///
/// One experiment is one conversation: the research program and the state of the research go in, the model
/// works with `AgentToolbox` until it calls `finish`, and its edits become the proposal. A failed build continues
/// the same conversation (`repair`). Every experiment is bounded by `AgentLimits` (turns, output tokens, wall
/// time, dollars) and the session by its spending cap.
public final class LLMResearcher: Researcher, @unchecked Sendable {
    public var name: String { provider.name }
    public let provider: any ChatProvider
    public let limits: AgentLimits
    public let prices: Prices
    let secrets: [String]
    public var buildFixAttempts: Int { limits.buildFixAttempts }

    /// One experiment's conversation, kept for `repair`.
    final class Conversation {
        var messages: [ChatMessage] = []
        var toolbox: AgentToolbox
        var log: TranscriptLog
        /// When the researcher's time for this experiment began; a repair moves it forward by the time spent
        /// outside the conversation (building), so `maxSeconds` counts the researcher's part only.
        var started = Date()
        var pausedAt: Date?
        var session = ResearcherSession()
        var repairs = 0
        init(toolbox: AgentToolbox, log: TranscriptLog) { self.toolbox = toolbox; self.log = log }
    }

    private let state = Mutex<(conversation: Conversation?, sessionCost: Double)>((nil, 0))

    /// - Parameters:
    ///   - secrets: strings never to store (the API key); the environment's `*_KEY`/`*_TOKEN` values are added.
    ///   - spentBefore: dollars already spent in this session (e.g. by earlier runs of the tag).
    public init(provider: any ChatProvider, limits: AgentLimits, prices: Prices, secrets: [String] = [], spentBefore: Double = 0) {
        self.provider = provider; self.limits = limits; self.prices = prices
        self.secrets = secrets + TranscriptLog.environmentSecrets()
        state.withLock { $0.sessionCost = spentBefore }
    }

    /// Dollars spent in this session so far.
    public var sessionCost: Double { state.withLock { $0.sessionCost } }

    public func lastSession() -> ResearcherSession? {
        state.withLock { s in
            guard let c = s.conversation else { return nil }
            var session = c.session
            session.transcript = c.log.json
            return session
        }
    }

    public func propose(_ context: ResearchContext) async throws -> Proposal {
        if sessionCost >= limits.maxCostPerSession {
            throw ResearcherError.nothingLeftToTry(String(format: "the session spending cap of $%.2f is reached ($%.2f spent); raise [researcher.limits] max_cost_per_session to go on", limits.maxCostPerSession, sessionCost))
        }
        let toolbox = AgentToolbox(context: context, author: "\(provider.name):\(provider.model)")
        let conversation = Conversation(toolbox: toolbox, log: TranscriptLog(secrets: secrets))
        state.withLock { $0.conversation = conversation }
        let notes = (try? context.records?.notes()) ?? nil
        let task = ResearchPrompt.task(context, notes: notes ?? [], forCommand: false)
        conversation.log.append("system", ResearchPrompt.system)
        conversation.log.append("user", task)
        conversation.messages.append(.user(task))
        return try await converse(conversation)
    }

    public func repair(_ context: ResearchContext, compilerOutput: String) async throws -> Proposal {
        guard let conversation = state.withLock({ $0.conversation }) else {
            throw ResearcherError.failed("no conversation to continue")
        }
        conversation.repairs += 1
        if let paused = conversation.pausedAt { conversation.started += Date().timeIntervalSince(paused) }
        let message = ResearchPrompt.buildFailed(compilerOutput, attempt: conversation.repairs, of: limits.buildFixAttempts)
        conversation.log.append("user", message)
        conversation.messages.append(.user(message))
        return try await converse(conversation)
    }

    private func converse(_ c: Conversation) async throws -> Proposal {
        defer { c.pausedAt = Date() }
        var nudges = 0
        while true {
            try Task.checkCancellation()
            let deadline = c.started.addingTimeInterval(limits.maxSeconds)
            guard c.session.turns < limits.maxTurns else {
                throw fail(c, "the model used all \(limits.maxTurns) turns without finishing (raise [researcher.limits] max_turns)")
            }
            guard Date() < deadline else {
                throw fail(c, "the model ran past the researcher's time limit of \(Int(limits.maxSeconds)) s without finishing")
            }
            guard c.session.outputTokens < limits.maxOutputTokens else {
                throw fail(c, "the model used its \(limits.maxOutputTokens) output tokens for this experiment without finishing")
            }
            guard c.session.costUSD < limits.maxCostPerExperiment else {
                throw fail(c, String(format: "the experiment reached its spending cap of $%.2f without finishing", limits.maxCostPerExperiment))
            }
            guard sessionCost < limits.maxCostPerSession else {
                throw ResearcherError.nothingLeftToTry(String(format: "the session spending cap of $%.2f is reached", limits.maxCostPerSession))
            }
            let maxTokens = max(256, min(limits.maxTokensPerReply, limits.maxOutputTokens - c.session.outputTokens))
            let turn: AssistantTurn
            do {
                turn = try await provider.complete(system: ResearchPrompt.system, messages: c.messages, tools: AgentToolbox.specs,
                                                   maxTokens: maxTokens, deadline: deadline, log: c.log)
            } catch let error as ProviderError {
                c.log.append("harness", "provider error: \(error.description)")
                throw ResearcherError.failed(error.description)
            }
            record(turn, in: c)
            if turn.stopReason == .maxTokens {
                c.messages.append(.assistant(text: turn.text, toolCalls: []))
                let message = "Your reply was cut off at the limit of \(maxTokens) output tokens, and any tool call in it was dropped. "
                    + "Reply briefly: one tool call at a time, and edit_file with a small old_string rather than rewriting whole files."
                c.log.append("harness", message)
                c.messages.append(.user(message))
                continue
            }
            var calls = turn.toolCalls
            var written = false
            if calls.isEmpty {
                calls = TextToolCalls.parse(turn.text, tools: AgentToolbox.specs)
                written = !calls.isEmpty
                if written { c.log.append("harness", "read \(calls.count) tool call(s) the model wrote as JSON in its text") }
            }
            // A call written in the text stays text in the history; its results go back as a user message.
            c.messages.append(.assistant(text: turn.text, toolCalls: written ? [] : calls))
            if calls.isEmpty {
                nudges += 1
                guard nudges <= 2 else { throw fail(c, "the model stopped without calling finish (3 times)") }
                let message = nudges == 1
                    ? TextToolCalls.howToCall(AgentToolbox.specs, examplePath: c.toolbox.editable.first ?? "train.swift")
                    : "Use the tools to make your change in the editable files, then call finish with a description and a hypothesis."
                c.log.append("harness", message)
                c.messages.append(.user(message))
                continue
            }
            var results: [ToolResult] = []
            var finished: (description: String, hypothesis: String)?
            for call in calls {
                c.log.append("tool_call", "\(call.name) \(call.rawArguments)")
                let outcome = c.toolbox.execute(call)
                c.log.append("tool_result", (outcome.result.isError ? "ERROR: " : "") + outcome.result.content)
                results.append(outcome.result)
                if let f = outcome.finish { finished = f }
            }
            c.messages.append(written ? .user(Self.render(results)) : .toolResults(results))
            if let finished {
                let files = c.toolbox.changedFiles()
                return Proposal(files: files, description: finished.description, hypothesis: finished.hypothesis, move: "llm")
            }
        }
    }

    /// Results of calls the model wrote in its text, as one user message.
    static func render(_ results: [ToolResult]) -> String {
        results.map { r in
            "Result of your \(r.name) call" + (r.isError ? " (ERROR)" : "") + ":\n" + r.content
        }.joined(separator: "\n\n")
    }

    private func record(_ turn: AssistantTurn, in c: Conversation) {
        c.session.turns += 1
        c.session.inputTokens += turn.inputTokens
        c.session.outputTokens += turn.outputTokens
        c.session.cacheWriteTokens += turn.cacheWriteTokens
        c.session.cacheReadTokens += turn.cacheReadTokens
        let cost = prices.cost(of: turn)
        c.session.costUSD += cost
        state.withLock { $0.sessionCost += cost }
        var text = turn.text.isEmpty ? "" : turn.text + "\n"
        text += "(stop: \(turn.stopReason.rawValue); tokens in \(turn.inputTokens), out \(turn.outputTokens)"
        if turn.cacheWriteTokens + turn.cacheReadTokens > 0 {
            text += ", cache write \(turn.cacheWriteTokens), cache read \(turn.cacheReadTokens)"
        }
        c.log.append("assistant", text + ")")
    }

    private func fail(_ c: Conversation, _ message: String) -> ResearcherError {
        c.log.append("harness", message)
        return .failed(message)
    }
}
