import Foundation
import Harness
import MCP

/// `autoresearch mcp`: the workspace as a Model Context Protocol server over stdio (MCP Swift SDK), so that an
/// outside agent (Claude Desktop, Claude Code, any MCP client) can read the ledger, keep notes, queue experiments
/// and stop the loop. Tools: status, results, show, notes, add_note, propose, stop. Resources: report.md,
/// progress.svg, program.md. A tool's failure (an unknown tag, a refused proposal) comes back as a tool result with
/// `isError` and the harness's message, never as a protocol error.
public enum ResearchMCPServer {
    /// The server's name and the version it reports to clients.
    public static let name = "autoresearch"
    public static let version = "0.16.0"

    /// The tools, with their JSON Schemas.
    public static let tools: [Tool] = [
        tool("status", "The tag's standing: experiments, keeps, baseline → best val_bpb (and hidden-test bpb of the best), noise σ, what runs now, queued proposals and any stop/pause request.",
             ["tag": string("The tag (default: the latest).")]),
        tool("results", "The experiments as results.tsv (commit, val_bpb, memory, status, description), oldest first.",
             ["tag": string("The tag (default: the latest)."),
              "status": .object(["type": "string", "enum": .array(WorkspaceDesk.resultStatuses.map { .string($0) }),
                                 "description": "Only rows with this status (results.tsv's column: the baseline is a keep)."]),
              "limit": .object(["type": "integer", "minimum": 0, "description": "Only the last N rows."]),
              "wide": .object(["type": "boolean", "description": "Add the researcher and slot columns."])]),
        tool("show", "One experiment in full: description, hypothesis, diff, metrics, the decision's evidence (runs, σ, threshold) and optionally the researcher's transcript.",
             ["number": .object(["type": "integer", "description": "The experiment's number (as in results)."]),
              "tag": string("The tag (default: the latest)."),
              "transcript": .object(["type": "boolean", "description": "Include the researcher's transcript (default false)."])],
             required: ["number"]),
        tool("notes", "The tag's research notes, oldest first (what researchers and people wrote down).",
             ["tag": string("The tag (default: the latest).")]),
        tool("add_note", "Append a research note that every researcher reads before its next proposal.",
             ["text": string("The note."), "experiment": .object(["type": "integer", "description": "The experiment it is about."]),
              "tag": string("The tag (default: the latest).")], required: ["text"]),
        tool("propose", "Queue an experiment: a change to the editable files, given either as their new full contents (`files`) or as a unified diff against the current best commit (`diff`). The running loop takes it before asking its own researcher and runs it through exactly the same checks (editable files only, a real change not tried before, build, sandboxed training, harness-scored val_bpb, confirmed keep). A change to a file that is not editable is refused at once.",
             ["description": string("One line: what changes (e.g. \"LEARNING_RATE 0.002 → 0.003\")."),
              "hypothesis": string("Why it should lower val_bpb."),
              "files": .object(["type": "object", "additionalProperties": ["type": "string"],
                                "description": "New full contents of editable files, by path relative to the workspace."]),
              "diff": string("A unified diff (as `git diff` writes it) against the current best commit."),
              "tag": string("The tag whose best the diff is against (default: the latest).")],
             required: ["description"]),
        tool("stop", "Ask the running `autoresearch run` to stop after the experiments in flight (they finish and are decided).", [:]),
    ]

    /// The resources: the report, its progress chart and the research program.
    public static let resources: [Resource] = [
        Resource(name: "report.md", uri: "autoresearch://report.md", description: "The latest tag's report: baseline, best, keeps, hidden-test scores.", mimeType: "text/markdown"),
        Resource(name: "progress.svg", uri: "autoresearch://progress.svg", description: "The progress chart: every experiment, keeps labelled, the running best.", mimeType: "image/svg+xml"),
        Resource(name: "program.md", uri: "autoresearch://program.md", description: "The research program the researchers follow.", mimeType: "text/markdown"),
    ]

    /// Serves `desk` over stdin/stdout until the client disconnects.
    public static func serveStdio(_ desk: WorkspaceDesk) async throws {
        let server = Server(name: name, version: version,
                            instructions: "An autoresearch workspace (\(desk.workspace.manifest.name)): read its experiments, add notes, queue experiments, stop the loop. Lower val_bpb is better.",
                            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        await register(desk, on: server)
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
    }

    /// Registers the tool and resource handlers on `server`.
    public static func register(_ desk: WorkspaceDesk, on server: Server) async {
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: tools) }
        await server.withMethodHandler(CallTool.self) { params in
            do {
                return .init(content: [.text(text: try call(params.name, params.arguments ?? [:], desk), annotations: nil, _meta: nil)], isError: false)
            } catch {
                return .init(content: [.text(text: "error: \(error)", annotations: nil, _meta: nil)], isError: true)
            }
        }
        await server.withMethodHandler(ListResources.self) { _ in .init(resources: resources, nextCursor: nil) }
        await server.withMethodHandler(ReadResource.self) { params in
            let resource = resources.first { $0.uri == params.uri }
            do {
                switch resource?.name {
                case "report.md": return .init(contents: [.text(try desk.reportMarkdown(), uri: params.uri, mimeType: "text/markdown")])
                case "progress.svg": return .init(contents: [.text(try desk.progressSVG(), uri: params.uri, mimeType: "image/svg+xml")])
                case "program.md": return .init(contents: [.text(try desk.program(), uri: params.uri, mimeType: "text/markdown")])
                default: throw MCPError.invalidParams("unknown resource \(params.uri); the resources are \(resources.map(\.uri).joined(separator: ", "))")
                }
            } catch let error as MCPError {
                throw error
            } catch {
                throw MCPError.internalError("\(error)")
            }
        }
    }

    /// Runs tool `name` with `arguments` and returns its text.
    /// - Throws: `HarnessError.other` for an unknown tool or a missing or mistyped argument; the desk's errors.
    public static func call(_ name: String, _ arguments: [String: Value], _ desk: WorkspaceDesk) throws -> String {
        let args = Arguments(tool: name, values: arguments)
        switch name {
        case "status": return try desk.status(tag: args.string("tag"))
        case "results":
            return try desk.results(tag: args.string("tag"), status: args.string("status"), limit: args.int("limit"), wide: args.bool("wide") ?? false)
        case "show":
            return try desk.show(number: try args.required(args.int("number"), "number"), tag: args.string("tag"),
                                 transcript: args.bool("transcript") ?? false)
        case "notes": return try desk.notes(tag: args.string("tag"))
        case "add_note":
            return try desk.addNote(try args.required(args.string("text"), "text"), experiment: args.int("experiment"), author: "mcp", tag: args.string("tag"))
        case "propose":
            return try desk.propose(description: try args.required(args.string("description"), "description"),
                                    hypothesis: args.string("hypothesis") ?? "", files: try args.files("files"),
                                    diff: args.string("diff"), source: "mcp", tag: args.string("tag"))
        case "stop": return try desk.stop(by: "mcp")
        default:
            throw HarnessError.other("unknown tool '\(name)'; the tools are \(tools.map(\.name).joined(separator: ", "))")
        }
    }

    private static func tool(_ name: String, _ description: String, _ properties: [String: Value], required: [String] = []) -> Tool {
        var schema: [String: Value] = ["type": "object", "properties": .object(properties), "additionalProperties": false]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return Tool(name: name, description: description, inputSchema: .object(schema))
    }

    private static func string(_ description: String) -> Value { .object(["type": "string", "description": .string(description)]) }
}

/// A tool call's arguments, read with errors that name the tool and the argument.
struct Arguments {
    let tool: String
    let values: [String: Value]

    func string(_ key: String) throws -> String? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw mistyped(key, "a string") }
        return text
    }

    func int(_ key: String) throws -> Int? {
        guard let value = values[key], !value.isNull else { return nil }
        if let number = value.intValue { return number }
        if let number = value.doubleValue, number == number.rounded(), abs(number) < 1e15 { return Int(number) }
        throw mistyped(key, "a whole number")
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let flag = value.boolValue else { throw mistyped(key, "true or false") }
        return flag
    }

    func files(_ key: String) throws -> [String: String]? {
        guard let value = values[key], !value.isNull else { return nil }
        guard let object = value.objectValue else { throw mistyped(key, "an object of path → new content") }
        var files: [String: String] = [:]
        for (path, content) in object {
            guard let text = content.stringValue else { throw mistyped("\(key).\(path)", "the file's new content as a string") }
            files[path] = text
        }
        return files
    }

    func required<T>(_ value: T?, _ key: String) throws -> T {
        guard let value else { throw HarnessError.other("the tool \(tool) needs the argument `\(key)`") }
        return value
    }

    private func mistyped(_ key: String, _ expected: String) -> HarnessError {
        HarnessError.other("the tool \(tool)'s argument `\(key)` must be \(expected)")
    }
}
