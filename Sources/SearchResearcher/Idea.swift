import Foundation

/// A research idea shipped by a template: a named search-and-replace edit of the editable files,
/// loaded from an ideas TOML file (see `SearchResearcher.loadIdeas(from:)`).
public struct Idea: Sendable, Equatable, Codable {
    /// One exact search-and-replace.
    public struct Edit: Sendable, Equatable, Codable {
        /// The file to edit, relative to the worktree; nil to use the idea's `file`, or, when that is
        /// nil too, the one editable file that contains `search`.
        public var file: String?
        /// Exact text that must occur exactly once in the file.
        public var search: String
        /// What replaces it.
        public var replace: String

        public init(file: String? = nil, search: String, replace: String) {
            self.file = file; self.search = search; self.replace = replace
        }
    }

    /// Short unique name; the bandit's label is `idea:<name>`.
    public var name: String
    /// One line, shown in results.tsv as `idea: <description>`.
    public var description: String
    /// Why it should lower the metric.
    public var hypothesis: String
    /// Default file of the edits, relative to the worktree.
    public var file: String?
    /// The edits, applied in order, each to the result of the ones before.
    public var edits: [Edit]

    public init(name: String, description: String, hypothesis: String = "", file: String? = nil, edits: [Edit]) {
        self.name = name; self.description = description; self.hypothesis = hypothesis; self.file = file; self.edits = edits
    }

    /// The bandit's label for this idea: `idea:<name>`.
    public var key: String { "idea:\(name)" }

    /// The outcome of applying an idea to a set of files.
    public enum Application: Sendable, Equatable {
        /// The new contents of the files the idea changed.
        case applied([String: String])
        /// Why the idea does not apply (a search text is missing or occurs more than once).
        case notApplicable(String)
    }

    /// Applies every edit, in order, to `files` (contents keyed by path relative to the worktree).
    /// The idea applies only if each search text occurs exactly once in its file at the time of its
    /// edit; otherwise nothing changes and the reason is returned.
    public func apply(to files: [String: String]) -> Application {
        var current = files.mapValues { Array($0.utf8) }
        var changed: Set<String> = []
        for (index, edit) in edits.enumerated() {
            let label = edits.count > 1 ? "edit \(index + 1) of idea '\(name)'" : "idea '\(name)'"
            let needle = Array(edit.search.utf8)
            let path: String
            if let named = (edit.file ?? file).map(Self.normalize) {
                guard current[named] != nil else { return .notApplicable("\(label): \(named) is not an editable file") }
                path = named
            } else {
                let holders = current.keys.sorted().filter { !ByteSearch.occurrences(of: needle, in: current[$0] ?? []).isEmpty }
                guard holders.count == 1 else {
                    return .notApplicable(holders.isEmpty ? "\(label): the search text is in no editable file"
                                                          : "\(label): the search text is in several files: \(holders.joined(separator: ", "))")
                }
                path = holders[0]
            }
            let haystack = current[path] ?? []
            let hits = ByteSearch.occurrences(of: needle, in: haystack)
            guard hits.count == 1, let at = hits.first else {
                return .notApplicable(hits.isEmpty ? "\(label): the search text is not in \(path)"
                                                   : "\(label): the search text occurs \(hits.count) times in \(path)")
            }
            var edited = haystack
            edited.replaceSubrange(at..<(at + needle.count), with: Array(edit.replace.utf8))
            current[path] = edited
            changed.insert(path)
        }
        var out: [String: String] = [:]
        for path in changed { out[path] = String(decoding: current[path] ?? [], as: UTF8.self) }
        return .applied(out)
    }

    static func normalize(_ path: String) -> String {
        path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    }
}

/// Exact byte search (no Unicode normalisation: source text must match byte for byte).
enum ByteSearch {
    /// Start offsets of every occurrence of `needle` in `haystack`, overlapping ones included.
    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard !needle.isEmpty, haystack.count >= needle.count else { return [] }
        var hits: [Int] = []
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { hits.append(i) }
            i += 1
        }
        return hits
    }
}
