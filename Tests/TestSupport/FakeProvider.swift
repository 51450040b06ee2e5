import AgentResearcher
import AutoResearchCore
import Foundation

/// Runs Fixtures/fake_provider.py: a local HTTP server that answers with a script, step by step, checks every
/// request as the real APIs do (a request they would refuse gets their 400 and uses up no step), and records
/// every request, so the real client code is tested over real HTTP without the internet.
public final class FakeProvider {
    let process = Process()
    /// The server's standard input: closing it ends the server.
    let input = Pipe()
    public let directory: URL
    public let port: Int
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }
    public var requestLog: URL { directory.appendingPathComponent("requests.jsonl") }

    static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fake_provider.py").path
    }

    /// - Parameters:
    ///   - steps: one answer per valid request, in order (see fake_provider.py).
    ///   - options: `reject_fields` (e.g. `["max_tokens"]`, as OpenAI's reasoning models), `emulate_usage`
    ///     (usage counted from the request, prompt caching emulated as each provider documents it).
    public init(_ steps: [JSONValue], options: JSONValue = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fake-provider-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("script.json")
        try JSONValue.object(["steps": .array(steps), "options": options]).text.write(to: script, atomically: true, encoding: .utf8)
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", FakeProvider.scriptPath, script.path, directory.appendingPathComponent("requests.jsonl").path]
        process.standardOutput = out
        process.standardInput = input
        try process.run()
        let text = firstLine(of: out)
        guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "PORT ", with: "")) else {
            throw NSError(domain: "FakeProvider", code: 1, userInfo: [NSLocalizedDescriptionKey: "the fake server did not start: \(text)"])
        }
        self.port = port
    }

    /// Every request the server received, in order.
    public func requests() -> [JSONValue] {
        let text = (try? String(contentsOf: requestLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { JSONValue.parse(String($0)) }
    }

    /// The reasons the server gave for every request it refused as the real API would (empty when all were valid).
    public func rejections() -> [String] {
        requests().compactMap { $0["rejected"]?.string }
    }

    deinit {
        try? input.fileHandleForWriting.close()  // the server exits when its standard input closes
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: - Anthropic responses

    public static func anthropic(_ blocks: [JSONValue], stop: String = "tool_use", input: Int = 100, output: Int = 20) -> JSONValue {
        ["status": 200, "body": ["id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
                                 "content": .array(blocks), "stop_reason": .string(stop),
                                 "usage": ["input_tokens": .number(Double(input)), "output_tokens": .number(Double(output))]]]
    }

    public static func toolUse(_ id: String, _ name: String, _ input: JSONValue) -> JSONValue {
        ["type": "tool_use", "id": .string(id), "name": .string(name), "input": input]
    }

    public static func text(_ text: String) -> JSONValue { ["type": "text", "text": .string(text)] }

    // MARK: - OpenAI responses

    public static func openai(text: String? = nil, calls: [(id: String, name: String, arguments: String)], finish: String = "tool_calls",
                       prompt: Int = 100, completion: Int = 20) -> JSONValue {
        var message: [String: JSONValue] = ["role": "assistant", "content": text.map { .string($0) } ?? .null]
        if !calls.isEmpty {
            message["tool_calls"] = .array(calls.map {
                ["id": .string($0.id), "type": "function", "function": ["name": .string($0.name), "arguments": .string($0.arguments)]]
            })
        }
        return ["status": 200, "body": ["id": "chatcmpl-1", "object": "chat.completion", "model": "test",
                                        "choices": [["index": 0, "message": .object(message), "finish_reason": .string(finish)]],
                                        "usage": ["prompt_tokens": .number(Double(prompt)), "completion_tokens": .number(Double(completion))]]]
    }
}

/// A throwaway git repository standing in for an experiment's worktree: `train.py` is editable, `data.txt` protected.
public struct Worktree {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("agent-worktree-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try "LEARNING_RATE = 0.001  # range: 0.0001..0.1\nDEPTH = 4\nprint('train')\n".write(to: url.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
        try "protected data\n".write(to: url.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        for args in [["init", "-q", "-b", "main"], ["add", "."],
                     ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base"]] {
            let r = try ProcessRunner.capture(["git"] + args, in: url)
            precondition(r.status == 0, r.stderr)
        }
    }

    public func read(_ path: String) -> String { (try? String(contentsOf: url.appendingPathComponent(path), encoding: .utf8)) ?? "" }

    public func context(history: [ExperimentOutcome] = [], records: (any ResearchRecords)? = nil) -> ResearchContext {
        var c = ResearchContext(worktree: url, editableFiles: ["train.py"], history: history, bestMetric: 2.5, noiseSigma: 0.01)
        c.experimentNumber = 3
        c.program = "# Program\nLower val_bpb."
        c.keepMargin = 0.02
        c.records = records
        return c
    }

    /// Puts the files back as committed (a new experiment starts from the base).
    public func reset() {
        _ = try? ProcessRunner.capture(["git", "checkout", "-q", "--", "."], in: url)
    }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Notes and experiments kept in memory, standing in for the ledger.
public final class MemoryRecords: ResearchRecords, @unchecked Sendable {
    public var stored: [ResearchNote] = []
    public var details: [Int: ExperimentDetail] = [:]
    public init() {}
    public func experiment(number: Int) throws -> ExperimentDetail? { details[number] }
    public func notes() throws -> [ResearchNote] { stored }
    public func appendNote(_ note: ResearchNote) throws { stored.append(note) }
}

/// A transport that records its waits instead of sleeping.
public final class RecordedSleeps: @unchecked Sendable {
    public init() {}
    private let lock = NSLock()
    private var values: [Double] = []
    public var waits: [Double] { lock.withLock { values } }
    public func transport(attempts: Int = 4) -> HTTPTransport {
        HTTPTransport(retry: RetryPolicy(maxAttempts: attempts, baseDelay: 1, maxDelay: 8),
                      sleep: { [self] seconds in lock.withLock { values.append(seconds) } },
                      jitter: { 0.5 })
    }
}
