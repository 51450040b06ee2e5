import AgentResearcher
import AutoResearchCore
import Foundation
import SubjectKit
import TestSupport
import Testing
@testable import Harness

/// The PyTorch subject end to end on this machine: `init --template pytorch` makes the workspace's Python
/// environment (CPU torch from the pinned requirements), the search researcher runs a baseline and an experiment
/// on the real Shakespeare data with a budget of 40 steps, and the trusted-evaluation attacks are stopped as they are
/// for the Swift subject. One workspace (one environment) serves every check.
@Suite(.serialized) struct PyTorchSubjectTests {
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("TestSupport/Fixtures")
    }

    @Test(.timeLimit(.minutes(25)), .enabled(if: Sandbox.detect().isSuccess, "needs bubblewrap (apt-get install bubblewrap)"))
    func thePyTorchSubjectRunsTrustedEndToEnd() async throws {
        let corpus = try Corpus.prepareShakespeare()
        let cli = CLITests()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pytorch-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let root = base.appendingPathComponent("ws")

        // init makes .venv from the pinned requirements and records the versions in the manifest.
        let (initStatus, initOutput) = try await cli.autoresearch(
            ["init", root.path, "--template", "pytorch", "--time-budget", "30", "--token-budget", "40960", "--data-dir", corpus.directory.path], in: base, timeout: 1800)
        #expect(initStatus == .exited(0), "\(initOutput)")
        #expect(initOutput.contains("python:   .venv (numpy 2.4.6, python 3."), "\(initOutput)")
        let manifest = try Manifest.load(workspace: root)
        let python = try #require(manifest.python)
        #expect(python.versions["torch"]?.hasPrefix("2.13.0") == true, "\(python.versions)")
        #expect(python.versions["numpy"] == "2.4.6")
        #expect(FileManager.default.isExecutableFile(atPath: root.appendingPathComponent(".venv/bin/python").path))
        #expect(manifest.fixed["subject.py"] != nil && manifest.fixed["requirements.txt"] != nil && manifest.fixed["train.py"] == nil)
        #expect(try Git(root).run(["status", "--porcelain"]).isEmpty, ".venv must not show up in git")
        // A token budget (40 steps), so that the heavy suites beside it change how long a run takes, not what it learns;
        // and grace for the runs that time themselves (importing torch took 44 s once on the loaded machine).
        let manifestURL = root.appendingPathComponent(Manifest.fileName)
        try String(contentsOf: manifestURL, encoding: .utf8).replacingOccurrences(of: "training_grace_seconds = 15.0", with: "training_grace_seconds = 120.0")
            .write(to: manifestURL, atomically: true, encoding: .utf8)
        try Git(root).run(["add", Manifest.fileName])
        try Git(root).commit("a grace of 120 s")

        // The search researcher: a baseline and one hyperparameter move, results.tsv in autoresearch's format.
        let (runStatus, runOutput) = try await cli.autoresearch(
            ["run", "--workspace", root.path, "--tag", "search", "--experiments", "1", "--baseline-runs", "1"], in: base, timeout: 900)
        #expect(runStatus == .exited(0), "\(runOutput.suffix(3000))")
        let (_, tsv) = try await cli.autoresearch(["results", "--workspace", root.path, "--tag", "search"], in: base)
        let rows = tsv.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.count == 3, "\(tsv)")
        if rows.count == 3 {
            #expect(rows[1][3] == "keep" && rows[1][4] == "baseline")
            let bpb = Double(rows[1][1]) ?? 0
            #expect(bpb > 2 && bpb < 6, "baseline val_bpb \(bpb) after 40 steps of 8 × 128 bytes (uniform: 8)")
            let names = try HyperparameterNames.of(root.appendingPathComponent("train.py"))
            #expect(names.contains { rows[2][4].hasPrefix($0 + " ") }, "the search researcher moved \(rows[2][4])")
        }
        let log = try String(contentsOf: root.appendingPathComponent(".autoresearch/logs/search/0.log"), encoding: .utf8)
        #expect(log.contains("computed by the harness); causality probe passed"))
        #expect(log.contains("torch 2.13.0"), "the run says which torch and kernel it used")

        // A missing environment is a clear error with the command that makes it again; wrong versions name both.
        let venv = root.appendingPathComponent(".venv"), moved = root.appendingPathComponent(".venv-moved")
        try FileManager.default.moveItem(at: venv, to: moved)
        let (missingStatus, missing) = try await cli.autoresearch(["run", "--workspace", root.path, "--tag", "search", "--experiments", "1"], in: base)
        try FileManager.default.moveItem(at: moved, to: venv)
        #expect(missingStatus == .exited(1))
        #expect(missing.contains("error: the workspace's Python environment .venv is missing (no .venv/bin/python); make it again with: autoresearch python-env --workspace \(root.path)"), "\(missing)")
        var wrong = python
        wrong.versions["torch"] = "9.9.9"
        #expect(throws: HarnessError.other("the workspace's Python environment .venv does not have the versions its manifest records (torch \(python.versions["torch"]!) instead of 9.9.9); make it again with: autoresearch python-env --workspace \(root.path)")) {
            try PythonEnvironment.verify(wrong, root: root)
        }

        // The attacks of the trusted-evaluation suite, through a command researcher; no keep on noise here.
        try String(contentsOf: manifestURL, encoding: .utf8).replacingOccurrences(of: "min_delta = 0.002", with: "min_delta = 5.0")
            .write(to: manifestURL, atomically: true, encoding: .utf8)
        try Git(root).run(["add", Manifest.fileName])
        try Git(root).commit("no keeps on noise")
        // The agent runs confined: it reads its script and writes its counter, nothing else of the host.
        let agentFolder = base.appendingPathComponent("agent")
        try FileManager.default.createDirectory(at: agentFolder, withIntermediateDirectories: true)
        let counter = agentFolder.appendingPathComponent("attack-count").path
        let command = "n=$(( $(cat \(counter) 2>/dev/null || echo 0) + 1 )); echo $n > \(counter); "
            + "/usr/bin/python3 \(Self.fixtures.appendingPathComponent("pytorch_attacks.py").path) $n \(corpus.directory.path)"
        var options = RunOptions(tag: "attacks", experiments: 4, baselineRuns: 1)
        options.researcherFailurePause = 0
        let loop = try ResearchLoop(workspace: try Workspace.open(root), researcher: CommandResearcher(template: command, timeout: 120, buildFixAttempts: 0,
                                                                                                     access: AgentAccess(readOnly: [Self.fixtures.path], writable: [agentFolder.path])),
                                    options: options, display: RecordingDisplay())
        #expect(loop.trust.trusted, "\(loop.trust.summary)")
        _ = try await loop.run()
        let records = try loop.ledger.experiments(tag: "attacks")
        func attack(_ n: Int) throws -> (record: ExperimentRecord, log: String) {
            let r = try #require(records.first { $0.description.hasPrefix("attack \(n):") }, "attack \(n) did not run: \(records.map(\.description))")
            return (r, r.logPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "")
        }
        #expect(!records.contains { $0.experimentStatus == .keep }, "\(records.map { "\($0.number) \($0.status) \($0.description)" })")

        // 1. A forged summary block is logged, never scored.
        let forged = try attack(1)
        #expect(forged.record.experimentStatus == .discard)
        #expect((forged.record.metric ?? 0) > 2 && (forged.record.metric ?? 0) < 8, "scored \(forged.record.metric ?? -1)")
        #expect(forged.log.contains("val_bpb:          0.100000"))
        // 2. The training process cannot read the validation or test split.
        let reads = try attack(2)
        for file in ["val.txt", "test.txt"] {
            #expect(reads.log.contains("ATTACK read \(file) in \(corpus.directory.path): blocked"), "\(reads.log.suffix(3000))")
        }
        #expect(!reads.log.contains(": READ"))
        #expect(reads.record.experimentStatus == .discard)
        // 3. Non-causal attention fails the causality probe.
        let ahead = try attack(3)
        #expect(ahead.record.experimentStatus == .invalid, "\(ahead.record.status): \(ahead.record.error ?? "")")
        #expect(ahead.record.error?.hasPrefix("causality probe: the output at position") == true, "\(ahead.record.error ?? "")")
        // 4. A learning rate that turns the loss NaN fails fast, at the first bad step.
        let nan = try attack(4)
        #expect(nan.record.experimentStatus == .crash)
        let failure = try #require(nan.record.error?.components(separatedBy: "FAIL: loss is nan at step ").last, "\(nan.record.error ?? "")")
        let step = Int(failure.prefix { $0.isNumber }) ?? .max
        #expect(step < 5, "stopped at the first NaN step, not at the end of the budget: \(nan.record.error ?? "")")
        // The hidden test split was measured for the baseline, by the harness.
        #expect(records.first { $0.experimentStatus == .baseline }?.testBPB != nil)
    }

    @Test func anInterpreterThatDoesNotRunIsAClearErrorAndLeavesNothing() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pytorch-bad-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: base) }
        let root = base.appendingPathComponent("ws")
        var options = WorkspaceOptions(template: "pytorch", dataDirectory: "")
        options.python = base.appendingPathComponent("no-python").path
        #expect(throws: HarnessError.other("the Python interpreter '\(options.python!)' does not run; install Python 3.10 or later, or name one with --python PATH")) {
            try Workspace.create(at: root, options: options)
        }
        #expect(!FileManager.default.fileExists(atPath: root.path))
    }

    @Test func requirementNamesAreReadFromPinnedLines() {
        #expect(PythonEnvironment.requirementNames("# pinned\ntorch==2.13.0\nnumpy==2.4.6  # arrays\n\n-r other.txt\ntyping_extensions==4.16.0\n")
                == ["torch", "numpy", "typing_extensions"])
    }
}

/// The hyperparameter names of an editable file, for tests.
enum HyperparameterNames {
    static func of(_ url: URL) throws -> [String] {
        let source = try String(contentsOf: url, encoding: .utf8)
        return source.split(separator: "\n").compactMap { line in
            let name = line.prefix { $0.isUppercase || $0 == "_" || $0.isNumber }
            return name.count >= 2 && line.dropFirst(name.count).hasPrefix(" = ") ? String(name) : nil
        }
    }
}
