import ArgumentParser
import Foundation
import AutoResearchCore
import Harness

/// `autoresearch run`: the research loop, until Ctrl-C, `--experiments` or `--hours`.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the research loop on a tag (resumes the tag if it exists).")

    @OptionGroup var workspaceOption: WorkspaceOption

    @Option(help: "The run tag; the research branch is autoresearch/<tag> (default: today, e.g. nov29).")
    var tag: String?

    @Option(help: "Stop after this many experiments (the baseline not counted).")
    var experiments: Int?

    @Option(help: "Start no new experiment after this many hours.")
    var hours: Double?

    @Option(help: "Start no new experiment once a keep reaches this metric value (e.g. --until 0.95 for val_bpb).")
    var until: Double?

    @Option(name: .customLong("baseline-runs"), help: "Baseline runs of a new tag, to estimate the noise (default: the manifest's, 3).")
    var baselineRuns: Int?

    @Option(help: "The researcher that proposes changes: search, optuna, anthropic, openai or command (default: the manifest's [researcher] kind, else search).")
    var researcher: String?

    @Option(help: "The Optuna researcher's sampler: tpe, cmaes, random or gp (default: tpe).")
    var sampler: String?

    @Option(help: "The model of an anthropic or openai researcher (default: the manifest's).")
    var model: String?

    @Option(name: .customLong("base-url"), help: "The API base URL of an anthropic or openai researcher, e.g. http://localhost:11434/v1 for Ollama.")
    var baseURL: String?

    @Option(name: .customLong("agent-command"), help: "The command of a command researcher, e.g. 'claude -p' (the prompt goes to its standard input).")
    var agentCommand: String?

    @Option(help: "Researchers working at once, sharing the slots and one ledger: a count of the chosen kind, or a mix like 'anthropic:2,search:1'.")
    var workers: String = "1"

    @Option(help: "Seed for the researcher's randomness.")
    var seed: UInt64 = 0

    @Flag(help: "The meta-loop: research programs judged in windows against a control arm (each arm gets --workers researchers); see `autoresearch programs`.")
    var meta = false

    @Option(help: "With --meta: experiments per arm in one window (default: the manifest's [meta] window, 10).")
    var window: Int?

    @Option(name: .customLong("meta-researcher"), help: "With --meta: who proposes programs: mutation (offline, mutates the search researcher's settings), anthropic or openai (an LLM rewrites program.md).")
    var metaResearcher: String?

    @Option(help: "Without --meta: the researchers follow this archived program of the tag (see `autoresearch programs`).")
    var program: Int?

    @Option(help: "A human reference configuration (a commit or branch of the workspace) to measure once per tag like the baseline, on val and test, for the report's parity milestone. Researchers never see it.")
    var reference: String?

    @Flag(name: .customLong("allow-untrusted"), help: "Run LLM and command researchers even where their results cannot be trusted: no sandbox (bubblewrap missing), or a subject that reports its own score. status and the report say so.")
    var allowUntrusted = false

    @Option(help: "An MLflow tracking server (e.g. http://127.0.0.1:5000): log every experiment there as it finishes.")
    var mlflow: String?

    func validate() throws {
        if let experiments, experiments < 0 { throw ValidationError("--experiments must be 0 or more") }
        if let hours, hours <= 0 { throw ValidationError("--hours must be positive") }
        if let baselineRuns, baselineRuns < 1 { throw ValidationError("--baseline-runs must be at least 1") }
        if let researcher, !ResearcherSection.kinds.contains(researcher) {
            throw ValidationError("unknown researcher '\(researcher)'; available: \(ResearcherSection.kinds.joined(separator: ", "))")
        }
        if let sampler, !OptunaResearcher.samplers.contains(sampler) {
            throw ValidationError("unknown sampler '\(sampler)'; available: \(OptunaResearcher.samplers.joined(separator: ", "))")
        }
        if sampler != nil, let researcher, researcher != "optuna", !workers.contains("optuna") {
            throw ValidationError("--sampler belongs to the optuna researcher; add --researcher optuna (or optuna in --workers)")
        }
        if let window, window < 1 { throw ValidationError("--window must be at least 1 experiment per arm") }
        if !meta, window != nil || metaResearcher != nil { throw ValidationError("--window and --meta-researcher belong to the meta-loop; add --meta") }
        if meta, program != nil { throw ValidationError("--program runs one archived program; the meta-loop (--meta) chooses programs itself, so use one or the other") }
        if let metaResearcher, !MetaSettings.researchers.contains(metaResearcher) {
            throw ValidationError("unknown meta-researcher '\(metaResearcher)'; available: \(MetaSettings.researchers.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let workspace = try workspaceOption.open()
        let tag = self.tag ?? RunOptions.defaultTag()
        var options = RunOptions(tag: tag, experiments: experiments, hours: hours, baselineRuns: baselineRuns, seed: seed)
        options.program = program
        options.reference = reference
        options.target = until
        options.allowUntrusted = allowUntrusted
        options.mlflow = mlflow
        let overrides = Researchers.Overrides(kind: self.researcher, model: model, baseURL: baseURL, command: agentCommand, sampler: sampler)
        var researchers = try Researchers.makeSwarm(workspace: workspace, workers: workers, overrides: overrides, seed: seed)
        var programResearcher: (any ProgramResearcher)?
        if meta {
            var settings = workspace.manifest.meta
            if let window { settings.window = window }
            // The control arm: as many researchers again, of the same kinds, with their own seeds.
            researchers += try Researchers.makeSwarm(workspace: workspace, workers: workers, overrides: overrides, seed: seed &+ 10_000)
            let kinds = Set(researchers.map(\.name))
            let kind = metaResearcher ?? settings.researcher
                ?? (kinds == ["search"] ? "mutation" : kinds.first { MetaSettings.researchers.contains($0) } ?? "mutation")
            programResearcher = try Researchers.makeProgramResearcher(kind: kind, workspace: workspace, overrides: overrides)
            options.meta = settings
        }
        let loop = try ResearchLoop(workspace: workspace, researchers: researchers, options: options, display: makeDisplay(),
                                    programResearcher: programResearcher)
        if !loop.trust.trusted { print("warning: \(loop.trust.summary)") }
        let summary = try await Interrupts.cancellingOnSignal { try await loop.run() }
        let reports = try TagReports(workspace: workspace, tag: tag)
        try reports.writeResults()
        let report = try reports.writeReport()
        print("stopped (\(summary.stopReason.text)) after \(summary.experimentsRun) experiment(s)")
        print("\(workspace.manifest.metric): baseline \(format(summary.baseline)) → best \(format(summary.best)) "
              + "(branch autoresearch/\(tag) at \(summary.bestCommit.prefix(7)))")
        print("report: \(report.markdown.path)")
    }

    private func format(_ value: Double?) -> String { value.map { String(format: "%.6f", $0) } ?? "—" }
}
