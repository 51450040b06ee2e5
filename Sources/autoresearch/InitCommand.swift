import ArgumentParser
import Foundation
import Harness

/// `autoresearch init DIR`: a new workspace from a template, committed as the baseline.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a research workspace from a template and commit it as the baseline.")

    @Argument(help: "The new workspace's directory (must not exist or be empty).")
    var directory: String

    @Option(help: "A template under Templates/ (gpt: the Swift subject, the default; pytorch; quadratic) or a directory holding a template.toml.")
    var template: String?

    @Option(help: "A repository in karpathy/autoresearch's layout (train.py, prepare.py, program.md) to research on, unchanged; its scores are self-reported.")
    var adopt: String?

    @Option(name: .customLong("time-budget"), help: "Training seconds per experiment (default 60, as autoresearch on CPU; with --adopt, read from prepare.py).")
    var timeBudget: Double?

    @Option(name: .customLong("token-budget"), help: "Train on this many tokens per experiment instead of a time budget.")
    var tokenBudget: Int?

    @Option(name: .customLong("data-dir"), help: "The prepared corpus (default: the Shakespeare corpus in the cache).")
    var dataDir: String?

    @Option(help: "The base Python interpreter of a Python subject's environment (default: $AUTORESEARCH_PYTHON, else python3).")
    var python: String?

    @Option(help: "A tensorcore workspace whose best kept core (its kernel files) replaces the vendored one (gpt and tensorcore templates); the ledger records its source.")
    var core: String?

    @Option(name: .customLong("core-tag"), help: "With --core: the tensorcore workspace's tag (default: the tag whose latest keep is fastest).")
    var coreTag: String?

    func run() async throws {
        if let timeBudget, !(timeBudget > 0) { throw ValidationError("--time-budget must be a positive number of seconds") }
        let url = URL(fileURLWithPath: (directory as NSString).expandingTildeInPath)
        let workspace: Workspace
        if let adopt {
            if let template { throw ValidationError("--adopt and --template \(template) exclude each other: an adopted repository is its own subject") }
            if core != nil { throw ValidationError("--core applies to the gpt and tensorcore templates, not to an adopted repository") }
            if tokenBudget != nil || dataDir != nil {
                throw ValidationError("--token-budget and --data-dir do not apply to --adopt: the adopted train.py reads its budget and data through its prepare.py")
            }
            var options = AdoptOptions(repository: URL(fileURLWithPath: (adopt as NSString).expandingTildeInPath), timeBudget: timeBudget, python: python)
            options.path = ProcessInfo.processInfo.environment["PATH"]
            workspace = try Workspace.adopt(at: url, options: options)
            print("adopted \(adopt) into workspace \(workspace.root.path); its scores are self-reported (its train.py evaluates itself)")
        } else {
            var options = WorkspaceOptions(template: template ?? "gpt", timeBudget: timeBudget ?? 60, tokenBudget: tokenBudget,
                                           dataDirectory: dataDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath).path })
            options.python = python
            if coreTag != nil, core == nil { throw ValidationError("--core-tag names a tag of the --core workspace; add --core FROM") }
            if let core {
                options.core = try Workspace.open(URL(fileURLWithPath: (core as NSString).expandingTildeInPath)).bestCore(tag: coreTag)
            }
            workspace = try Workspace.create(at: url, options: options)
            print("created workspace \(workspace.root.path) (template \(workspace.manifest.name))")
            if let core = options.core {
                print("  core:     \(core.workspace.path) tag \(core.tag) commit \(core.commit.prefix(12)) (\(core.metric) "
                      + [core.baseline, core.best].map { $0.map { String(format: "%.1f", $0) } ?? "—" }.joined(separator: " → ") + ")")
            }
        }
        let m = workspace.manifest
        print("  editable: \(m.editable.joined(separator: ", "))")
        print("  budget:   " + (m.budget.mode == .time ? "\(Int(m.budget.seconds)) s" : "\(m.budget.tokens) tokens"))
        print("  run:      \(m.run)")
        if !m.dataDir.isEmpty { print("  data:     \(m.dataDir)") }
        if let python = m.python {
            print("  python:   \(python.venv) (" + python.versions.keys.sorted().filter { ["python", "torch", "numpy"].contains($0) }
                .map { "\($0) \(python.versions[$0]!)" }.joined(separator: ", ") + ")")
        }
        if adopt != nil {
            print("next: the repository's data must be ready (its `python prepare.py`, once), then `cd \(directory) && autoresearch run`")
        } else if ["tensorcore", "quadratic"].contains(m.name) {
            print("next: `cd \(directory) && autoresearch run` (this subject reads no corpus: nothing to prepare)")
        } else {
            print("next: `autoresearch prepare`, then `cd \(directory) && autoresearch run`")
        }
    }
}
