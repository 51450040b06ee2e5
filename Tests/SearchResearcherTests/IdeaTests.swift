import Foundation
import Testing
@testable import SearchResearcher

@Suite struct IdeaTests {
    static let toml = #"""
    [[idea]]
    name = "gelu"
    description = "GELU instead of ReLU²"
    hypothesis = "GELU's smooth gradient near zero trains a little better."
    file = "train.swift"
    search = "return y * y  // ReLU²"
    replace = "return 0.5 * x * (1 + tanh(0.7978845608 * (x + 0.044715 * x * x * x)))"

    [[idea]]
    name = "wider-and-shallower"
    hypothesis = "Fewer, wider layers use the matrix units better."

    [[idea.edit]]
    search = "let DEPTH = 4"
    replace = "let DEPTH = 3"

    [[idea.edit]]
    file = "train.swift"
    search = "let WIDTH = 256"
    replace = "let WIDTH = 384"
    """#

    @Test func loadsSingleAndMultiEditIdeas() throws {
        let ideas = try SearchResearcher.parseIdeas(Self.toml, path: "ideas.toml")
        #expect(ideas.count == 2)
        #expect(ideas[0] == Idea(name: "gelu", description: "GELU instead of ReLU²",
                                 hypothesis: "GELU's smooth gradient near zero trains a little better.", file: "train.swift",
                                 edits: [Idea.Edit(search: "return y * y  // ReLU²",
                                                   replace: "return 0.5 * x * (1 + tanh(0.7978845608 * (x + 0.044715 * x * x * x)))")]))
        #expect(ideas[1].name == "wider-and-shallower")
        #expect(ideas[1].description == "wider-and-shallower")  // defaults to the name
        #expect(ideas[1].edits == [Idea.Edit(search: "let DEPTH = 4", replace: "let DEPTH = 3"),
                                   Idea.Edit(file: "train.swift", search: "let WIDTH = 256", replace: "let WIDTH = 384")])
        #expect(ideas[1].key == "idea:wider-and-shallower")
    }

    @Test func loadsFromAFileAndSaysWhichFileIsBroken() throws {
        let dir = try Fixtures.worktree(["ideas.toml": Self.toml, "broken.toml": "[[idea]]\nname = \"x\nsearch = 1\n"])
        #expect(try SearchResearcher.loadIdeas(from: dir.appendingPathComponent("ideas.toml")).count == 2)
        let broken = dir.appendingPathComponent("broken.toml")
        do {
            _ = try SearchResearcher.loadIdeas(from: broken)
            Issue.record("expected an error")
        } catch let error as SearchError {
            guard case .malformedIdeas(let path, let reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(path == broken.path)
            #expect(error.description.hasPrefix("\(broken.path) is not valid TOML: "))
            #expect(reason.contains("line 2"))
        }
        let missing = dir.appendingPathComponent("nope.toml")
        #expect(throws: SearchError.self) { try SearchResearcher.loadIdeas(from: missing) }
    }

    @Test func missingAndWrongKeysAreClearErrors() {
        func error(_ toml: String) -> String? {
            do { _ = try SearchResearcher.parseIdeas(toml, path: "ideas.toml"); return nil } catch { return "\(error)" }
        }
        #expect(error("[[idea]]\nsearch = \"a\"\nreplace = \"b\"\n") == "ideas.toml: idea #1 has no `name`; add e.g. name = \"gelu\"")
        #expect(error("[[idea]]\nname = \"x\"\nsearch = \"a\"\n") == "ideas.toml: idea 'x' has `search` but no `replace`")
        #expect(error("[[idea]]\nname = \"x\"\n") == "ideas.toml: idea 'x' has no edit: give `search` and `replace`, or [[idea.edit]] tables with them")
        #expect(error("[[idea]]\nname = \"x\"\nserach = \"a\"\nreplace = \"b\"\n")
                == "ideas.toml: idea 'x' has an unknown key 'serach'; the keys are description, edit, file, hypothesis, name, replace, search")
        #expect(error("[[idea]]\nname = \"x\"\nsearch = 3\nreplace = \"b\"\n") == "ideas.toml: idea 'x' has `search` of type integer, but it must be a string")
        #expect(error("[idea]\nname = \"x\"\n") == "ideas.toml: the file has [idea] as a single table; write each idea as [[idea]] (double brackets)")
        #expect(error("[[idea]]\nname = \"x\"\nsearch = \"a\"\nreplace = \"b\"\n[[idea]]\nname = \"x\"\nsearch = \"c\"\nreplace = \"d\"\n")
                == "ideas.toml: idea 'x' is defined twice; give each idea a unique name")
        #expect(error("[[idea]]\nname = \"x\"\n[[idea.edit]]\nsearch = \"a\"\n") == "ideas.toml: idea 'x', edit #1 has `search` but no `replace`")
        #expect(error("") == nil)
    }

    @Test func appliesOnlyWhenEverySearchTextOccursExactlyOnce() throws {
        let ideas = try SearchResearcher.parseIdeas(Self.toml, path: "ideas.toml")
        let files = ["train.swift": Fixtures.swiftTrain]
        guard case .applied(let changed) = ideas[0].apply(to: files) else { Issue.record("gelu should apply"); return }
        #expect(changed.keys.sorted() == ["train.swift"])
        #expect(changed["train.swift"]?.contains("0.044715") == true)
        #expect(changed["train.swift"]?.contains("return y * y") == false)
        // Both edits of a multi-edit idea land.
        guard case .applied(let both) = ideas[1].apply(to: files) else { Issue.record("should apply"); return }
        #expect(both["train.swift"]?.contains("let DEPTH = 3 ") == true)
        #expect(both["train.swift"]?.contains("let WIDTH = 384 ") == true)
        // Missing text: skipped.
        let applied = (changed["train.swift"] ?? "")
        #expect(ideas[0].apply(to: ["train.swift": applied]) == .notApplicable("idea 'gelu': the search text is not in train.swift"))
        // Twice: skipped.
        let twice = Fixtures.swiftTrain + "\n// return y * y  // ReLU²\n"
        #expect(ideas[0].apply(to: ["train.swift": twice]) == .notApplicable("idea 'gelu': the search text occurs 2 times in train.swift"))
        // The second edit missing leaves everything unchanged.
        let noWidth = Fixtures.swiftTrain.replacingOccurrences(of: "let WIDTH = 256", with: "let WIDTH = 512")
        #expect(ideas[1].apply(to: ["train.swift": noWidth]) == .notApplicable("edit 2 of idea 'wider-and-shallower': the search text is not in train.swift"))
        // A file that is not editable.
        #expect(ideas[0].apply(to: ["other.swift": Fixtures.swiftTrain]) == .notApplicable("idea 'gelu': train.swift is not an editable file"))
    }

    @Test func anEditWithoutAFileFindsTheOneFileThatHasTheText() {
        let idea = Idea(name: "x", description: "x", edits: [Idea.Edit(search: "beta", replace: "gamma")])
        #expect(idea.apply(to: ["a.py": "alpha", "b.py": "beta"]) == .applied(["b.py": "gamma"]))
        #expect(idea.apply(to: ["a.py": "beta", "b.py": "beta"]) == .notApplicable("idea 'x': the search text is in several files: a.py, b.py"))
    }
}
