import Foundation
import SearchResearcher

/// Ideas (named search-and-replace edits in the workspace's ideas file) match exact text, so an idea whose text was
/// reformatted, or that a keep already applied, silently stops being proposed. At the start of every session the
/// harness applies each idea to the best's editable files and says which do not apply, and why, so a reformatted
/// line is seen rather than retired in silence.
public enum IdeasCheck {
    /// The ideas that do not apply to `files` (path → text), with the reason `Idea.apply` gives, in the file's order.
    public static func notApplying(_ ideas: [Idea], to files: [String: String]) -> [(name: String, reason: String)] {
        ideas.compactMap { idea in
            guard case .notApplicable(let why) = idea.apply(to: files) else { return nil }
            return (idea.name, why)
        }
    }

    /// One line for the display, or nil when every idea applies.
    public static func note(_ ideas: [Idea], files: [String: String], ideasFile: String) -> String? {
        let missing = notApplying(ideas, to: files)
        guard !missing.isEmpty else { return nil }
        return "\(ideasFile): \(missing.count) of \(ideas.count) ideas do not apply to the best's files (a keep applied them, or their "
            + "text changed; edit the idea's search text to bring it back): " + missing.map(\.reason).joined(separator: "; ")
    }
}

extension ResearchLoop {
    /// Says which of the workspace's ideas do not apply to the best commit's editable files (`IdeasCheck`).
    func noteIdeasThatDoNotApply() async {
        guard let file = manifest.ideas, let ideas = try? SubjectBridge.ideas(of: workspace), !ideas.isEmpty,
              let best = try? bestSoFar().commit else { return }
        var files: [String: String] = [:]
        for path in manifest.editable { files[path] = workspace.git.attempt(["show", "\(best):\(path)"]) }
        if let line = IdeasCheck.note(ideas, files: files, ideasFile: file) { await note(line) }
    }
}
