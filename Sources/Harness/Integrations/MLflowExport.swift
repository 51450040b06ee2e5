import AutoResearchCore
import Foundation
import SearchResearcher

/// A tag's experiments as MLflow runs (`autoresearch export --mlflow URI`, or `run --mlflow URI` as they finish).
///
/// One MLflow experiment per tag, named `<workspace name>/<tag>`. One run per finished experiment: params are the
/// hyperparameter block of its commit; metrics `val_bpb` (and `test_bpb` when the harness measured it), each run's
/// value (`val_bpb_run`, by run), tokens/s, steps, training seconds, and the training loss and tokens/s by step
/// parsed from its log; tags its status, description, hypothesis, commit, parent, researcher and decision. Every
/// run carries `autoresearch.key` = `<tag>/<number>`: an experiment already exported is skipped, so exporting
/// twice logs everything once.
public struct MLflowExport: Sendable {
    public let client: MLflowClient
    public let workspace: Workspace
    public let tag: String

    public init(client: MLflowClient, workspace: Workspace, tag: String) {
        self.client = client; self.workspace = workspace; self.tag = tag
    }

    /// The MLflow experiment's name for this tag.
    public var experimentName: String { "\(workspace.manifest.name)/\(tag)" }

    /// What an export did.
    public struct Outcome: Sendable, Equatable {
        public var exported: [Int] = []
        public var skipped: [Int] = []
    }

    /// Exports every finished experiment of the tag that is not in MLflow yet.
    public func exportAll(_ records: [ExperimentRecord]) async throws -> Outcome {
        let experiment = try await client.experiment(named: experimentName)
        var outcome = Outcome()
        for record in records where record.finishedAt != nil && record.experimentStatus != .running {
            if try await export(record, into: experiment) { outcome.exported.append(record.number) } else { outcome.skipped.append(record.number) }
        }
        return outcome
    }

    /// Exports one experiment unless it is there already; returns whether it was exported.
    @discardableResult
    public func export(_ record: ExperimentRecord, into experiment: String? = nil) async throws -> Bool {
        let experimentID: String
        if let experiment { experimentID = experiment } else { experimentID = try await client.experiment(named: experimentName) }
        let key = "\(tag)/\(record.number)"
        guard try await client.runs(in: experimentID, tag: "autoresearch.key", equals: key).isEmpty else { return false }
        let run = try await client.createRun(in: experimentID, name: "\(record.number): \(record.description)", start: record.startedAt,
                                             tags: tags(record, key: key))
        try await client.log(run: run, params: params(record), metrics: metrics(record))
        let end = record.finishedAt ?? Date()
        switch record.experimentStatus {
        case .crash, .invalid, .researcherError: try await client.endRun(run, status: "FAILED", end: end)
        case .interrupted, .stale: try await client.endRun(run, status: "KILLED", end: end)
        default: try await client.endRun(run, status: "FINISHED", end: end)
        }
        return true
    }

    func tags(_ r: ExperimentRecord, key: String) -> [String: String] {
        var tags = ["autoresearch.key": key, "autoresearch.tag": tag, "status": r.status, "description": String(r.description.prefix(4000)),
                    "researcher": r.researcher, "scored_by": workspace.manifest.selfReported ? "self-reported" : "harness"]
        if !r.hypothesis.isEmpty { tags["mlflow.note.content"] = String(r.hypothesis.prefix(4000)) }
        if let commit = r.commit { tags["commit"] = commit }
        if let parent = r.parentCommit { tags["parent_commit"] = parent }
        if let error = r.error { tags["error"] = String(error.prefix(4000)) }
        if let reason = r.decisionEvidence?.reason { tags["decision"] = String(reason.prefix(4000)) }
        if let slot = r.slot { tags["slot"] = slot }
        return tags
    }

    /// The hyperparameter block of each editable file at the experiment's commit (name = literal).
    func params(_ r: ExperimentRecord) -> [String: String] {
        guard let commit = r.commit else { return [:] }
        var params: [String: String] = [:]
        for path in workspace.manifest.editable {
            guard let source = try? workspace.git.run(["show", "\(commit):\(path)"]),
                  let block = try? HyperparameterBlock.parse(source, path: path) else { continue }
            for p in block.parameters { params[p.name] = p.literal }
        }
        return params
    }

    func metrics(_ r: ExperimentRecord) -> [MLflowClient.Metric] {
        let time = r.finishedAt ?? r.startedAt
        var metrics: [MLflowClient.Metric] = []
        if let v = r.metric { metrics.append(.init(key: workspace.manifest.metric, value: v, time: time)) }
        if let v = r.testBPB { metrics.append(.init(key: "test_bpb", value: v, time: time)) }
        for (key, value) in [("num_steps", r.numSteps.map(Double.init)), ("training_seconds", r.trainingSeconds),
                             ("peak_memory_mb", r.peakMemoryMB), ("num_params_M", r.numParamsM)] {
            if let value { metrics.append(.init(key: key, value: value, time: time)) }
        }
        let measured = r.decisionEvidence?.measurements ?? []
        for (i, m) in measured.enumerated() {
            metrics.append(.init(key: "\(workspace.manifest.metric)_run", value: m.metric, step: i, time: time))
            if let tps = m.tokensPerSecond { metrics.append(.init(key: "tokens_per_second_run", value: tps, step: i, time: time)) }
        }
        if let log = r.logPath.flatMap({ try? String(contentsOfFile: $0, encoding: .utf8) }) {
            for point in TrainingCurve.parse(log) {
                metrics.append(.init(key: "train_loss", value: point.loss, step: point.step, time: time))
                if let tps = point.tokensPerSecond { metrics.append(.init(key: "tokens_per_second", value: tps, step: point.step, time: time)) }
            }
        }
        return metrics
    }
}
