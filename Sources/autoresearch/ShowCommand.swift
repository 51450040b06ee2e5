import ArgumentParser
import Foundation
import Harness

/// `autoresearch show N`: one experiment in full, with its researcher's transcript.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one experiment: description, hypothesis, diff, metrics, decision and transcript.")

    @OptionGroup var workspaceOption: WorkspaceOption

    @Argument(help: "The experiment's number (as in `autoresearch results`).")
    var number: Int

    @Option(help: "The tag (default: the latest).")
    var tag: String?

    @Flag(name: .customLong("no-transcript"), help: "Leave out the researcher's transcript.")
    var noTranscript = false

    func run() async throws {
        print(try TagReports(workspace: try workspaceOption.open(), tag: tag).show(number: number, transcript: !noTranscript))
    }
}
