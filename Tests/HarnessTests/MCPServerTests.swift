import AutoResearchCore
import Foundation
import MCP
import SystemPackage
import Testing
@testable import Harness

/// `autoresearch mcp` as an MCP client sees it: the real binary over stdio, driven by the MCP Swift SDK's client,
/// while a real loop runs the stand-in subject in the same workspace.
@Suite struct MCPServerTests {
    /// The server process and a connected client.
    final class Connection {
        let process = Process()
        let client = Client(name: "autoresearch-tests", version: "1.0")
        private let toServer = Pipe(), fromServer = Pipe()

        init(workspace: URL) async throws {
            process.executableURL = try CLITests().binary()
            process.arguments = ["mcp", "--workspace", workspace.path]
            process.standardInput = toServer
            process.standardOutput = fromServer
            process.standardError = FileHandle.nullDevice
            try process.run()
            let transport = StdioTransport(input: FileDescriptor(rawValue: fromServer.fileHandleForReading.fileDescriptor),
                                           output: FileDescriptor(rawValue: toServer.fileHandleForWriting.fileDescriptor))
            _ = try await client.connect(transport: transport)
        }

        /// Calls `tool` and returns its text and whether it is an error.
        func call(_ tool: String, _ arguments: [String: Value] = [:]) async throws -> (text: String, isError: Bool) {
            let (content, isError) = try await client.callTool(name: tool, arguments: arguments)
            let text = content.compactMap { item -> String? in if case .text(let text, _, _) = item { return text } else { return nil } }
            return (text.joined(separator: "\n"), isError ?? false)
        }

        func close() async {
            await client.disconnect()
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    @Test func aClientReadsTheLedgerQueuesAnExperimentThatRunsAndIsRefusedAProtectedFile() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let workspace = try standIn.makeWorkspace()
        _ = try await runLoop(workspace, ScriptedResearcher([]), tag: "t1", experiments: 0, baselineRuns: 2)

        let mcp = try await Connection(workspace: workspace.root)
        let (tools, _) = try await mcp.client.listTools()
        #expect(tools.map(\.name) == ["status", "results", "show", "notes", "add_note", "propose", "stop"])

        let status = try await mcp.call("status")
        #expect(!status.isError)
        #expect(status.text.contains("tag t1") || status.text.contains("t1"))
        #expect(status.text.contains("baseline"))

        // A change to a file that is not editable: refused at once, in the researchers' words; as a diff too.
        let refusal = "the proposal changes data.txt, which autoresearch.toml does not list as editable (editable: train.py)"
        let refused = try await mcp.call("propose", ["description": "edit the data", "files": .object(["data.txt": "changed\n"])])
        #expect(refused.isError)
        #expect(refused.text == "error: " + refusal)
        let dataDiff = "diff --git a/data.txt b/data.txt\n--- a/data.txt\n+++ b/data.txt\n@@ -1 +1 @@\n-fixed data\n+changed\n"
        let refusedDiff = try await mcp.call("propose", ["description": "edit the data", "diff": .string(dataDiff)])
        #expect(refusedDiff.text == "error: " + refusal)
        #expect(ProposalInbox(workspace: workspace).pending().isEmpty)

        // A real change as a unified diff against the best: queued.
        // (made as a user would: edit the file, `git diff`, put the file back)
        let trainPy = workspace.root.appendingPathComponent("train.py")
        let source = try String(contentsOf: trainPy, encoding: .utf8)
        try StandIn.setting([("LEARNING_RATE", "0.003")], in: source).write(to: trainPy, atomically: true, encoding: .utf8)
        let hunk = try workspace.git.run(["diff", "--", "train.py"])
        try source.write(to: trainPy, atomically: true, encoding: .utf8)
        let queued = try await mcp.call("propose", ["description": "LEARNING_RATE 0.01 → 0.003", "hypothesis": "closer to the optimum", "diff": .string(hunk)])
        #expect(!queued.isError, "\(queued.text)")
        #expect(queued.text.hasPrefix("queued: LEARNING_RATE 0.01 → 0.003 (changes train.py;"))
        #expect(try await mcp.call("status").text.contains("queued proposals: 1 (LEARNING_RATE 0.01 → 0.003)"))
        let note = try await mcp.call("add_note", ["text": "try the learning rate first"])
        #expect(note.text == "note added to tag t1 by mcp\n")

        // The loop takes it before its own researcher (which has nothing to propose) and decides it as usual.
        let (_, records) = try await runLoop(workspace, ScriptedResearcher([]), tag: "t1", experiments: 1)
        let experiment = try #require(records.first { $0.number == 1 })
        #expect(experiment.researcher == "mcp (queued)")
        #expect(experiment.description == "LEARNING_RATE 0.01 → 0.003")
        #expect(experiment.hypothesis == "closer to the optimum")
        #expect([.keep, .discard].contains(experiment.experimentStatus))
        #expect(experiment.diff?.contains("+LEARNING_RATE = 0.003") == true)
        #expect(ProposalInbox(workspace: workspace).pending().isEmpty)

        let results = try await mcp.call("results", ["limit": 1])
        #expect(results.text.components(separatedBy: "\n").filter { !$0.isEmpty }.count == 2)
        #expect(results.text.contains("LEARNING_RATE 0.01 → 0.003"))
        #expect(try await mcp.call("show", ["number": 1]).text.contains("LEARNING_RATE 0.01 → 0.003"))
        let kept = try await mcp.call("results", ["status": "keep"])
        #expect(kept.text.contains("\tkeep\tbaseline") && !kept.text.contains("\tdiscard\t"))
        let running = try await mcp.call("results", ["status": "running"])
        #expect(running.isError && running.text == "error: results.tsv has no status 'running'; its statuses are keep, discard, crash")
        #expect(try await mcp.call("notes").text.contains("mcp:\ntry the learning rate first"))
        let unknown = try await mcp.call("show", ["number": "one"])
        #expect(unknown.isError && unknown.text == "error: the tool show's argument `number` must be a whole number")

        let program = try await mcp.client.readResource(uri: "autoresearch://program.md")
        #expect(program.first?.text == "# Stand-in subject\nLower val_bpb.\n")
        let report = try await mcp.client.readResource(uri: "autoresearch://report.md")
        #expect(report.first?.text?.contains("LEARNING_RATE 0.01 → 0.003") == true)
        let chart = try await mcp.client.readResource(uri: "autoresearch://progress.svg")
        #expect(chart.first?.text?.hasPrefix("<svg") == true || chart.first?.text?.contains("<svg") == true)

        let stop = try await mcp.call("stop")
        #expect(stop.text.hasPrefix("stop requested"))
        #expect(LoopControl(workspace: workspace).request()?.by == "mcp")
        #expect(LoopControl(workspace: workspace).state == .stopping)
        await mcp.close()
    }

    /// The red team's finding 6: MCP `status`, `results` (wide), `show` and the report and chart resources handed
    /// test_bpb to a client. A client is a researcher: none of them carries the hidden test split's score now, while
    /// the owner's `autoresearch status` still does.
    @Test func noToolOrResourceCarriesTheHiddenTestScore() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let workspace = try standIn.makeWorkspace()
        let (_, records) = try await runLoop(workspace, ScriptedResearcher([]), tag: "t1", experiments: 0, baselineRuns: 1)
        let ledger = try Ledger(url: workspace.ledgerURL)
        var baseline = try #require(records.first { $0.experimentStatus == .baseline })
        baseline.testBPB = 7.654321
        try ledger.save(baseline)
        #expect(try TagReports(workspace: workspace, tag: "t1").status().text.contains("7.654321"), "the owner sees it")

        let mcp = try await Connection(workspace: workspace.root)
        var seen: [String] = []
        seen.append(try await mcp.call("status").text)
        seen.append(try await mcp.call("results", ["wide": true]).text)
        seen.append(try await mcp.call("show", ["number": .int(baseline.number)]).text)
        for uri in ["autoresearch://report.md", "autoresearch://progress.svg"] {
            seen.append(try await mcp.client.readResource(uri: uri).compactMap(\.text).joined())
        }
        // Finding 11: notes and proposals have a size limit (every researcher reads them).
        let long = try await mcp.call("add_note", ["text": .string(String(repeating: "x", count: 8_001))])
        #expect(long.isError && long.text == "error: the note has 8001 characters; a note holds at most 8000: say it shorter", "\(long.text)")
        await mcp.close()
        for text in seen {
            #expect(!text.contains("7.654321") && !text.contains("7.65432"), "\(text.prefix(3000))")
            #expect(!text.contains("test_bpb") && !text.contains("hidden test"), "\(text.prefix(3000))")
        }
    }

    /// The refusal an outside proposal gets is the one a researcher's proposal gets in the ledger.
    @Test func aResearcherProposingAProtectedFileGetsTheSameRefusal() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let workspace = try standIn.makeWorkspace()
        let (_, records) = try await runLoop(workspace, ScriptedResearcher([.files(["data.txt": "changed\n"], "edit the data")]),
                                             tag: "t1", experiments: 1, baselineRuns: 1)
        let refused = try #require(records.first { $0.number == 1 })
        #expect(refused.experimentStatus == .researcherError)
        #expect(refused.error == workspace.manifest.refusal(changing: ["data.txt"]))
        #expect(refused.error == "the proposal changes data.txt, which autoresearch.toml does not list as editable (editable: train.py)")
    }
}
