import AutoResearchCore
import Foundation

/// The tools an API agent works with, confined to one worktree.
///
/// Reads may see any file of the worktree (not `.git`); writes and edits only the editable files, and a
/// refused write says which files may change. The ledger tools read the current tag; notes are shared.
public final class AgentToolbox: @unchecked Sendable {
    public let worktree: URL
    public let editable: [String]
    let records: (any ResearchRecords)?
    let history: [ExperimentOutcome]
    let author: String
    let experiment: Int
    let metricName: String
    let triedFilesHashes: Set<String>
    /// The editable files as they were when the experiment began.
    public let original: [String: String]

    public init(context: ResearchContext, author: String) {
        worktree = context.worktree.standardizedFileURL
        editable = context.editableFiles
        records = context.records
        history = context.history
        self.author = author
        experiment = context.experimentNumber
        metricName = context.metricName
        triedFilesHashes = context.triedFilesHashes
        var files: [String: String] = [:]
        for path in context.editableFiles {
            files[path] = (try? String(contentsOf: context.worktree.appendingPathComponent(path), encoding: .utf8)) ?? ""
        }
        original = files
    }

    /// The editable files as they are now.
    public func currentFiles() -> [String: String] {
        var files: [String: String] = [:]
        for path in editable {
            files[path] = (try? String(contentsOf: worktree.appendingPathComponent(path), encoding: .utf8)) ?? ""
        }
        return files
    }

    /// The editable files that differ from the start of the experiment.
    public func changedFiles() -> [String: String] {
        currentFiles().filter { original[$0.key] != $0.value }
    }

    // MARK: - Specs

    public static let specs: [ToolSpec] = [
        ToolSpec(name: "list_files", description: "List the files of the working tree (paths relative to its root). Editable files are marked.",
                 inputSchema: ["type": "object", "properties": [:]]),
        ToolSpec(name: "read_file", description: "Read a text file with line numbers. Use offset (1-based first line) and limit (lines) for long files.",
                 inputSchema: ["type": "object", "properties": [
                    "path": ["type": "string", "description": "path relative to the working tree"],
                    "offset": ["type": "integer", "description": "first line to show, 1-based (default 1)"],
                    "limit": ["type": "integer", "description": "number of lines (default 400)"]],
                               "required": ["path"]]),
        ToolSpec(name: "edit_file", description: "Replace one exact occurrence of old_string with new_string in an editable file. old_string must match the file exactly (whitespace included) and occur exactly once.",
                 inputSchema: ["type": "object", "properties": [
                    "path": ["type": "string"], "old_string": ["type": "string"], "new_string": ["type": "string"]],
                               "required": ["path", "old_string", "new_string"]]),
        ToolSpec(name: "write_file", description: "Replace the whole content of an editable file.",
                 inputSchema: ["type": "object", "properties": ["path": ["type": "string"], "content": ["type": "string"]],
                               "required": ["path", "content"]]),
        ToolSpec(name: "search", description: "Find lines containing a text (case-sensitive) in the working tree's files; optionally only under one path.",
                 inputSchema: ["type": "object", "properties": ["text": ["type": "string"], "path": ["type": "string"]],
                               "required": ["text"]]),
        ToolSpec(name: "read_results", description: "The ledger's results so far (number, status, metric, description, hypothesis), oldest first.",
                 inputSchema: ["type": "object", "properties": ["last": ["type": "integer", "description": "only the last N (default all)"]]]),
        ToolSpec(name: "read_experiment", description: "One experiment in full: description, hypothesis, decision, metrics, diff, and the error of a crash.",
                 inputSchema: ["type": "object", "properties": ["number": ["type": "integer"]], "required": ["number"]]),
        ToolSpec(name: "read_notes", description: "The research notes every researcher has written so far.",
                 inputSchema: ["type": "object", "properties": [:]]),
        ToolSpec(name: "append_note", description: "Add a short research note (a finding, a dead end, an idea) for every researcher to read.",
                 inputSchema: ["type": "object", "properties": ["text": ["type": "string"]], "required": ["text"]]),
        ToolSpec(name: "finish", description: "End your turn: the harness commits your change to the editable files, trains and decides. Give a one-line description of the change and the hypothesis why it lowers the metric.",
                 inputSchema: ["type": "object", "properties": [
                    "description": ["type": "string", "description": "one line, e.g. 'LEARNING_RATE 0.002 -> 0.003'"],
                    "hypothesis": ["type": "string"]],
                               "required": ["description", "hypothesis"]]),
    ]

    /// What a tool call produced. `finish` is set when the agent finished with a valid change.
    public struct Outcome {
        public var result: ToolResult
        public var finish: (description: String, hypothesis: String)?
    }

    /// Runs one tool call. Never throws: every problem becomes an error result the model can act on.
    public func execute(_ call: ToolCall) -> Outcome {
        func fail(_ message: String) -> Outcome { Outcome(result: ToolResult(callID: call.id, name: call.name, content: message, isError: true)) }
        func ok(_ content: String) -> Outcome { Outcome(result: ToolResult(callID: call.id, name: call.name, content: content)) }
        guard AgentToolbox.specs.contains(where: { $0.name == call.name }) else {
            return fail("there is no tool named '\(call.name)'; the tools are: \(AgentToolbox.specs.map(\.name).joined(separator: ", ")).")
        }
        guard let args = call.arguments else {
            return fail("the arguments of \(call.name) are not a JSON object (got: \(call.rawArguments.prefix(200))); send them as a JSON object.")
        }
        func string(_ key: String) throws -> String {
            guard let value = args[key]?.string else { throw ToolError("\(call.name) needs the string argument '\(key)'.") }
            return value
        }
        func int(_ key: String) throws -> Int? {
            guard let value = args[key], value != .null else { return nil }
            if let i = value.int { return i }
            if let s = value.string, let i = Int(s) { return i }
            throw ToolError("\(call.name): '\(key)' must be an integer.")
        }
        do {
            switch call.name {
            case "list_files": return ok(try listFiles())
            case "read_file": return ok(try readFile(try string("path"), offset: try int("offset") ?? 1, limit: try int("limit") ?? 400))
            case "edit_file": return ok(try edit(try string("path"), old: try string("old_string"), new: try string("new_string")))
            case "write_file": return ok(try write(try string("path"), content: try string("content")))
            case "search": return ok(try search(try string("text"), under: args["path"]?.string))
            case "read_results": return ok(resultsTable(last: try int("last")))
            case "read_experiment": return ok(try readExperiment(try int("number") ?? -1))
            case "read_notes": return ok(try readNotes())
            case "append_note": return ok(try appendNote(try string("text")))
            case "finish":
                let description = try string("description").trimmingCharacters(in: .whitespacesAndNewlines)
                let hypothesis = (args["hypothesis"]?.string ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                let message = try checkFinish(description: description)
                return Outcome(result: ToolResult(callID: call.id, name: call.name, content: message),
                               finish: (String(description.split(separator: "\n").first ?? ""), hypothesis))
            default: return fail("unknown tool \(call.name)")
            }
        } catch let error as ToolError {
            return fail(error.message)
        } catch {
            return fail("\(call.name) failed: \(error)")
        }
    }

    struct ToolError: Error { var message: String; init(_ m: String) { message = m } }

    // MARK: - Files

    /// The file URL of a worktree-relative path, refusing anything that leaves the worktree (absolute paths,
    /// `..`, `.git`, symbolic links pointing out).
    func resolve(_ path: String) throws -> URL {
        let trimmed = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard !trimmed.isEmpty, !trimmed.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == ".git" || $0.isEmpty }) else {
            throw ToolError("'\(path)' is outside the working tree; use a path relative to its root, e.g. \(editable.first ?? "train.py").")
        }
        let url = worktree.appendingPathComponent(trimmed)
        let real = url.resolvingSymlinksInPath().path
        let root = worktree.resolvingSymlinksInPath().path
        guard real == root || real.hasPrefix(root + "/") else {
            throw ToolError("'\(path)' points outside the working tree.")
        }
        return url
    }

    func normalized(_ path: String) -> String { path.hasPrefix("./") ? String(path.dropFirst(2)) : path }

    func trackedFiles() -> [String] {
        let result = try? ProcessRunner.capture(SafeGit.command(["ls-files", "-z"]), in: worktree, environment: SafeGit.environment)
        return (result?.stdout ?? "").split(separator: "\0").map(String.init)
    }

    func listFiles() throws -> String {
        let files = Set(trackedFiles()).union(editable).sorted()
        return files.map { editable.contains($0) ? "\($0)  (editable)" : $0 }.joined(separator: "\n")
    }

    func readFile(_ path: String, offset: Int, limit: Int) throws -> String {
        let url = try resolve(path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ToolError("there is no file '\(path)'; list_files shows what exists.")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let first = max(1, offset)
        let count = max(1, min(limit, 2000))
        guard first <= lines.count else { throw ToolError("\(path) has \(lines.count) lines; offset \(offset) is past its end.") }
        let last = min(lines.count, first + count - 1)
        var out = (first...last).map { i -> String in
            let line = lines[i - 1]
            let shown = line.count > 500 ? String(line.prefix(500)) + " [… line cut]" : String(line)
            return String(format: "%5d| ", i) + shown
        }.joined(separator: "\n")
        if last < lines.count { out += "\n(lines \(first)–\(last) of \(lines.count); continue with offset \(last + 1))" }
        return out
    }

    func checkEditable(_ path: String) throws {
        guard editable.contains(normalized(path)) else {
            throw ToolError("'\(path)' is protected: only \(editable.joined(separator: ", ")) may be changed. Make your change there.")
        }
    }

    func edit(_ path: String, old: String, new: String) throws -> String {
        try checkEditable(path)
        let url = try resolve(path)
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        guard !old.isEmpty else { throw ToolError("old_string is empty; copy the exact text to replace from read_file (without the line numbers).") }
        let count = text.components(separatedBy: old).count - 1
        guard count == 1 else {
            throw ToolError(count == 0
                ? "old_string was not found in \(path); read the file again and copy the exact text (whitespace included, without the line-number prefix)."
                : "old_string occurs \(count) times in \(path); include more surrounding lines so that it matches exactly once.")
        }
        try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
        return "edited \(path): replaced \(old.split(separator: "\n", omittingEmptySubsequences: false).count) line(s) with \(new.split(separator: "\n", omittingEmptySubsequences: false).count)."
    }

    func write(_ path: String, content: String) throws -> String {
        try checkEditable(path)
        try content.write(to: try resolve(path), atomically: true, encoding: .utf8)
        return "wrote \(path) (\(content.split(separator: "\n", omittingEmptySubsequences: false).count) lines)."
    }

    func search(_ text: String, under: String?) throws -> String {
        guard !text.isEmpty else { throw ToolError("search needs a non-empty text.") }
        let prefix = try under.map { p -> String in _ = try resolve(p); return normalized(p) }
        var hits: [String] = []
        var total = 0
        for path in Set(trackedFiles()).union(editable).sorted() where prefix.map({ path == $0 || path.hasPrefix($0 + "/") }) ?? true {
            guard let content = try? String(contentsOf: worktree.appendingPathComponent(path), encoding: .utf8) else { continue }
            for (i, line) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where line.contains(text) {
                total += 1
                if hits.count < 100 { hits.append("\(path):\(i + 1): \(line.prefix(300))") }
            }
        }
        if hits.isEmpty { return "no line contains \"\(text)\"." }
        return hits.joined(separator: "\n") + (total > hits.count ? "\n(\(total - hits.count) more matches not shown)" : "")
    }

    // MARK: - Ledger and notes

    /// The results so far as a table, with hypotheses, in one fence: researchers wrote the descriptions and hypotheses.
    public func resultsTable(last: Int? = nil) -> String {
        let rows = last.map { Array(history.suffix(max(0, $0))) } ?? history
        guard !rows.isEmpty else { return "(no experiments yet)" }
        let header = "#\tstatus\t\(metricName)\tresearcher\tdescription\thypothesis"
        let table = ([header] + rows.map { o in
            let metric = o.metric.map { String(format: "%.6f", $0) } ?? "-"
            return "\(o.number)\t\(o.status.rawValue)\t\(metric)\t\(o.researcher)\t\(o.description)\t\(o.hypothesis.replacingOccurrences(of: "\n", with: " ").prefix(200))"
        }).joined(separator: "\n")
        return untrusted("results", table, limit: .max, source: UntrustedSource.results)
    }

    func readExperiment(_ number: Int) throws -> String {
        guard let records else { throw ToolError("the ledger is not available here.") }
        guard let detail = try records.experiment(number: number) else {
            throw ToolError("there is no experiment \(number); read_results lists them.")
        }
        let o = detail.outcome
        var lines = ["experiment \(o.number)",
                     "status: \(o.status.rawValue)", "researcher: \(o.researcher)",
                     "\(metricName): \(o.metric.map { String(format: "%.6f", $0) } ?? "-")"]
        if let decision = detail.decision { lines.append("decision: \(decision)") }
        if !detail.metrics.isEmpty {
            lines.append("metrics: " + detail.metrics.keys.sorted().map { "\($0)=\(detail.metrics[$0]!)" }.joined(separator: ", "))
        }
        lines.append(untrusted("description and hypothesis", "description: \(o.description)\nhypothesis: \(o.hypothesis)",
                               limit: 4000, source: UntrustedSource.aResearcher, keep: .keepStart))
        if let error = detail.error { lines.append(untrusted("error", error, limit: 3000)) }
        lines.append("diff:\n" + (detail.diff.isEmpty ? "(none)"
                                   : untrusted("diff", detail.diff, limit: 12000, source: UntrustedSource.aResearcher, keep: .keepStart)))
        return lines.joined(separator: "\n")
    }

    func readNotes() throws -> String {
        guard let records else { throw ToolError("the notes are not available here.") }
        let notes = try records.notes()
        guard !notes.isEmpty else { return "(no notes yet)" }
        return untrusted("research notes",
                         notes.map { "- [\($0.author)\($0.experiment.map { ", experiment \($0)" } ?? "")] \($0.text)" }.joined(separator: "\n"),
                         limit: .max, source: UntrustedSource.researchers)
    }

    func appendNote(_ text: String) throws -> String {
        guard let records else { throw ToolError("the notes are not available here.") }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ToolError("append_note needs a non-empty text.") }
        guard trimmed.count <= 2000 else { throw ToolError("a note is at most 2000 characters; this one has \(trimmed.count). Keep it short.") }
        try records.appendNote(ResearchNote(author: author, experiment: experiment, text: trimmed))
        return "noted."
    }

    // MARK: - Finish

    func checkFinish(description: String) throws -> String {
        guard !description.isEmpty else { throw ToolError("finish needs a one-line description of the change.") }
        let changed = changedFiles()
        guard !changed.isEmpty else {
            throw ToolError("you have not changed any editable file (\(editable.joined(separator: ", "))); make your change with edit_file or write_file, then call finish.")
        }
        let hash = filesFingerprint(currentFiles())
        if triedFilesHashes.contains(hash) {
            throw ToolError("exactly these files were already tried in an earlier experiment; make a different change (read_results shows what was tried).")
        }
        return "the harness takes over: it commits \(changed.keys.sorted().joined(separator: ", ")), builds, trains and decides."
    }
}
