import ArgumentParser
import Foundation
import Harness

/// `autoresearch export --mlflow URI`: a tag's experiments as MLflow runs.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Log a tag's experiments to an MLflow tracking server (once each: running it again adds only new ones).",
        discussion: "One MLflow experiment per tag (<workspace>/<tag>), one run per finished experiment: the hyperparameter block as params; val_bpb, test_bpb, tokens/s and the training loss by step as metrics; status, description, commit and researcher as tags. `run --mlflow URI` logs as it goes.")

    @OptionGroup var workspaceOption: WorkspaceOption

    @Option(help: "The tag (default: the latest).")
    var tag: String?

    @Option(help: "The MLflow tracking server, e.g. http://127.0.0.1:5000.")
    var mlflow: String

    func run() async throws {
        let workspace = try workspaceOption.open()
        let reports = try TagReports(workspace: workspace, tag: tag)
        let export = MLflowExport(client: try MLflowClient(uri: mlflow), workspace: workspace, tag: reports.tag)
        let outcome = try await export.exportAll(try reports.ledger.experiments(tag: reports.tag))
        print("MLflow experiment \(export.experimentName) at \(mlflow): \(outcome.exported.count) run(s) logged, \(outcome.skipped.count) already there")
    }
}
