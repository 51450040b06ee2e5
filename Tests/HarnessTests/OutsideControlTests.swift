import AutoResearchCore
import Foundation
import Testing
@testable import Harness

/// Stop, pause and resume from outside a running loop (`LoopControl`), and proposals queued from outside (`ProposalInbox`).
@Suite struct OutsideControlTests {
    /// Starts a loop over `steps` learning rates in the background and returns it with its task.
    func startLoop(_ workspace: Workspace, experiments: Int) throws -> (ResearchLoop, RecordingDisplay, Task<RunSummary, Error>) {
        let steps = ["0.003", "0.005", "0.002", "0.02", "0.03"].map { ScriptedResearcher.Step.set([("LEARNING_RATE", $0)], "LEARNING_RATE → \($0)") }
        var options = RunOptions(tag: "t1", experiments: experiments, baselineRuns: 1)
        options.allowUntrusted = true
        let display = RecordingDisplay()
        let loop = try ResearchLoop(workspace: workspace, researcher: ScriptedResearcher(steps), options: options, display: display)
        return (loop, display, Task { try await loop.run() })
    }

    /// Waits until experiment `number` of tag t1 exists (up to 60 s).
    func waitFor(_ number: Int, in loop: ResearchLoop, decided: Bool = false) async throws -> ExperimentRecord {
        for _ in 0..<600 {
            if let record = try? loop.ledger.experiments(tag: "t1").first(where: { $0.number == number }),
               !decided || record.experimentStatus != .running { return record }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw HarnessError.other("experiment \(number) did not \(decided ? "finish" : "start") within 60 s")
    }

    @Test func aStopLetsTheExperimentInFlightFinishAndStartsNoOther() async throws {
        let standIn = try StandIn(sleep: 0.5); defer { standIn.remove() }
        let workspace = try standIn.makeWorkspace()
        let (loop, _, task) = try startLoop(workspace, experiments: 5)
        _ = try await waitFor(1, in: loop)
        try LoopControl(workspace: workspace).send(.stop, by: "dashboard")
        let summary = try await task.value
        #expect(summary.stopReason == .stopRequested)
        #expect(summary.experimentsRun == 1)
        let records = try loop.ledger.experiments(tag: "t1")
        #expect(records.map(\.number) == [0, 1])
        #expect([.keep, .discard].contains(records[1].experimentStatus))  // finished and decided, not interrupted
    }

    @Test func aPauseHoldsTheNextExperimentUntilResume() async throws {
        let standIn = try StandIn(sleep: 0.3); defer { standIn.remove() }
        let workspace = try standIn.makeWorkspace()
        let (loop, display, task) = try startLoop(workspace, experiments: 2)
        _ = try await waitFor(1, in: loop)
        let control = LoopControl(workspace: workspace)
        try control.send(.pause, by: "dashboard")
        _ = try await waitFor(1, in: loop, decided: true)
        try await Task.sleep(nanoseconds: 2_500_000_000)
        #expect(try loop.ledger.experiments(tag: "t1").map(\.number) == [0, 1])
        let notes = await display.events.compactMap { event -> String? in if case .note(let text) = event { text } else { nil } }
        #expect(notes.contains("paused by dashboard: no new experiment starts until it is resumed"))
        try control.send(.resume, by: "mcp")
        let summary = try await task.value
        #expect(summary.stopReason == .experimentLimit)
        #expect(try loop.ledger.experiments(tag: "t1").map(\.number) == [0, 1, 2])
        let after = await display.events.compactMap { event -> String? in if case .note(let text) = event { text } else { nil } }
        #expect(after.contains("resumed by mcp (paused by dashboard)"))
    }

    @Test func aStopAskedWhileNoRunWasActiveDoesNotStopTheNextRun() async throws {
        let standIn = try StandIn(); defer { standIn.remove() }
        let workspace = try standIn.makeWorkspace()
        try LoopControl(workspace: workspace).send(.stop, by: "mcp")
        let (summary, records) = try await runLoop(workspace, ScriptedResearcher([.set([("LEARNING_RATE", "0.003")], "lr")]),
                                                   experiments: 1, baselineRuns: 1)
        #expect(summary.stopReason == .experimentLimit)
        #expect(records.map(\.number) == [0, 1])
        #expect(LoopControl(workspace: workspace).request() == nil)
    }

    @Test func outsideProposalsAreCheckedBeforeTheyAreQueued() throws {
        let standIn = try StandIn(); defer { standIn.remove() }
        let workspace = try standIn.makeWorkspace()
        let source = try String(contentsOf: workspace.root.appendingPathComponent("train.py"), encoding: .utf8)
        func prepare(_ description: String = "lr", files: [String: String]? = nil, diff: String? = nil) -> String {
            do {
                _ = try ProposalInbox.prepare(workspace: workspace, tag: nil, description: description, hypothesis: "",
                                              files: files, diff: diff, source: "mcp")
                return "accepted"
            } catch { return "\(error)" }
        }
        let head = String(try workspace.git.revParse("HEAD").prefix(12))
        #expect(prepare("  ", files: ["train.py": "x"]) == "the proposal has no description; give one line that says what changes (e.g. \"LEARNING_RATE 0.002 → 0.003\")")
        #expect(prepare() == "give either `files` (new contents of editable files) or `diff` (a unified diff against the best commit \(head)), not both or neither")
        #expect(prepare(files: ["train.py": "x"], diff: "x") == prepare())
        #expect(prepare(files: [:]) == "the proposal's files are empty; give the new content of at least one editable file")
        #expect(prepare(files: ["train.py": source]) == "the proposal changes nothing against the best commit \(head)")
        #expect(prepare(diff: "not a diff") == "the diff cannot be read as a unified diff (error: No valid patches in input (allow with \"--allow-empty\")); write it as `git diff` does, with a/ and b/ paths")
        let stale = "diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -1,1 +1,1 @@\n-no such line\n+LEARNING_RATE = 1\n"
        #expect(prepare(diff: stale).hasPrefix("the diff does not apply to the best commit \(head) (error: patch failed: train.py:1)"))
        #expect(prepare(files: ["train.py": StandIn.setting([("WIDTH", "128")], in: source)]) == "accepted")
    }

    @Test func theInboxHandsOutEachEntryOnceOldestFirstAndSkipsUnreadableOnes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inbox-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let inbox = ProposalInbox(stateDirectory: directory)
        #expect(inbox.take() == nil)
        let first = ProposalInbox.Entry(files: ["train.py": "a"], description: "first", hypothesis: "", source: "mcp", queuedAt: Date(timeIntervalSince1970: 1000))
        let second = ProposalInbox.Entry(files: ["train.py": "b"], description: "second", hypothesis: "h", source: "mcp", queuedAt: Date(timeIntervalSince1970: 2000))
        try inbox.queue(second)
        try inbox.queue(first)
        try Data("{".utf8).write(to: inbox.directory.appendingPathComponent("0500.000000-broken.json"))
        #expect(inbox.pending().map(\.description) == ["first", "second"])
        #expect(inbox.take() == first)
        #expect(inbox.take() == second)
        #expect(inbox.take() == nil)
        let names = try FileManager.default.contentsOfDirectory(atPath: inbox.directory.path).sorted()
        #expect(names.filter { $0.hasSuffix(".unreadable") } == ["0500.000000-broken.json.unreadable"])
        #expect(names.filter { $0.hasSuffix(".taken") }.count == 2)
        #expect(first.proposal == Proposal(files: ["train.py": "a"], description: "first", hypothesis: "", move: "queued"))
    }

    @Test func aProposalQueuedBeforeAKeepIsCarriedOntoTheNewBestAndAClashIsNamed() throws {
        let standIn = try StandIn(); defer { standIn.remove() }
        let workspace = try standIn.makeWorkspace()
        let git = workspace.git
        let source = try String(contentsOf: workspace.root.appendingPathComponent("train.py"), encoding: .utf8)
        func entry(_ assignments: [(String, String)]) throws -> ProposalInbox.Entry {
            try ProposalInbox.prepare(workspace: workspace, tag: nil, description: "change", hypothesis: "",
                                      files: ["train.py": StandIn.setting(assignments, in: source)], diff: nil, source: "mcp")
        }
        let base = try git.revParse("HEAD")
        let bonus = try entry([("BONUS", "0.5")]), clash = try entry([("LEARNING_RATE", "0.02")])
        #expect(bonus.base == base)
        #expect(try bonus.rebased(onto: base, git: git) == bonus.files)   // the best has not moved: as proposed
        // A keep moves the best: LEARNING_RATE 0.003.
        try StandIn.setting([("LEARNING_RATE", "0.003")], in: source)
            .write(to: workspace.root.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
        try git.run(["add", "train.py"])
        let best = try git.commit("LEARNING_RATE 0.003")
        #expect(try bonus.rebased(onto: best, git: git) == ["train.py": StandIn.setting([("LEARNING_RATE", "0.003"), ("BONUS", "0.5")], in: source)])
        #expect(throws: HarnessError.other("the queued proposal was made against \(base.prefix(12)) and the best has since changed the same lines of train.py (now \(best.prefix(12))); propose it again against the current best")) {
            try clash.rebased(onto: best, git: git)
        }
        var old = bonus; old.base = nil   // queued before entries recorded their base: taken as it is
        #expect(try old.rebased(onto: best, git: git) == bonus.files)
    }
}
