import AutoResearchCore
import Foundation
import SubjectKit

/// The harness's side of an evaluation: the windows it writes, the process that answers them (confined, limited in
/// time to a multiple of the baseline's, its output kept from researchers), what it may leave behind, and the score.
///
/// What an evaluation, probe or test process prints goes to the experiment's private log
/// (`.autoresearch/private/<tag>/<n>.log`), which no researcher-facing view reads: it has seen the validation or test
/// windows, and anything it prints could carry them (the red team's finding 5). The experiment's log and its error
/// get the harness's own one-line summary instead.
extension ResearchLoop {
    /// Which split the harness scores.
    enum ScoredSplit { case validation, test }

    /// The windows covering a split of the prepared corpus (read and verified by the harness, never by a run).
    func splitWindows(_ split: ScoredSplit) throws -> EvaluationWindows {
        if split == .validation, let cached = validationWindows { return cached }
        guard let data = dataDirectory else { throw ExperimentStop(status: .crash, message: "the manifest has no data_dir") }
        do {
            let corpus = try Corpus.open(directory: URL(fileURLWithPath: data))
            let bytes = try Corpus.readSplit(split == .validation ? corpus.validation : corpus.test, of: corpus)
            let windows = EvaluationWindows.covering(bytes, batchSize: manifest.evaluation.batch)
            if split == .validation { validationWindows = windows }
            return windows
        } catch {
            throw ExperimentStop(status: .crash, message: "the harness cannot read the \(split == .validation ? "validation" : "test") split: \(error)")
        }
    }

    /// The log of what an experiment's evaluation processes printed; researchers never see it.
    func privateLog(_ experiment: Experiment) -> URL {
        workspace.stateDirectory.appendingPathComponent("private/\(tag)/\(experiment.record.number).log")
    }

    /// Whether the experiment is one whose evaluation times set the limits of the others (the baseline, a human
    /// reference): the harness measured its commit, no researcher wrote it.
    func setsEvaluationLimits(_ experiment: Experiment) -> Bool { ["harness", "human"].contains(experiment.record.researcher) }

    /// The slowest evaluation of each kind ("val", "probe", "test") of the tag's baseline, seconds; kept beside the
    /// runs so that a resumed tag has it.
    var evaluationTimesURL: URL { workspace.stateDirectory.appendingPathComponent("runs/\(tag)/baseline-evaluation-seconds.json") }

    func baselineEvaluationSeconds() -> [String: Double] {
        (try? JSONDecoder().decode([String: Double].self, from: Data(contentsOf: evaluationTimesURL))) ?? [:]
    }

    func recordBaselineEvaluation(_ kind: String, seconds: Double) {
        var times = baselineEvaluationSeconds()
        times[kind] = max(times[kind] ?? 0, seconds)
        try? FileManager.default.createDirectory(at: evaluationTimesURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? JSONEncoder().encode(times).write(to: evaluationTimesURL, options: .atomic)
    }

    /// The wall-time limit of an evaluation of `kind` for `experiment`, and what it rests on.
    func evaluationLimit(_ kind: String, for experiment: Experiment) -> (seconds: Double, basis: String) {
        let cap = manifest.evaluation.timeoutSeconds
        guard !setsEvaluationLimits(experiment), let baseline = baselineEvaluationSeconds()[kind] else {
            return (cap, "timeout_seconds")
        }
        let factor = manifest.evaluation.timeFactor
        let limit = min(cap, max(EvaluationSettings.minimumLimitSeconds, factor * baseline))
        return (limit, String(format: "%g × the baseline's %.1f s, at least %g s", factor, baseline, EvaluationSettings.minimumLimitSeconds))
    }

    /// One evaluation process: writes `windows`, runs the subject's evaluation phase on the run's checkpoint in a
    /// fresh sandbox, and returns the URL of the logits it wrote. `kind` is "val", "probe" or "test"; the folder's name
    /// is random, so a probe's request cannot be told from an evaluation's by its paths.
    func evaluate(_ windows: EvaluationWindows, kind: String, label: String, run: RunFolder, for experiment: inout Experiment) async throws -> URL {
        let folder = run.evaluation("eval-" + UUID().uuidString.prefix(8).lowercased())
        let output = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let windowsFile = folder.appendingPathComponent("windows.bin")
        try windows.write(to: windowsFile)
        let worktree = experiment.worktree.path
        let limit = evaluationLimit(kind, for: experiment)
        var view = Sandbox.View(workingDirectory: worktree, readOnly: [worktree, run.checkpoint.path, windowsFile.path], writable: [output.path])
        let cores = slot(of: experiment).cpus.flatMap(Slot.cores)?.count ?? ProcessInfo.processInfo.activeProcessorCount
        view.cpuSeconds = Int((limit.seconds * Double(cores)).rounded(.up)) + 5
        let command = PhaseCommand(
            command: manifest.run, view: view,
            environment: phaseEnvironment([EnvironmentKey.phase: "evaluate", EnvironmentKey.checkpoint: run.checkpoint.path,
                                           EnvironmentKey.windows: windowsFile.path, EnvironmentKey.output: output.path], slot: slot(of: experiment)),
            timeout: limit.seconds)
        let privateLog = privateLog(experiment)
        LogFile.append(privateLog, "# \(label), evaluation phase (\(kind): \(windows.groups.count) groups, \(windows.positions) positions)\n")
        let result = try await runPhase(command, for: &experiment, log: privateLog)
        experiment.record.runSeconds = (experiment.record.runSeconds ?? 0) + result.seconds
        experiment.record.totalSeconds = (experiment.record.totalSeconds ?? 0) + result.seconds
        LogFile.append(experiment.log, String(format: "# %@, evaluation phase (%@: %d positions): %.1f s of a limit of %.0f s (%@); its output is kept from researchers\n",
                                              label, kind, windows.positions, result.seconds, limit.seconds, limit.basis))
        let what = "\(label) (evaluation of \(kind))"
        switch result.termination {
        case .exited(0): break
        case .cancelled: throw ExperimentStop(status: .interrupted, message: "interrupted during \(what)")
        case .timedOut:
            throw ExperimentStop(status: .invalid, message: String(format: "%@ ran past its limit of %.0f s (%@) and was stopped: an evaluation answers the windows, it does not train", what, limit.seconds, limit.basis))
        default:
            throw ExperimentStop(status: .crash, message: "\(what) failed (\(result.termination)); what it printed is kept from researchers, since it has seen the split's windows")
        }
        if setsEvaluationLimits(experiment) { recordBaselineEvaluation(kind, seconds: result.seconds) }
        try checkOutput(output, of: what, names: [EvaluationWindows.logitsFileName])
        try checkRunFolder(run, after: what)
        return output.appendingPathComponent(EvaluationWindows.logitsFileName)
    }

    /// What a phase left in its output folder: regular files only (no links, no folders), with one of `names` when
    /// given, at most `[sandbox] max_output_mb` in all. Anything else makes the run invalid (the red team's finding 8).
    func checkOutput(_ folder: URL, of what: String, names: Set<String>? = nil) throws {
        let fm = FileManager.default
        var total = 0
        for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] {
            let attributes = try? fm.attributesOfItem(atPath: folder.appendingPathComponent(name).path)
            guard attributes?[.type] as? FileAttributeType == .typeRegular, names.map({ $0.contains(name) }) ?? true else {
                throw ExperimentStop(status: .invalid, message: "\(what) left '\(name)' in its output folder, which may hold only \(names.map { $0.sorted().joined(separator: ", ") } ?? "regular files")")
            }
            total += attributes?[.size] as? Int ?? 0
        }
        let quota = manifest.sandbox.maxOutputMB * 1_048_576
        guard total <= quota else {
            throw ExperimentStop(status: .invalid, message: "\(what) left \(total / 1_048_576) MiB in its output folder; [sandbox] max_output_mb is \(manifest.sandbox.maxOutputMB)")
        }
    }

    /// The run folder holds what the harness made (the checkpoint folder, evaluation folders with their windows and
    /// output) and nothing a phase added next to them (the red team's finding 10).
    func checkRunFolder(_ run: RunFolder, after what: String) throws {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: run.root.path)) ?? [] {
            let url = run.root.appendingPathComponent(name)
            let isFolder = (try? fm.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType == .typeDirectory
            let inside = Set((try? fm.contentsOfDirectory(atPath: url.path)) ?? [])
            let expected = name == "train" || (name.hasPrefix("eval-") && inside.isSubset(of: ["windows.bin", "out"]))
            guard isFolder, expected else {
                throw ExperimentStop(status: .invalid, message: "after \(what), the run folder holds '\(name)', which the harness did not make: a phase may write only in its own output folder")
            }
        }
    }

    /// The harness's score of an evaluation's logits (and the rows `keep` asks for); malformed logits make the
    /// experiment invalid. The logits file is removed once scored.
    func score(_ windows: EvaluationWindows, logits: URL, label: String,
               keep: (Int, Int) -> Bool = { _, _ in false }) throws -> (score: EvaluationScore, kept: [[Int]: [Float]]) {
        defer { try? FileManager.default.removeItem(at: logits.deletingLastPathComponent().deletingLastPathComponent()) }
        do {
            return try EvaluationScore.score(windows, logits: logits, keep: keep)
        } catch let failure as EvaluationScore.Failure {
            throw ExperimentStop(status: .invalid, message: "\(label): \(failure.description)")
        }
    }

    /// The hidden test split, scored by the harness on the experiment's last checkpoint: for the baseline and for
    /// every keep. The number goes to the ledger only; no researcher ever sees it, nor what the test phase printed.
    func measureTest(_ experiment: inout Experiment) async throws {
        guard manifest.evaluation.scoring == .harness, let run = experiment.run else { return }
        do {
            let windows = try splitWindows(.test)
            let logits = try await evaluate(windows, kind: "test", label: "test split", run: run, for: &experiment)
            let score = try score(windows, logits: logits, label: "test split").score
            experiment.record.testBPB = score.bitsPerByte
            try ledger.save(experiment.record)
            LogFile.append(privateLog(experiment), String(format: "# test_bpb %.6f (hidden test split, computed by the harness)\n", score.bitsPerByte))
        } catch let stop as ExperimentStop {
            if stop.status == .interrupted { throw stop }
            LogFile.append(privateLog(experiment), "# the test split could not be measured: \(stop.message)\n")
        }
    }
}
