import ArgumentParser
import Foundation
import Harness

/// `--workspace DIR`, shared by the commands that work inside a workspace.
struct WorkspaceOption: ParsableArguments {
    @Option(name: .long, help: "The workspace directory (default: the current directory).")
    var workspace: String?

    /// Opens the workspace, or fails with a message that suggests `autoresearch init`.
    func open() throws -> Workspace {
        let path = workspace ?? FileManager.default.currentDirectoryPath
        return try Workspace.open(URL(fileURLWithPath: (path as NSString).expandingTildeInPath))
    }
}
