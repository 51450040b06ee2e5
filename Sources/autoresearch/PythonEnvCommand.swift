import ArgumentParser
import Foundation
import Harness

/// `autoresearch python-env`: makes a Python subject's environment again from its pinned requirements.
struct PythonEnvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "python-env",
        abstract: "Make the workspace's Python environment again (.venv, from its pinned requirements).",
        discussion: "`autoresearch init --template pytorch` makes it once; use this when it is missing or broken. The manifest is not changed: the new environment must have the versions it records.")

    @OptionGroup var location: WorkspaceOption

    @Option(help: "The base Python interpreter (default: $AUTORESEARCH_PYTHON, else python3).")
    var python: String?

    func run() async throws {
        let workspace = try location.open()
        try PythonEnvironment.remake(workspace, python: python)
        print("the Python environment of \(workspace.root.path) is ready")
    }
}
