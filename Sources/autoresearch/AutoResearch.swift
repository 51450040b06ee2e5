import ArgumentParser
import Foundation
import Harness

/// `autoresearch`: AI agents doing ML research in a closed loop. The harness owns the loop;
/// a researcher proposes one change at a time.
@main
struct AutoResearch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoresearch",
        abstract: "Autonomous ML research: propose, train, keep what beats the noise, repeat.",
        subcommands: [InitCommand.self, PrepareCommand.self, RunCommand.self, ResultsCommand.self,
                      StatusCommand.self, ReportCommand.self, ShowCommand.self, ProgramsCommand.self, ShowProgramCommand.self,
                      SimulateCommand.self, MetaBenchCommand.self, ResearcherBenchCommand.self, AdoptCoreCommand.self, PythonEnvCommand.self, ExportCommand.self, MCPCommand.self, ServeCommand.self])

    /// Parses, runs, and reports any failure as `error: <message>` with exit status 1 (never a stack trace).
    static func main() async {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // Help, version, exit codes and usage errors: ArgumentParser's own formatting.
            exit(withError: error)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }
}
