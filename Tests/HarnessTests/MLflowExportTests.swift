import AutoResearchCore
import Foundation
import TestSupport
import Testing
@testable import Harness
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The MLflow export against a real `mlflow server` (PyPI `mlflow`, installed by scripts/mlflow-server.sh): `run
/// --mlflow` logs each experiment as it finishes, `export` run again adds nothing, and a server that is down never
/// stops the research.
@Suite(.serialized) struct MLflowExportTests {
    /// The runs of an MLflow experiment, by `autoresearch.key`: (status, tags, metrics, params).
    func runs(_ uri: String, experiment: String) async throws -> [String: (status: String, tags: [String: String], metrics: [String: Double], params: [String: String])] {
        let client = try MLflowClient(uri: uri)
        let found = try await client.call("runs/search", post: ["experiment_ids": [experiment], "max_results": 1000])
        var out: [String: (String, [String: String], [String: Double], [String: String])] = [:]
        for run in (found["runs"] as? [[String: Any]]) ?? [] {
            let info = run["info"] as? [String: Any] ?? [:], data = run["data"] as? [String: Any] ?? [:]
            func pairs(_ key: String) -> [[String: Any]] { data[key] as? [[String: Any]] ?? [] }
            let tags = Dictionary(pairs("tags").map { ($0["key"] as! String, $0["value"] as! String) }, uniquingKeysWith: { a, _ in a })
            let metrics = Dictionary(pairs("metrics").map { ($0["key"] as! String, ($0["value"] as? NSNumber)?.doubleValue ?? .nan) }, uniquingKeysWith: { a, _ in a })
            let params = Dictionary(pairs("params").map { ($0["key"] as! String, $0["value"] as! String) }, uniquingKeysWith: { a, _ in a })
            out[tags["autoresearch.key"] ?? "?"] = (info["status"] as? String ?? "?", tags, metrics, params)
        }
        return out
    }

    @Test(.timeLimit(.minutes(10)), .enabled(if: MLflowServer.configured != nil, "run scripts/mlflow-server.sh to install MLflow"))
    func experimentsAreLoggedOnceEachToARealMLflowServer() async throws {
        let server = try await MLflowServer(python: MLflowServer.configured!)
        let standIn = try StandIn(noise: 0.001)
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        var options = RunOptions(tag: "ml", experiments: 2, baselineRuns: 2)
        options.allowUntrusted = true
        options.researcherFailurePause = 0
        options.mlflow = server.uri
        let researcher = ScriptedResearcher([.set([("LEARNING_RATE", "0.003")], "LEARNING_RATE 0.01 → 0.003"),
                                             .set([("BEHAVIOR", "\"fail\"")], "a run that fails")])
        let loop = try ResearchLoop(workspace: ws, researcher: researcher, options: options, display: RecordingDisplay())
        _ = try await loop.run()
        let records = try loop.ledger.experiments(tag: "ml")
        #expect(records.count == 3)

        let client = try MLflowClient(uri: server.uri)
        let experiment = try await client.experiment(named: "\(ws.manifest.name)/ml")
        let logged = try await runs(server.uri, experiment: experiment)
        #expect(Set(logged.keys) == ["ml/0", "ml/1", "ml/2"], "\(logged.keys)")
        for r in records {
            let run = try #require(logged["ml/\(r.number)"])
            #expect(run.tags["status"] == r.status && run.tags["description"] == r.description && run.tags["commit"] == r.commit)
            #expect(run.tags["scored_by"] == "self-reported")
            #expect(run.status == (r.experimentStatus == .crash ? "FAILED" : "FINISHED"))
            // The value when the experiment finished (a later re-measure of the best moves the ledger's by a little).
            if let metric = r.metric { #expect(abs((run.metrics["val_bpb"] ?? .nan) - metric) < 0.01) } else { #expect(run.metrics["val_bpb"] == nil) }
        }
        #expect(logged["ml/1"]?.params["LEARNING_RATE"] == "0.003" && logged["ml/0"]?.params["LEARNING_RATE"] == "0.01")
        #expect(logged["ml/2"]?.tags["error"]?.contains("FAIL: loss is NaN at step 3") == true)
        // The baseline's two runs, by run.
        let history = try await client.call("metrics/get-history", get: ["run_id": try #require(await runID(client, experiment, "ml/0")), "metric_key": "val_bpb_run"])
        #expect((history["metrics"] as? [[String: Any]])?.count == 2)

        // Exporting again logs nothing twice.
        let again = try await MLflowExport(client: client, workspace: ws, tag: "ml").exportAll(records)
        #expect(again.exported == [] && again.skipped == [0, 1, 2])
        #expect(try await runs(server.uri, experiment: experiment).count == 3)
    }

    func runID(_ client: MLflowClient, _ experiment: String, _ key: String) async throws -> String? {
        try await client.runs(in: experiment, tag: "autoresearch.key", equals: key).first
    }

    @Test func aServerThatIsDownNeverStopsTheResearch() async throws {
        let standIn = try StandIn(noise: 0.001)
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        var options = RunOptions(tag: "down", experiments: 1, baselineRuns: 1)
        options.allowUntrusted = true
        options.researcherFailurePause = 0
        options.mlflow = "http://127.0.0.1:\(MLflowServer.freePort())"
        let display = RecordingDisplay()
        let loop = try ResearchLoop(workspace: ws, researcher: ScriptedResearcher([.set([("LEARNING_RATE", "0.003")], "lr")]),
                                    options: options, display: display)
        _ = try await loop.run()
        #expect(try loop.ledger.experiments(tag: "down").count == 2)
        let notes = await display.events.compactMap { if case .note(let text) = $0, text.hasPrefix("MLflow logging failed") { return text } else { return nil } }
        #expect(notes.count == 1, "shown once, not once per experiment: \(notes)")
        #expect(notes.first?.contains("cannot reach http://127.0.0.1:") == true && notes.first?.contains("is `mlflow server` running there?") == true)
    }

    @Test func aBadAddressIsRefusedWithTheFix() {
        #expect(throws: HarnessError.other("--mlflow 'localhost:5000' is not an MLflow tracking server address; give one like http://127.0.0.1:5000")) {
            _ = try MLflowClient(uri: "localhost:5000")
        }
    }

    @Test func theTrainingCurveIsReadFromTheLog() {
        let log = """
        # train phase
        torch 2.13.0+cpu, CPU (mkl, AVX512), 2 threads
        step   100 | loss 2.4295 | progress  70.1% | 14616 tok/s
        step   200 | loss 2.1000 | progress  90.0% | 15000 tok/s
        ---
        # run 2 uses another seed
        step   100 | loss 2.5000 | progress  70.1% | 14000 tok/s
        """
        #expect(TrainingCurve.parse(log) == [.init(step: 100, loss: 2.4295, tokensPerSecond: 14616), .init(step: 200, loss: 2.1, tokensPerSecond: 15000)])
    }
}

/// The terminal's live lines: one per running experiment with its phase, elapsed / budget and the training curve's
/// last point from its log, then the standing; plain lines print nothing for a log event.
@Suite struct LiveLinesTests {
    @Test func eachRunningExperimentHasALineWithItsLatestStepLossAndTokensPerSecond() {
        let now = Date()
        var training = TerminalDisplay.Running(description: "LEARNING_RATE 0.0015 → 0.00225", phase: .train, phaseStart: now.addingTimeInterval(-34),
                                               limit: 60, log: "/logs/12.log")
        let building = TerminalDisplay.Running(description: "idea: gelu", phase: .build, phaseStart: now.addingTimeInterval(-3), limit: nil, log: "/logs/13.log")
        let logs = ["/logs/12.log": "# train phase\nstep   100 | loss 2.5000 | progress  50.0% | 14000 tok/s\nstep   200 | loss 2.4295 | progress  70.1% | 14616 tok/s\n"]
        let lines = TerminalDisplay.lines(running: [13: building, 12: training], baseline: 2.6, best: 2.55, keeps: 1, experiments: 11, now: now,
                                          tail: { logs[$0] })
        #expect(lines == ["#12 │ train 0:34 / 1:00 │ step 200 loss 2.4295 14616 tok/s │ LEARNING_RATE 0.0015 → 0.00225",
                          "#13 │ build 0:03 │ idea: gelu",
                          "best 2.550000 (baseline 2.600000) │ 1 kept / 11"])
        // Past the budget, the training phase is evaluating.
        training.phaseStart = now.addingTimeInterval(-65)
        #expect(TerminalDisplay.lines(running: [12: training], baseline: nil, best: nil, keeps: 0, experiments: 0, now: now, tail: { logs[$0] }).first
                == "#12 │ eval 1:05 / 1:00 │ step 200 loss 2.4295 14616 tok/s │ LEARNING_RATE 0.0015 → 0.00225")
        #expect(LineDisplay.line(.log(number: 12, path: "/logs/12.log")) == nil)
    }
}
