import ArgumentParser
import Foundation
import Harness
import ResearchMCP

/// `autoresearch mcp`: the workspace as an MCP server over stdio.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the workspace to an MCP client over stdio: status, results, show, notes, propose, stop; report.md, progress.svg, program.md.",
        discussion: "Add it to a client as a stdio server whose command is `autoresearch mcp --workspace DIR` (see the README's \"MCP\" section). Nothing but protocol messages is written to stdout.")

    @OptionGroup var workspaceOption: WorkspaceOption

    @Option(help: "The tag the tools use when a call names none (default: the latest at each call).")
    var tag: String?

    func run() async throws {
        let workspace = try workspaceOption.open()
        try await ResearchMCPServer.serveStdio(WorkspaceDesk(workspace: workspace, defaultTag: tag))
    }
}
