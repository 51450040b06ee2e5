import Foundation
import TOMLKit

extension SearchResearcher {
    /// Loads a template's ideas from a TOML file:
    ///
    /// ```toml
    /// [[idea]]
    /// name = "gelu"                       # required, unique
    /// description = "GELU instead of ReLU²"  # optional, defaults to the name
    /// hypothesis = "..."                  # optional
    /// file = "Sources/train/train.swift"  # optional: default file of the edits
    /// search = "exact text"               # one edit ...
    /// replace = "new text"
    ///
    /// [[idea.edit]]                       # ... and/or several, applied in order after it
    /// file = "..."                        # optional, defaults to the idea's file
    /// search = "..."
    /// replace = "..."
    /// ```
    /// Without any `file`, an edit applies to the one editable file that contains its search text.
    /// - Throws: `SearchError.unreadableIdeas` when the file cannot be read, `.malformedIdeas` for
    ///   invalid TOML (with line and column), `.invalidIdea` for a missing, mistyped, unknown or
    ///   duplicate key.
    public static func loadIdeas(from url: URL) throws -> [Idea] {
        let path = url.path
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw SearchError.unreadableIdeas(path: path, reason: error.localizedDescription)
        }
        return try parseIdeas(text, path: path)
    }

    /// Parses ideas from TOML text (see `loadIdeas(from:)`); `path` is only used in messages.
    public static func parseIdeas(_ text: String, path: String) throws -> [Idea] {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw SearchError.malformedIdeas(path: path, reason: "\(error.description) (\(error.source.begin.debugDescription))")
        } catch {
            throw SearchError.malformedIdeas(path: path, reason: "\(error)")
        }
        for key in root.keys where key != "idea" {
            throw SearchError.invalidIdea(path: path, idea: "the file", reason: "has an unknown top-level key '\(key)'; write each idea as an [[idea]] table")
        }
        guard let value = root["idea"] else { return [] }
        guard let array = value.array else {
            throw SearchError.invalidIdea(path: path, idea: "the file", reason: "has [idea] as a single table; write each idea as [[idea]] (double brackets)")
        }
        var ideas: [Idea] = []
        var names: Set<String> = []
        for (index, element) in array.enumerated() {
            guard let table = element.table else {
                throw SearchError.invalidIdea(path: path, idea: "idea #\(index + 1)", reason: "is not a table; write it as [[idea]]")
            }
            let idea = try parseIdea(table, number: index + 1, path: path)
            guard names.insert(idea.name).inserted else {
                throw SearchError.invalidIdea(path: path, idea: "idea '\(idea.name)'", reason: "is defined twice; give each idea a unique name")
            }
            ideas.append(idea)
        }
        return ideas
    }

    private static func parseIdea(_ table: TOMLTable, number: Int, path: String) throws -> Idea {
        let known: Set<String> = ["name", "description", "hypothesis", "file", "search", "replace", "edit"]
        var label = "idea #\(number)"
        func string(_ key: String, in table: TOMLTable, of what: String) throws -> String? {
            guard let value = table[key] else { return nil }
            guard let s = value.string else {
                throw SearchError.invalidIdea(path: path, idea: what, reason: "has `\(key)` of type \(value.type), but it must be a string")
            }
            return s
        }
        guard let name = try string("name", in: table, of: label)?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
            throw SearchError.invalidIdea(path: path, idea: label, reason: "has no `name`; add e.g. name = \"gelu\"")
        }
        label = "idea '\(name)'"
        for key in table.keys where !known.contains(key) {
            throw SearchError.invalidIdea(path: path, idea: label, reason: "has an unknown key '\(key)'; the keys are \(known.sorted().joined(separator: ", "))")
        }
        var edits: [Idea.Edit] = []
        func edit(from table: TOMLTable, of what: String, file: String?) throws -> Idea.Edit? {
            let search = try string("search", in: table, of: what)
            let replace = try string("replace", in: table, of: what)
            switch (search, replace) {
            case (nil, nil): return nil
            case (nil, _): throw SearchError.invalidIdea(path: path, idea: what, reason: "has `replace` but no `search`")
            case (_, nil): throw SearchError.invalidIdea(path: path, idea: what, reason: "has `search` but no `replace`")
            case (let s?, let r?):
                guard !s.isEmpty else { throw SearchError.invalidIdea(path: path, idea: what, reason: "has an empty `search`; give the exact text to replace") }
                return Idea.Edit(file: file, search: s, replace: r)
            }
        }
        if let top = try edit(from: table, of: label, file: nil) { edits.append(top) }
        if let value = table["edit"] {
            guard let array = value.array else {
                throw SearchError.invalidIdea(path: path, idea: label, reason: "has `edit` that is not a list of [[idea.edit]] tables")
            }
            for (i, element) in array.enumerated() {
                let what = "\(label), edit #\(i + 1)"
                guard let sub = element.table else {
                    throw SearchError.invalidIdea(path: path, idea: what, reason: "is not a table; write it as [[idea.edit]]")
                }
                for key in sub.keys where !["file", "search", "replace"].contains(key) {
                    throw SearchError.invalidIdea(path: path, idea: what, reason: "has an unknown key '\(key)'; the keys are file, search, replace")
                }
                guard let e = try edit(from: sub, of: what, file: try string("file", in: sub, of: what)) else {
                    throw SearchError.invalidIdea(path: path, idea: what, reason: "has no `search` and `replace`")
                }
                edits.append(e)
            }
        }
        guard !edits.isEmpty else {
            throw SearchError.invalidIdea(path: path, idea: label, reason: "has no edit: give `search` and `replace`, or [[idea.edit]] tables with them")
        }
        return Idea(name: name, description: try string("description", in: table, of: label) ?? name,
                    hypothesis: try string("hypothesis", in: table, of: label) ?? "",
                    file: try string("file", in: table, of: label), edits: edits)
    }
}
