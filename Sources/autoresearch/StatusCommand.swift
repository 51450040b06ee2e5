import ArgumentParser
import Foundation
import Harness

/// `autoresearch status`: a tag's standing and what is running now.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a tag's experiments, keep rate, baseline → best, noise and what runs now.")

    @OptionGroup var workspaceOption: WorkspaceOption

    @Option(help: "The tag (default: the latest).")
    var tag: String?

    func run() async throws {
        print(try TagReports(workspace: try workspaceOption.open(), tag: tag).status().text)
    }
}
