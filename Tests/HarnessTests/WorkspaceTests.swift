import AutoResearchCore
import Foundation
import SubjectKit
import Testing
import SearchResearcher
@testable import Harness

@Suite struct WorkspaceTests {
    @Test func initCopiesTemplateAndVendorWritesManifestAndCommitsBaseline() throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let fm = FileManager.default
        let root = standIn.workspaceURL
        #expect(fm.fileExists(atPath: root.appendingPathComponent("train.py").path))
        #expect(fm.fileExists(atPath: root.appendingPathComponent("vendored/lib/util.py").path))
        #expect(!fm.fileExists(atPath: root.appendingPathComponent("template.toml").path))
        let gitignore = try String(contentsOf: root.appendingPathComponent(".gitignore"), encoding: .utf8)
        #expect(gitignore.contains(".build/") && gitignore.contains(".autoresearch/"))

        let m = ws.manifest
        #expect(m.editable == ["train.py"])
        #expect(m.build == "python3 -m py_compile train.py")
        #expect(m.budget.mode == .time && m.budget.seconds == 1)
        #expect(m.noise == NoiseSettings())
        // Protected: everything tracked but the editable file, program.md and the manifest.
        #expect(Set(m.fixed.keys) == [".gitignore", "data.txt", "vendored/lib/util.py"])
        let data = try #require(fm.contents(atPath: root.appendingPathComponent("data.txt").path))
        #expect(m.fixed["data.txt"] == sha256Hex(data))

        let git = Git(root)
        #expect(try git.run(["rev-list", "--count", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try git.dirtyTrackedFiles().isEmpty)
        #expect(try git.trackedFiles().contains("autoresearch.toml"))
        try ws.verifyFixed(in: root)
    }

    @Test func tokenBudgetSelectsTokenMode() throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace(tokenBudget: 5000)
        #expect(ws.manifest.budget.mode == .tokens)
        #expect(ws.manifest.budget.tokens == 5000)
    }

    @Test func notAWorkspaceNamesTheDirectoryAndSuggestsInit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-ws-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Workspace.open(dir)
            Issue.record("opened a directory without autoresearch.toml")
        } catch let error as HarnessError {
            #expect(error == .notAWorkspace(dir: dir.standardizedFileURL.path))
            #expect(error.description.contains("autoresearch init"))
            #expect(error.description.contains(dir.lastPathComponent))
        }
    }

    @Test func editableWithoutHyperparameterBlockIsRefusedAtInit() throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        try "import os\nprint('no constants here')\n".write(to: standIn.templateURL.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
        do {
            try standIn.makeWorkspace()
            Issue.record("init accepted an editable file without a hyperparameter block")
        } catch let error as HarnessError {
            guard case .noHyperparameterBlock(let path, _) = error else { Issue.record("wrong error: \(error)"); return }
            #expect(path == "train.py")
            #expect(error.description.contains("hyperparameter block"))
        }
        #expect(!FileManager.default.fileExists(atPath: standIn.workspaceURL.path), "a failed init leaves nothing behind")
    }

    @Test func referenceCopiesWithoutTheModuleToRenameAreRefused() throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let toml = standIn.templateURL.appendingPathComponent("template.toml")
        try (try String(contentsOf: toml, encoding: .utf8) + "\nreference_copies = [[\"vendored/lib\", \"reference/lib\"]]\n")
            .write(to: toml, atomically: true, encoding: .utf8)
        #expect(throws: HarnessError.other("\(toml.path): 'reference_copies' needs 'reference_module' = [\"FROM\", \"TO\"], the module the copies rename (without it nothing would be copied); add it, or remove 'reference_copies'")) {
            try standIn.makeWorkspace()
        }
        #expect(!FileManager.default.fileExists(atPath: standIn.workspaceURL.path))
    }

    @Test func initRefusesANonEmptyDirectoryAndAnUnknownTemplate() throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        try standIn.makeWorkspace()
        #expect(throws: HarnessError.workspaceExists(dir: standIn.workspaceURL.standardizedFileURL.path)) { try standIn.makeWorkspace() }
        let other = standIn.base.appendingPathComponent("ws2")
        do {
            try Workspace.create(at: other, options: WorkspaceOptions(template: "no-such-template", sourceRoot: standIn.sourceRoot))
            Issue.record("init accepted an unknown template")
        } catch let error as HarnessError {
            guard case .templateNotFound(let name, _) = error else { Issue.record("wrong error: \(error)"); return }
            #expect(name == "no-such-template")
        }
    }

    @Test func dirtyWorkTreeIsAnError() throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        try "changed\n".write(to: standIn.workspaceURL.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        #expect(throws: HarnessError.dirtyWorkTree(files: ["data.txt"])) { try ws.ensureClean() }
        do {
            _ = try ResearchLoop(workspace: ws, researcher: ScriptedResearcher([]), options: RunOptions(tag: "t"), display: RecordingDisplay())
            Issue.record("the loop started on a dirty work tree")
        } catch let error as HarnessError {
            #expect(error.description.contains("uncommitted changes"))
            #expect(error.description.contains("data.txt"))
        }
    }

    @Test func tamperedProtectedFileFailsIntegrity() throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        try "tampered\n".write(to: standIn.workspaceURL.appendingPathComponent("vendored/lib/util.py"), atomically: true, encoding: .utf8)
        do {
            try ws.verifyFixed(in: standIn.workspaceURL)
            Issue.record("a tampered protected file passed")
        } catch let error as HarnessError {
            guard case .integrity(let path, _, _) = error else { Issue.record("wrong error: \(error)"); return }
            #expect(path == "vendored/lib/util.py")
        }
    }

    @Test func sourceRootComesFromTheEnvironmentOrTheCheckout() throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        #expect(throws: HarnessError.self) { try Workspace.sourceRoot(environment: ["AUTORESEARCH_HOME": standIn.base.path]) }
        try FileManager.default.createDirectory(at: standIn.base.appendingPathComponent("Templates"), withIntermediateDirectories: true)
        #expect(try Workspace.sourceRoot(environment: ["AUTORESEARCH_HOME": standIn.base.path]).path == standIn.base.path)
        let checkout = try Workspace.sourceRoot(environment: [:])
        #expect(FileManager.default.fileExists(atPath: checkout.appendingPathComponent("Sources/Harness").path))
    }

    @Test func defaultTagIsMonthAndDay() {
        var components = DateComponents()
        components.year = 2025; components.month = 11; components.day = 29; components.hour = 12
        let date = Calendar.current.date(from: components)!
        #expect(RunOptions.defaultTag(date) == "nov29")
        #expect(RunOptions.isValidTag("nov29-b"))
        #expect(!RunOptions.isValidTag("a b"))
        #expect(!RunOptions.isValidTag("../x"))
    }
}

@Suite struct GPTTemplateTests {
    @Test func gptTemplateInitsFromThisSourceTree() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-ws-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ws = try Workspace.create(at: dir, options: WorkspaceOptions(template: "gpt", timeBudget: 60, dataDirectory: "/tmp/corpus"))
        #expect(ws.manifest.editable == ["Sources/train/train.swift"])
        #expect(ws.manifest.build == "swift build -c release --product train")
        #expect(ws.manifest.ideas == "ideas.toml")
        #expect(ws.manifest.budget.seconds == 60)
        #expect(ws.manifest.fixed["Package.swift"] != nil)
        #expect(ws.manifest.fixed["ideas.toml"] != nil)
        #expect(ws.manifest.fixed.keys.contains { $0.hasPrefix("Sources/TensorCore/") })
        #expect(ws.manifest.fixed.keys.contains { $0.hasPrefix("Sources/SubjectKit/") })
        #expect(ws.manifest.fixed["Sources/train/train.swift"] == nil)
        #expect(ws.manifest.fixed["program.md"] == nil)
        try ws.verifyFixed(in: dir)
        try ws.validateEditable()
        // The search researcher can be built for it (ideas.toml parses).
        _ = try SubjectBridge.searchResearcher(workspace: ws, seed: 1)
    }
}

/// The PyTorch template's files, without making its environment: the same baseline as train.swift, and ideas that apply.
@Suite struct PyTorchTemplateTests {
    static let template = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Templates")

    @Test func theHyperparameterBlockIsTrainSwiftsBaseline() throws {
        let python = try HyperparameterBlock.parse(try String(contentsOf: Self.template.appendingPathComponent("pytorch/train.py"), encoding: .utf8), path: "train.py")
        let swift = try HyperparameterBlock.parse(try String(contentsOf: Self.template.appendingPathComponent("gpt/Sources/train/train.swift"), encoding: .utf8),
                                                  path: "train.swift")
        #expect(python.parameters.map(\.name) == swift.parameters.map(\.name))
        #expect(python.parameters.map(\.value) == swift.parameters.map(\.value))
        #expect(python.parameters.map(\.comment) == swift.parameters.map(\.comment))
    }

    @Test func everyIdeaAppliesOnceAndStillCompiles() throws {
        let source = try String(contentsOf: Self.template.appendingPathComponent("pytorch/train.py"), encoding: .utf8)
        let ideas = try SearchResearcher.parseIdeas(try String(contentsOf: Self.template.appendingPathComponent("pytorch/ideas.toml"), encoding: .utf8),
                                                    path: "ideas.toml")
        #expect(ideas.count == 9)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pytorch-ideas-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for idea in ideas {
            guard case .applied(let files) = idea.apply(to: ["train.py": source]), let changed = files["train.py"] else {
                Issue.record("idea \(idea.name) does not apply: \(idea.apply(to: ["train.py": source]))"); continue
            }
            let file = dir.appendingPathComponent("\(idea.name).py")
            try changed.write(to: file, atomically: true, encoding: .utf8)
            let compiled = try ProcessRunner.capture(["python3", "-m", "py_compile", file.path], in: dir)
            #expect(compiled.status == 0, "idea \(idea.name): \(compiled.stderr)")
        }
    }
}

/// Ideas match exact text: the harness says which no longer apply instead of retiring them in silence.
@Suite struct IdeasCheckTests {
    static let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Templates")

    @Test func everyTemplateIdeaAppliesToItsBaselineAndAReformattedLineIsReported() throws {
        let ideas = try SearchResearcher.loadIdeas(from: Self.templates.appendingPathComponent("gpt/ideas.toml"))
        let train = try String(contentsOf: Self.templates.appendingPathComponent("gpt/Sources/train/train.swift"), encoding: .utf8)
        let path = "Sources/train/train.swift"
        #expect(IdeasCheck.notApplying(ideas, to: [path: train]).isEmpty)
        #expect(IdeasCheck.note(ideas, files: [path: train], ideasFile: "ideas.toml") == nil)
        // One space more in the OPTIMIZER line: the muon idea's search text is gone, and the note says so.
        let reformatted = train.replacingOccurrences(of: "let OPTIMIZER = \"adamw\"", with: "let OPTIMIZER =  \"adamw\"")
        let missing = IdeasCheck.notApplying(ideas, to: [path: reformatted])
        #expect(missing.map(\.name) == ["muon"], "\(missing)")
        #expect(missing.first?.reason == "idea 'muon': the search text is in no editable file", "\(missing)")
        let note = try #require(IdeasCheck.note(ideas, files: [path: reformatted], ideasFile: "ideas.toml"))
        #expect(note.hasPrefix("ideas.toml: 1 of \(ideas.count) ideas do not apply to the best's files"))
        #expect(note.hasSuffix("bring it back): idea 'muon': the search text is in no editable file"), "\(note)")
    }
}

/// The GPT template reads ACTIVATION and OPTIMIZER as enums; their cases must be the choices the hyperparameter
/// comments give the search researcher, or a move would stop the run.
@Suite struct TemplateChoicesTests {
    @Test func theEnumsHoldExactlyTheCommentsChoices() throws {
        let train = try String(contentsOf: IdeasCheckTests.templates.appendingPathComponent("gpt/Sources/train/train.swift"), encoding: .utf8)
        let block = try HyperparameterBlock.parse(train, path: "train.swift")
        for (parameter, type) in [("ACTIVATION", "Activation"), ("OPTIMIZER", "OptimizerKind")] {
            let comment = try #require(block.parameters.first { $0.name == parameter }?.comment)
            let choices = comment.replacingOccurrences(of: "choices: ", with: "").split(separator: "|").map(String.init)
            let line = try #require(train.split(separator: "\n").first { $0.hasPrefix("enum \(type): String, CaseIterable { case ") })
            let cases = line.components(separatedBy: "{ case ")[1].replacingOccurrences(of: " }", with: "").components(separatedBy: ", ")
            #expect(cases == choices, "\(parameter): enum \(cases) against the comment's \(choices)")
        }
        #expect(block.parameters.map(\.name).suffix(2) == ["SOFTCAP", "ROPE_BASE"], "the block ends with the architecture details, as before")
    }
}
