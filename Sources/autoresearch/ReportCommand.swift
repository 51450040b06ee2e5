import ArgumentParser
import Foundation
import Harness

/// `autoresearch report`: report.md and progress.svg for a tag.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write report.md and progress.svg into the workspace.")

    @OptionGroup var workspaceOption: WorkspaceOption

    @Option(help: "The tag (default: the latest).")
    var tag: String?

    func run() async throws {
        let report = try TagReports(workspace: try workspaceOption.open(), tag: tag).writeReport()
        print(report.markdown.path)
        print(report.chart.path)
    }
}
