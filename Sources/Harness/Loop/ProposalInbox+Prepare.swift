import Foundation

extension Manifest {
    /// The refusal of a change to `paths` when any of them is not editable (nil when all are): the same message
    /// whether the change comes from a researcher or from outside (the MCP server).
    public func refusal(changing paths: [String]) -> String? {
        let allowed = Set(editable)
        let outside = Set(paths).filter { !allowed.contains($0) }.sorted()
        guard !outside.isEmpty else { return nil }
        return "the proposal changes \(outside.joined(separator: ", ")), which autoresearch.toml does not list as editable (editable: \(editable.joined(separator: ", ")))"
    }
}

extension ProposalInbox {
    /// The commit a proposal from outside is read against: the head of the tag's research branch (its current best),
    /// or the workspace's HEAD before the first run.
    public static func bestCommit(workspace: Workspace, tag: String?) throws -> String {
        if let tag, let branch = try? Ledger(url: workspace.ledgerURL).tag(tag)?.branch,
           let commit = workspace.git.resolve("refs/heads/\(branch)") {
            return commit
        }
        return try workspace.git.revParse("HEAD")
    }

    /// Turns a proposal from outside into an inbox entry, refusing at once what the loop would refuse anyway.
    ///
    /// Give either `files` (new full contents, by path) or `diff` (a unified diff against `bestCommit`, as
    /// `git diff` writes it; applied with `git apply` to a scratch index, never to the workspace).
    /// - Throws: `HarnessError.other` when the description is empty, both or neither of `files` and `diff` are
    ///   given, a path is not editable (the researchers' refusal, word for word), the diff does not apply, or the
    ///   change changes nothing.
    public static func prepare(workspace: Workspace, tag: String?, description: String, hypothesis: String,
                               files: [String: String]?, diff: String?, source: String) throws -> Entry {
        let description = description.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !description.isEmpty else {
            throw HarnessError.other("the proposal has no description; give one line that says what changes (e.g. \"LEARNING_RATE 0.002 → 0.003\")")
        }
        let base = try bestCommit(workspace: workspace, tag: tag)
        var contents: [String: String]
        switch (files, diff) {
        case (let files?, nil):
            guard !files.isEmpty else { throw HarnessError.other("the proposal's files are empty; give the new content of at least one editable file") }
            if let refusal = workspace.manifest.refusal(changing: Array(files.keys)) { throw HarnessError.other(refusal) }
            contents = files
        case (nil, let diff?):
            contents = try applied(diff, to: base, in: workspace)
        default:
            throw HarnessError.other("give either `files` (new contents of editable files) or `diff` (a unified diff against the best commit \(base.prefix(12))), not both or neither")
        }
        let git = workspace.git
        let unchanged = contents.allSatisfy { path, content in git.attempt(["show", "\(base):\(path)"]) == content }
        guard !unchanged else { throw HarnessError.other("the proposal changes nothing against the best commit \(base.prefix(12))") }
        return Entry(files: contents, description: description, hypothesis: hypothesis, source: source, base: base)
    }

    /// The new contents of the files `diff` touches, applied to `base` in a scratch index.
    static func applied(_ diff: String, to base: String, in workspace: Workspace) throws -> [String: String] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("autoresearch-proposal-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let patch = scratch.appendingPathComponent("proposal.diff")
        try (diff.hasSuffix("\n") ? diff : diff + "\n").write(to: patch, atomically: true, encoding: .utf8)
        let git = workspace.git
        // The paths it touches (renames and new files included), checked before anything is applied.
        let touched: [String]
        do {
            touched = try git.run(["apply", "--numstat", "-z", patch.path]).split(separator: "\0")
                .compactMap { $0.split(separator: "\t", maxSplits: 2).last.map(String.init) }.filter { !$0.isEmpty }
        } catch {
            throw HarnessError.other("the diff cannot be read as a unified diff (\(firstLine(error))); write it as `git diff` does, with a/ and b/ paths")
        }
        guard !touched.isEmpty else { throw HarnessError.other("the diff touches no file; write it as `git diff` does, with a/ and b/ paths") }
        if let refusal = workspace.manifest.refusal(changing: touched) { throw HarnessError.other(refusal) }
        let index = ["GIT_INDEX_FILE": scratch.appendingPathComponent("index").path]
        try git.run(["read-tree", base], environment: index)
        do {
            try git.run(["apply", "--cached", patch.path], environment: index)
        } catch {
            throw HarnessError.other("the diff does not apply to the best commit \(base.prefix(12)) (\(firstLine(error))); make it against that commit's files")
        }
        var contents: [String: String] = [:]
        for path in touched { contents[path] = (try? git.run(["show", ":\(path)"], environment: index)) ?? "" }
        return contents
    }

    private static func firstLine(_ error: Error) -> String {
        let text: String
        if case HarnessError.git(_, let output) = error { text = output } else { text = "\(error)" }
        return text.split(separator: "\n").first.map(String.init) ?? text
    }
}
