import Foundation
import SubjectKit
import Testing
@testable import Harness

/// The product end to end: the real GPT workspace (release build of train.swift and the tensor core),
/// the real Shakespeare data, the search researcher, a 2-second time budget and a few experiments.
@Suite struct GPTEndToEndTests {
    @Test(.timeLimit(.minutes(15)))
    func gptWorkspaceRunsBaselineAndExperimentsOnTheRealData() async throws {
        let corpus = try Corpus.prepareShakespeare()
        let cli = CLITests()
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("gpt-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let workspace = base.appendingPathComponent("ws")

        let (initStatus, initOutput) = try await cli.autoresearch(
            ["init", workspace.path, "--time-budget", "2", "--data-dir", corpus.directory.path], in: base)
        #expect(initStatus == .exited(0), "\(initOutput)")

        let (runStatus, runOutput) = try await cli.autoresearch(
            ["run", "--workspace", workspace.path, "--tag", "e2e", "--experiments", "2", "--baseline-runs", "2"],
            in: base, timeout: 900)
        #expect(runStatus == .exited(0), "\(runOutput.suffix(3000))")
        #expect(runOutput.contains("val_bpb: baseline"))

        let (resultsStatus, tsv) = try await cli.autoresearch(["results", "--workspace", workspace.path, "--tag", "e2e"], in: base)
        #expect(resultsStatus == .exited(0))
        let rows = tsv.split(separator: "\n").map(String.init)
        #expect(rows.first == "commit\tval_bpb\tmemory_gb\tstatus\tdescription")
        // The baseline plus two experiments, each keep / discard / crash.
        #expect(rows.count == 4, "\(tsv)")
        let baseline = rows[1].split(separator: "\t").map(String.init)
        #expect(baseline[3] == "keep" && baseline[4] == "baseline")
        // After 2 s of training a byte-level model is between the uniform 8 bits and a trained model's ~2.
        let bpb = Double(baseline[1]) ?? 0
        #expect(bpb > 2 && bpb < 8, "baseline val_bpb \(bpb)")
        for row in rows.dropFirst(2) {
            #expect(["keep", "discard", "crash"].contains(row.split(separator: "\t").map(String.init)[3]), "\(row)")
        }
        #expect(FileManager.default.fileExists(atPath: workspace.appendingPathComponent("report.md").path))
        #expect(FileManager.default.fileExists(atPath: workspace.appendingPathComponent("progress.svg").path))

        // A NaN-producing learning rate fails fast: FAIL and a non-zero exit long before a 60 s budget.
        let slot = workspace.appendingPathComponent(".autoresearch/worktrees/slot-0")
        let trainFile = slot.appendingPathComponent("Sources/train/train.swift")
        let source = try String(contentsOf: trainFile, encoding: .utf8)
        let rate = try #require(source.split(separator: "\n").first { $0.hasPrefix("let LEARNING_RATE = ") })
        try source.replacingOccurrences(of: String(rate), with: "let LEARNING_RATE = 1e30")
            .write(to: trainFile, atomically: true, encoding: .utf8)
        let started = Date()
        let (nanStatus, nanOutput) = try await cli.run(
            "swift build -c release --product train >/dev/null && .build/release/train", in: slot, timeout: 300,
            environment: ["AUTORESEARCH_TIME_BUDGET": "60", "AUTORESEARCH_DATA_DIR": corpus.directory.path])
        #expect(nanStatus == .exited(1), "\(nanOutput.suffix(2000))")
        #expect(nanOutput.contains("FAIL: loss is"), "\(nanOutput.suffix(2000))")
        #expect(!nanOutput.contains("val_bpb:"))
        #expect(Date().timeIntervalSince(started) < 60 + 30, "must stop at the first NaN, not after the budget")
    }
}
