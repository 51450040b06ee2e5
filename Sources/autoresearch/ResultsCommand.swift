import ArgumentParser
import Foundation
import Harness

/// `autoresearch results`: autoresearch's results.tsv for a tag.
struct ResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results", abstract: "Print results.tsv for a tag (and write it into the workspace).")

    @OptionGroup var workspaceOption: WorkspaceOption

    @Option(help: "The tag (default: the latest).")
    var tag: String?

    @Flag(help: "Add the worker (researcher) and the slot of each experiment as two more columns.")
    var wide = false

    func run() async throws {
        let reports = try TagReports(workspace: try workspaceOption.open(), tag: tag)
        print(try reports.writeResults(wide: wide).text, terminator: "")
    }
}
