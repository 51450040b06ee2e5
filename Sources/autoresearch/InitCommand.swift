import ArgumentParser
import Foundation
import Harness

/// `autoresearch init DIR`: a new workspace from a template, committed as the baseline.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a research workspace from a template and commit it as the baseline.")

    @Argument(help: "The new workspace's directory (must not exist or be empty).")
    var directory: String

    @Option(help: "A template under Templates/ (e.g. gpt) or a directory holding a template.toml.")
    var template: String = "gpt"

    @Option(name: .customLong("time-budget"), help: "Training seconds per experiment (default 60, as autoresearch on CPU).")
    var timeBudget: Double = 60

    @Option(name: .customLong("token-budget"), help: "Train on this many tokens per experiment instead of a time budget.")
    var tokenBudget: Int?

    @Option(name: .customLong("data-dir"), help: "The prepared corpus (default: the Shakespeare corpus in the cache).")
    var dataDir: String?

    @Option(help: "The base Python interpreter of a Python subject's environment (default: $AUTORESEARCH_PYTHON, else python3).")
    var python: String?

    func run() async throws {
        guard timeBudget > 0 else { throw ValidationError("--time-budget must be a positive number of seconds") }
        let url = URL(fileURLWithPath: (directory as NSString).expandingTildeInPath)
        var options = WorkspaceOptions(template: template, timeBudget: timeBudget, tokenBudget: tokenBudget,
                                       dataDirectory: dataDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath).path })
        options.python = python
        let workspace = try Workspace.create(at: url, options: options)
        let m = workspace.manifest
        print("created workspace \(workspace.root.path) (template \(m.name))")
        print("  editable: \(m.editable.joined(separator: ", "))")
        print("  budget:   " + (m.budget.mode == .time ? "\(Int(m.budget.seconds)) s" : "\(m.budget.tokens) tokens"))
        print("  data:     \(m.dataDir)")
        if let python = m.python {
            print("  python:   \(python.venv) (" + python.versions.keys.sorted().filter { ["python", "torch", "numpy"].contains($0) }
                .map { "\($0) \(python.versions[$0]!)" }.joined(separator: ", ") + ")")
        }
        print("next: `autoresearch prepare`, then `cd \(directory) && autoresearch run`")
    }
}
