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

/// `autoresearch programs`: the meta-loop's archive of research programs.
struct ProgramsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "programs", abstract: "List the tag's research programs with their scores, lineage and windows (the meta-loop's archive).")

    @OptionGroup var workspaceOption: WorkspaceOption

    @Option(help: "The tag (default: the latest).")
    var tag: String?

    func run() async throws {
        print(try TagReports(workspace: try workspaceOption.open(), tag: tag).programs(), terminator: "")
    }
}

/// `autoresearch show-program N`: one research program in full.
struct ShowProgramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show-program", abstract: "Show one research program: lineage, scores, diff against its parent, settings and program.md.")

    @OptionGroup var workspaceOption: WorkspaceOption

    @Argument(help: "The program's number (as in `autoresearch programs`).")
    var number: Int

    @Option(help: "The tag (default: the latest).")
    var tag: String?

    func run() async throws {
        print(try TagReports(workspace: try workspaceOption.open(), tag: tag).showProgram(number), terminator: "")
    }
}
