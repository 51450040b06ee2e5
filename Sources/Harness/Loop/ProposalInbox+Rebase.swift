import Foundation

extension ProposalInbox.Entry {
    /// The entry's files carried from the commit it was read against (`base`) to `parent`, the best commit the loop
    /// now builds on: a file the best has not changed since is taken as proposed; a file both changed is merged
    /// three-way (`git merge-file`, the proposal's edit applied on top of the best's), so a proposal queued before a
    /// keep neither reverts that keep nor is lost. Entries queued before `base` was recorded are taken as they are.
    /// - Throws: `HarnessError.other` naming the file when the two edits touch the same lines (or lines next to each
    ///   other), with how to go on: queue it again against the current best.
    func rebased(onto parent: String, git: Git) throws -> [String: String] {
        guard let base, base != parent else { return files }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("autoresearch-rebase-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var merged: [String: String] = [:]
        for (path, proposed) in files {
            let original = git.attempt(["show", "\(base):\(path)"]) ?? ""
            let current = git.attempt(["show", "\(parent):\(path)"]) ?? ""
            if current == original || proposed == current { merged[path] = proposed; continue }
            if proposed == original { merged[path] = current; continue }
            let names = ["best", "queued-against", "proposal"]
            for (name, text) in zip(names, [current, original, proposed]) {
                try text.write(to: scratch.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            guard let text = git.attempt(["merge-file", "-p"] + names.map { scratch.appendingPathComponent($0).path }) else {
                throw HarnessError.other("the queued proposal was made against \(base.prefix(12)) and the best has since changed the same lines of \(path) (now \(parent.prefix(12))); propose it again against the current best")
            }
            merged[path] = text
        }
        return merged
    }
}
