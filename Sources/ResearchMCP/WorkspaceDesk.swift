import AutoResearchCore
import Foundation
import Harness

/// What an outside agent may do with a workspace, as plain text in and out: read the standing, the results, an
/// experiment, the notes and the reports; append a note; queue a proposal; ask the running loop to stop.
/// The MCP server (`ResearchMCPServer`) maps its tools and resources onto these; nothing here knows MCP.
///
/// Every read opens the ledger afresh, so a running `autoresearch run` is seen as it goes. A proposal is only
/// queued (`ProposalInbox`): the loop runs it through the same checks as any researcher's, and it can never
/// touch the ledger's numbers, the test split or a fixed file.
public struct WorkspaceDesk: Sendable {
    public let workspace: Workspace
    /// The tag used when a call names none (nil: the latest at the time of the call).
    public let defaultTag: String?

    public init(workspace: Workspace, defaultTag: String? = nil) {
        self.workspace = workspace
        self.defaultTag = defaultTag
    }

    /// The researcher's view of a tag: never the hidden test split's scores (MCP clients are researchers).
    func reports(_ tag: String?) throws -> TagReports {
        var reports = try TagReports(workspace: workspace, tag: tag ?? defaultTag)
        reports.showsTest = false
        return reports
    }

    /// `autoresearch status`, plus what the loop has been asked to do and the proposals waiting.
    public func status(tag: String? = nil) throws -> String {
        var text = try reports(tag).status().text
        if let request = LoopControl(workspace: workspace).request() {
            text += "\ncontrol: \(request.state.rawValue) (asked by \(request.by) at \(ISO8601DateFormatter().string(from: request.at)))"
        }
        let waiting = ProposalInbox(workspace: workspace).pending()
        if !waiting.isEmpty {
            text += "\nqueued proposals: \(waiting.count) (\(waiting.map(\.description).joined(separator: "; ")))"
        }
        return text
    }

    /// The values of results.tsv's status column (autoresearch's format: the baseline is a keep, invalid runs crashes).
    public static let resultStatuses = ["keep", "discard", "crash"]

    /// results.tsv, optionally only rows of one status and only the last `limit` rows (the header always stays).
    public func results(tag: String? = nil, status: String? = nil, limit: Int? = nil, wide: Bool = false) throws -> String {
        if let status, !Self.resultStatuses.contains(status) {
            throw HarnessError.other("results.tsv has no status '\(status)'; its statuses are \(Self.resultStatuses.joined(separator: ", "))")
        }
        let lines = try reports(tag).results(wide: wide).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard var header = lines.first else { return "" }
        var rows = Array(lines.dropFirst())
        // The hidden test split's column is the owner's, never a researcher's (empty here; dropped by name).
        if let test = header.split(separator: "\t", omittingEmptySubsequences: false).firstIndex(of: "test_bpb") {
            func drop(_ line: String) -> String {
                var cells = line.split(separator: "\t", omittingEmptySubsequences: false)
                if cells.count > test { cells.remove(at: test) }
                return cells.joined(separator: "\t")
            }
            header = drop(header)
            rows = rows.map(drop)
        }
        if let status {
            let column = header.split(separator: "\t").firstIndex(of: "status") ?? 3
            rows = rows.filter { row in
                let cells = row.split(separator: "\t", omittingEmptySubsequences: false)
                return cells.count > column && cells[column] == status
            }
        }
        if let limit, limit >= 0 { rows = Array(rows.suffix(limit)) }
        return ([header] + rows).joined(separator: "\n") + "\n"
    }

    /// `autoresearch show N`.
    public func show(number: Int, tag: String? = nil, transcript: Bool = false) throws -> String {
        try reports(tag).show(number: number, transcript: transcript)
    }

    /// The tag's research notes, oldest first, one block each.
    public func notes(tag: String? = nil) throws -> String {
        let reports = try reports(tag)
        let notes = try reports.ledger.notes(tag: reports.tag)
        guard !notes.isEmpty else { return "no notes yet on tag \(reports.tag)\n" }
        let stamp = ISO8601DateFormatter()
        return notes.map { note in
            "[\(stamp.string(from: note.createdAt))] \(note.author)\(note.experiment.map { " (experiment \($0))" } ?? ""):\n\(note.text)\n"
        }.joined(separator: "\n")
    }

    /// Appends a note (the researchers read notes as untrusted text, like any other).
    public func addNote(_ text: String, experiment: Int? = nil, author: String, tag: String? = nil) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw HarnessError.other("the note is empty; give its text") }
        guard trimmed.count <= Self.maxNoteCharacters else {
            throw HarnessError.other("the note has \(trimmed.count) characters; a note holds at most \(Self.maxNoteCharacters): say it shorter")
        }
        let reports = try reports(tag)
        try reports.ledger.appendNote(ResearchNote(author: author, experiment: experiment, text: trimmed), tag: reports.tag)
        return "note added to tag \(reports.tag) by \(author)\n"
    }

    /// The most characters a note, a proposal's description and its hypothesis may have (every researcher reads them).
    public static let maxNoteCharacters = 8_000
    public static let maxDescriptionCharacters = 300
    public static let maxHypothesisCharacters = 2_000

    /// Checks a proposal and queues it for the loop (see `ProposalInbox.prepare` for what is refused at once).
    public func propose(description: String, hypothesis: String, files: [String: String]?, diff: String?,
                        source: String, tag: String? = nil) throws -> String {
        guard description.count <= Self.maxDescriptionCharacters, hypothesis.count <= Self.maxHypothesisCharacters else {
            throw HarnessError.other("the description has \(description.count) characters and the hypothesis \(hypothesis.count); at most \(Self.maxDescriptionCharacters) and \(Self.maxHypothesisCharacters): say them shorter")
        }
        let tag = try? reports(tag).tag
        let entry = try ProposalInbox.prepare(workspace: workspace, tag: tag, description: description, hypothesis: hypothesis,
                                              files: files, diff: diff, source: source)
        let inbox = ProposalInbox(workspace: workspace)
        let url = try inbox.queue(entry)
        let ahead = inbox.pending().count - 1
        return "queued: \(entry.description) (changes \(entry.files.keys.sorted().joined(separator: ", ")); \(url.lastPathComponent))\n"
            + "The running `autoresearch run` takes it before asking its own researcher\(ahead > 0 ? " (\(ahead) queued before it)" : "");"
            + " if none is running, the next one does. It is built, trained, scored and decided like any other experiment:"
            + " `status` and `results` show it, recorded with researcher \"\(entry.researcher)\".\n"
    }

    /// Asks the running loop to stop after the experiments in flight.
    public func stop(by: String) throws -> String {
        try LoopControl(workspace: workspace).send(.stop, by: by)
        return "stop requested: the running `autoresearch run` finishes and decides the experiments in flight, then stops"
            + " (a run started later ignores this request)\n"
    }

    /// report.md's text.
    public func reportMarkdown(tag: String? = nil) throws -> String { try reports(tag).report().markdown }
    /// progress.svg.
    public func progressSVG(tag: String? = nil) throws -> String { try reports(tag).report().chart }
    /// The workspace's research program.
    public func program() throws -> String {
        let url = workspace.root.appendingPathComponent("program.md")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw HarnessError.other("the workspace has no readable program.md at \(url.path)")
        }
        return text
    }
}
