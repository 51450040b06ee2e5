import AutoResearchCore
import Foundation
import Testing
@testable import Harness

/// `autoresearch adopt-core`: a tensorcore workspace's best kept core carried into a GPT workspace as a new tag, or
/// into the source tree. Nothing is built: the workspaces are only initialised, and a keep is faked in the ledger.
@Suite struct CoreAdoptionTests {
    static let matmul = "Sources/TensorCore/Ops/MatMul.swift"
    static let grain = "public let GEMM_THREAD_GRAIN = 16"

    /// A temporary folder holding the workspaces (and, for the source-tree tests, a copy of the source tree).
    final class Scratch {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("core-adopt-\(UUID().uuidString.prefix(8))")
        deinit { try? FileManager.default.removeItem(at: base) }
        func url(_ name: String) -> URL { base.appendingPathComponent(name) }

        func workspace(_ name: String, template: String, sourceRoot: URL? = nil) throws -> Workspace {
            try Workspace.create(at: url(name), options: WorkspaceOptions(template: template, timeBudget: 5,
                                                                          dataDirectory: url("data").path, sourceRoot: sourceRoot))
        }
    }

    /// Records a measured baseline on tag `tag` of a tensorcore workspace and, with `keep`, commits GEMM_THREAD_GRAIN
    /// = `grain` on its research branch and records it as a keep (what the loop does after the gate passed and it won).
    @discardableResult
    func research(_ ws: Workspace, tag: String = "engine", keep grain: Int? = 32, best: Double = 1200, researcher: String = "search") throws -> String? {
        let ledger = try Ledger(url: ws.ledgerURL)
        let head = try ws.git.revParse("HEAD")
        try ledger.insert(TagRecord(tag: tag, branch: "autoresearch/\(tag)", manifestHash: ws.manifestHash, createdAt: Date(),
                                    baselineCommit: head, noiseSigma: 10))
        var baseline = ExperimentRecord(tag: tag, number: -1, parentCommit: nil, description: "baseline", researcher: "harness", status: .baseline)
        baseline.commit = head; baseline.metric = 1000; baseline.finishedAt = Date()
        _ = try ledger.start(baseline)
        try ws.git.updateRef("refs/heads/autoresearch/\(tag)", to: head, from: nil)
        guard let grain else { return nil }
        try ws.git.run(["checkout", "-q", "autoresearch/\(tag)"])
        let file = ws.root.appendingPathComponent(Self.matmul)
        let source = try String(contentsOf: file, encoding: .utf8)
        #expect(source.contains(Self.grain))
        try source.replacingOccurrences(of: Self.grain, with: "public let GEMM_THREAD_GRAIN = \(grain)").write(to: file, atomically: true, encoding: .utf8)
        try ws.git.run(["commit", "-q", "-am", "GEMM_THREAD_GRAIN \(grain)"])
        let commit = try ws.git.revParse("HEAD")
        try ws.git.run(["checkout", "-q", "main"])
        var keep = ExperimentRecord(tag: tag, number: -1, parentCommit: head, description: "grain \(grain)", researcher: researcher, status: .keep)
        keep.commit = commit; keep.metric = best; keep.finishedAt = Date()
        _ = try ledger.start(keep)
        return commit
    }

    @Test func adoptCoreStartsANewTagOnTheNewCoreAndRecordsTheSource() async throws {
        let scratch = Scratch()
        let tc = try scratch.workspace("tc", template: "tensorcore")
        let kept = try #require(try research(tc))
        let gpt = try scratch.workspace("gpt", template: "gpt")
        // An earlier tag on the GPT workspace, with its own manifest hash.
        let ledger = try Ledger(url: gpt.ledgerURL)
        let before = try gpt.git.revParse("HEAD")
        let old = TagRecord(tag: "dec1", branch: "autoresearch/dec1", manifestHash: gpt.manifestHash, createdAt: Date(), baselineCommit: before, noiseSigma: 0.01)
        try ledger.insert(old)
        try gpt.git.updateRef("refs/heads/autoresearch/dec1", to: before, from: nil)

        let core = try tc.bestCore()
        #expect(core.tag == "engine" && core.commit == kept && core.kept && core.best == 1200 && core.baseline == 1000)
        #expect(core.files.count == tc.manifest.editable.count && core.files.count == 7)
        let changes = try core.changes(inSourceTree: gpt.root)
        #expect(changes.map(\.summary) == ["\(Self.matmul): GEMM_THREAD_GRAIN 16 → 32; +1 −1 lines"])

        let result = try gpt.adoptCore(core)
        let ws = result.workspace
        // The files landed, the manifest hashes them, and the workspace is committed on main with the provenance.
        let landed = try String(contentsOf: ws.root.appendingPathComponent(Self.matmul), encoding: .utf8)
        #expect(landed.contains("public let GEMM_THREAD_GRAIN = 32"))
        try ws.verifyFixed(in: ws.root)
        #expect(ws.manifest.fixed[Self.matmul] == core.hashes[Self.matmul] && ws.manifest.fixed[Self.matmul] != gpt.manifest.fixed[Self.matmul])
        #expect(ws.manifestHash != gpt.manifestHash)
        #expect(try ws.git.dirtyTrackedFiles().isEmpty)
        let message = try ws.git.run(["log", "-1", "--format=%s", "main"])
        #expect(message.contains("adopt core from \(tc.root.path) tag engine commit \(kept.prefix(12))"), "\(message)")
        #expect(result.changed == [Self.matmul])

        // A new tag whose baseline is the adoption commit (a new baseline is measured); the old tag is untouched.
        #expect(result.tag.tag == "dec1-core1")
        let tag = try #require(try ledger.tag("dec1-core1"))
        let main = try ws.git.revParse("main")
        #expect(tag.baselineCommit == main && tag.manifestHash == ws.manifestHash && tag.noiseSigma == nil)
        #expect(ws.git.resolve("refs/heads/autoresearch/dec1-core1") == tag.baselineCommit)
        let unchanged = try #require(try ledger.tag("dec1"))
        #expect(unchanged.manifestHash == old.manifestHash && unchanged.baselineCommit == before && unchanged.noiseSigma == 0.01)
        #expect(ws.git.resolve("refs/heads/autoresearch/dec1") == before)
        #expect(try ledger.experiments(tag: "dec1-core1").isEmpty)

        // The ledger records where the core came from, and status shows it.
        let record = try #require(try ledger.core(commit: tag.baselineCommit))
        #expect(record.tag == "dec1-core1" && record.sourceWorkspace == tc.root.path && record.sourceTag == "engine")
        #expect(record.sourceCommit == kept && record.sourceKept && record.sourceBaseline == 1000 && record.sourceBest == 1200)
        #expect(record.sourceMetric == "speedup" && record.fileHashes == core.hashes)
        let status = try TagReports(workspace: ws, tag: "dec1-core1").status()
        #expect(status.text.contains("tensor core: from \(tc.root.path) tag engine commit \(kept.prefix(12)), speedup 1000.0 → 1200.0 (+20.0%)"), "\(status.text)")
        // The old tag runs on the core the template brought: none recorded, or the source tree's own adopted core
        // (Templates/gpt/core-source.json, recorded at init without a tag), never this adoption.
        let oldCore = try TagReports(workspace: ws, tag: "dec1").status().core
        let templateHasCore = FileManager.default.fileExists(atPath: try Workspace.sourceRoot().appendingPathComponent("Templates/gpt/core-source.json").path)
        #expect(templateHasCore ? (oldCore.map { $0.hasPrefix("tensor core: from ") && !$0.contains(String(kept.prefix(12))) } ?? false) : oldCore == nil, "\(oldCore ?? "nil")")

        // The loop resumes the new tag from the adoption commit (its baseline is still to measure); the old tag's
        // manifest is no longer the workspace's, so it cannot be continued on the new core.
        let loop = try ResearchLoop(workspace: ws, researcher: ScriptedResearcher([]), options: RunOptions(tag: "dec1-core1"), display: RecordingDisplay())
        try await loop.openTag()
        let best = try await loop.bestSoFar()
        #expect(best.commit == tag.baselineCommit && best.metric == nil)
        let oldLoop = try ResearchLoop(workspace: ws, researcher: ScriptedResearcher([]), options: RunOptions(tag: "dec1"), display: RecordingDisplay())
        await #expect(throws: HarnessError.tagManifestMismatch(tag: "dec1", recorded: gpt.manifestHash, current: ws.manifestHash)) { try await oldLoop.openTag() }

        // The same core again: nothing to adopt.
        #expect(throws: HarnessError.other("\(ws.root.path) already has this core (the kernels of \(tc.root.path) at \(kept.prefix(12)) hash as its own): nothing to adopt")) {
            try ws.adoptCore(core, tag: "again")
        }
    }

    /// Finding 11: a core an agent wrote (native code, researched unsandboxed) is not carried into trusted workspaces
    /// unless the user says so; the researchers are part of what `bestCore` reports.
    @Test func aCoreWrittenByACodeEditingResearcherIsRefusedUnlessAllowed() throws {
        let scratch = Scratch()
        let tc = try scratch.workspace("tc", template: "tensorcore")
        let commit = try research(tc, tag: "agent", keep: 24, best: 1400, researcher: "command")
        #expect(throws: HarnessError.other("the core of tag agent (commit \(commit!.prefix(12))) has keeps by researchers that write code (command), in a subject that runs unsandboxed; read its diff, then pass --allow-code-editors to adopt it")) {
            try tc.bestCore()
        }
        let allowed = try tc.bestCore(allowCodeEditors: true)
        #expect(allowed.commit == commit && allowed.researchers == ["command"])
    }

    @Test func theFastestTagIsChosenAndAnExplicitTagWins() throws {
        let scratch = Scratch()
        let tc = try scratch.workspace("tc", template: "tensorcore")
        let fast = try research(tc, tag: "a", keep: 64, best: 1500)
        let slow = try research(tc, tag: "b", keep: 8, best: 1100)
        #expect(try tc.bestCore().commit == fast)
        #expect(try tc.bestCore(tag: "b").commit == slow)
        #expect(throws: HarnessError.unknownTag(tag: "zz", known: ["a", "b"])) { try tc.bestCore(tag: "zz") }
    }

    @Test func refusesASourceThatIsNotTensorcoreOrHasNoKeep() throws {
        let scratch = Scratch()
        let gpt = try scratch.workspace("gpt", template: "gpt")
        let error = #expect(throws: HarnessError.self) { try gpt.bestCore() }
        #expect("\(error!)".contains("is not a tensorcore workspace (its template is 'gpt')"))

        let tc = try scratch.workspace("tc", template: "tensorcore")
        let fresh = #expect(throws: HarnessError.self) { try tc.bestCore() }
        #expect("\(fresh!)".contains("has no research yet"))
        try research(tc, keep: nil)
        let noKeep = #expect(throws: HarnessError.self) { try tc.bestCore() }
        #expect("\(noKeep!)".contains("has no keep in any tag (engine)") && "\(noKeep!)".contains("--allow-baseline"))
        // The baseline core is the vendored one: allowed, and then nothing changes in a GPT workspace.
        let baseline = try tc.bestCore(allowBaseline: true)
        let main = try tc.git.revParse("main")
        #expect(!baseline.kept && baseline.commit == main)
        let same = #expect(throws: HarnessError.self) { try gpt.adoptCore(baseline) }
        #expect("\(same!)".contains("already has this core"))
    }

    @Test func refusesADirtyOrBusyOrWrongTarget() throws {
        let scratch = Scratch()
        let tc = try scratch.workspace("tc", template: "tensorcore")
        try research(tc)
        let core = try tc.bestCore()
        let gpt = try scratch.workspace("gpt", template: "gpt")

        // Uncommitted changes to the GPT workspace.
        let train = gpt.root.appendingPathComponent("Sources/train/train.swift")
        let original = try String(contentsOf: train, encoding: .utf8)
        try (original + "\n// edited\n").write(to: train, atomically: true, encoding: .utf8)
        #expect(throws: HarnessError.dirtyWorkTree(files: ["Sources/train/train.swift"])) { try gpt.adoptCore(core) }
        try original.write(to: train, atomically: true, encoding: .utf8)

        // A run in progress holds .autoresearch/run.lock.
        do {
            let lock = try RunLock(gpt.stateDirectory.appendingPathComponent("run.lock"))
            let busy = #expect(throws: HarnessError.self) { try gpt.adoptCore(core) }
            #expect("\(busy!)".contains("another `autoresearch run` is active"))
            lock.release()
        }

        // Into a tensorcore workspace, or with a tag that exists: refused. Nothing was committed meanwhile.
        let wrong = #expect(throws: HarnessError.self) { try tc.adoptCore(core) }
        #expect("\(wrong!)".contains("is a tensorcore workspace"))
        let ledger = try Ledger(url: gpt.ledgerURL)
        try ledger.insert(TagRecord(tag: "taken", branch: "autoresearch/taken", manifestHash: gpt.manifestHash, createdAt: Date(),
                                    baselineCommit: try gpt.git.revParse("HEAD"), noiseSigma: nil))
        let taken = #expect(throws: HarnessError.self) { try gpt.adoptCore(core, tag: "taken") }
        #expect("\(taken!)".contains("tag taken already exists"))
        #expect(throws: HarnessError.invalidTag("no good")) { try gpt.adoptCore(core, tag: "no good") }
        #expect(try gpt.git.run(["rev-list", "--count", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try gpt.git.dirtyTrackedFiles().isEmpty)
        try gpt.verifyFixed(in: gpt.root)
        // With no tags before it, the new tag is core1; then it works.
        try ledger.pool.write { try $0.execute(sql: "DELETE FROM tags") }
        #expect(try gpt.adoptCore(core).tag.tag == "core1")
    }

    /// A copy of the parts of the source tree `init` reads, so the test can write into it.
    func copySourceTree(into scratch: Scratch) throws -> URL {
        let real = try Workspace.sourceRoot(), copy = scratch.url("src")
        for dir in ["Templates/gpt", "Templates/tensorcore", "Sources/TensorCore", "Sources/SubjectKit", "Sources/CBLAS", "Sources/CSHA256"] {
            try Workspace.copyTree(from: real.appendingPathComponent(dir), to: copy.appendingPathComponent(dir), skipping: [])
        }
        return copy
    }

    @Test func intoTheSourceTreeNewGPTWorkspacesVendorTheCoreAndRecordItsSource() throws {
        let scratch = Scratch()
        let tree = try copySourceTree(into: scratch)
        let tc = try scratch.workspace("tc", template: "tensorcore", sourceRoot: tree)
        let kept = try #require(try research(tc))
        let core = try tc.bestCore()
        let changes = try core.adoptIntoSourceTree(tree)
        #expect(changes.map(\.path) == [Self.matmul])
        #expect(try String(contentsOf: tree.appendingPathComponent(Self.matmul), encoding: .utf8).contains("GEMM_THREAD_GRAIN = 32"))
        #expect(try core.changes(inSourceTree: tree).isEmpty)
        #expect(try core.adoptIntoSourceTree(tree).isEmpty, "a second time writes nothing")

        let gpt = try scratch.workspace("gpt", template: "gpt", sourceRoot: tree)
        #expect(try String(contentsOf: gpt.root.appendingPathComponent(Self.matmul), encoding: .utf8).contains("GEMM_THREAD_GRAIN = 32"))
        #expect(gpt.manifest.fixed[Self.matmul] == core.hashes[Self.matmul])
        let record = try #require(try Ledger(url: gpt.ledgerURL).core(commit: try gpt.git.revParse("HEAD")))
        #expect(record.sourceCommit == kept && record.tag == nil && record.sourceWorkspace == tc.root.path)
        // The first tag started on it (as `run` does) shows where its core came from.
        let ledger = try Ledger(url: gpt.ledgerURL)
        try ledger.insert(TagRecord(tag: "t1", branch: "autoresearch/t1", manifestHash: gpt.manifestHash, createdAt: Date(),
                                    baselineCommit: try gpt.git.revParse("HEAD"), noiseSigma: nil))
        #expect(try TagReports(workspace: gpt, tag: "t1").status().core?.contains("tag engine commit \(kept.prefix(12))") == true)
        var baseline = ExperimentRecord(tag: "t1", number: -1, parentCommit: nil, description: "baseline", researcher: "harness", status: .baseline)
        baseline.commit = try gpt.git.revParse("HEAD")
        _ = try ledger.start(baseline)
        let shown = try TagReports(workspace: gpt, tag: "t1").show(number: 0)
        #expect(shown.contains("core:        from \(tc.root.path) tag engine commit \(kept.prefix(12))"), "\(shown)")
    }

    @Test func theCommandAdoptsIntoAWorkspaceAndRefusesWithOneLine() async throws {
        let scratch = Scratch()
        let tc = try scratch.workspace("tc", template: "tensorcore")
        try research(tc)
        let gpt = try scratch.workspace("gpt", template: "gpt")
        let cli = CLITests()
        let (refused, error) = try await cli.autoresearch(["adopt-core", gpt.root.path, "--workspace", gpt.root.path], in: scratch.base)
        #expect(refused == .exited(1) && error.hasPrefix("error: ") && error.contains("is not a tensorcore workspace"), "\(error)")
        #expect(error.split(separator: "\n").count == 1, "\(error)")

        let (status, output) = try await cli.autoresearch(["adopt-core", tc.root.path, "--workspace", gpt.root.path, "--tag", "fast"], in: scratch.base)
        #expect(status == .exited(0), "\(output)")
        #expect(output.contains("GEMM_THREAD_GRAIN 16 → 32") && output.contains("new tag fast (branch autoresearch/fast)"), "\(output)")
        #expect(output.contains("autoresearch run --tag fast"), "\(output)")
        let (_, shown) = try await cli.autoresearch(["status", "--workspace", gpt.root.path], in: scratch.base)
        #expect(shown.contains("tag fast") && shown.contains("tensor core: from \(tc.root.path) tag engine"), "\(shown)")
    }

    @Test func theCommandShowsTheChangeThenWritesTheSourceTreeOnlyWhenAsked() async throws {
        let scratch = Scratch()
        let tree = try copySourceTree(into: scratch)
        let tc = try scratch.workspace("tc", template: "tensorcore", sourceRoot: tree)
        try research(tc)
        let cli = CLITests(), home = ["AUTORESEARCH_HOME": tree.path]
        let original = try String(contentsOf: tree.appendingPathComponent(Self.matmul), encoding: .utf8)
        let (dry, shown) = try await cli.autoresearch(["adopt-core", tc.root.path], in: scratch.base, environment: home)
        #expect(dry == .exited(0) && shown.contains("GEMM_THREAD_GRAIN 16 → 32") && shown.contains("nothing written"), "\(shown)")
        #expect(try String(contentsOf: tree.appendingPathComponent(Self.matmul), encoding: .utf8) == original)
        let (both, refused) = try await cli.autoresearch(["adopt-core", tc.root.path, "--into-source-tree", "--workspace", tc.root.path], in: scratch.base, environment: home)
        #expect(both != .exited(0) && refused.contains("exclude each other"), "\(refused)")

        let (status, written) = try await cli.autoresearch(["adopt-core", tc.root.path, "--into-source-tree"], in: scratch.base, environment: home)
        #expect(status == .exited(0) && written.contains("wrote 1 file(s) into \(tree.path)/Sources/TensorCore"), "\(written)")
        #expect(try String(contentsOf: tree.appendingPathComponent(Self.matmul), encoding: .utf8).contains("GEMM_THREAD_GRAIN = 32"))
        #expect(FileManager.default.fileExists(atPath: tree.appendingPathComponent("Templates/gpt/core-source.json").path))
        let (_, again) = try await cli.autoresearch(["adopt-core", tc.root.path], in: scratch.base, environment: home)
        #expect(again.contains("already has this core"), "\(again)")
    }

    @Test func initWithACoreVendorsItAndRecordsItsSource() throws {
        let scratch = Scratch()
        let tc = try scratch.workspace("tc", template: "tensorcore")
        let kept = try #require(try research(tc))
        var options = WorkspaceOptions(template: "gpt", timeBudget: 5, dataDirectory: scratch.url("data").path)
        options.core = try tc.bestCore()
        let gpt = try Workspace.create(at: scratch.url("gpt"), options: options)
        #expect(try String(contentsOf: gpt.root.appendingPathComponent(Self.matmul), encoding: .utf8).contains("GEMM_THREAD_GRAIN = 32"))
        #expect(gpt.manifest.fixed[Self.matmul] == options.core!.hashes[Self.matmul])
        try gpt.verifyFixed(in: gpt.root)
        let head = try gpt.git.revParse("HEAD")
        let record = try #require(try Ledger(url: gpt.ledgerURL).core(commit: head))
        #expect(record.sourceCommit == kept && record.sourceTag == "engine" && record.tag == nil)
        #expect(try gpt.git.run(["log", "-1", "--format=%s"]).contains("with the core of \(tc.root.path) tag engine"))

        // The next round of engine research can start from it too; a template without the core refuses.
        options.template = "tensorcore"
        let next = try Workspace.create(at: scratch.url("tc2"), options: options)
        #expect(try String(contentsOf: next.root.appendingPathComponent(Self.matmul), encoding: .utf8).contains("GEMM_THREAD_GRAIN = 32"))
        options.template = "quadratic"
        let refused = #expect(throws: HarnessError.self) { try Workspace.create(at: scratch.url("q"), options: options) }
        #expect("\(refused!)".contains("does not vendor the tensor core"))
        #expect(!FileManager.default.fileExists(atPath: scratch.url("q").path), "a failed init leaves nothing behind")
    }
}
