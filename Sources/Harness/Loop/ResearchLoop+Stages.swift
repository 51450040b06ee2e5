import AutoResearchCore
import Foundation
import SearchResearcher
import SubjectKit

/// The phases of one run — build, train, evaluate, probe, test — each a process confined by the sandbox
/// (`Sandbox`), started by the executor of its slot (`Executor`), timed by the harness.
///
/// With `evaluation.scoring = "harness"` nothing the subject prints is scored: the training phase sees only the
/// training split and writes a checkpoint; a fresh evaluation process restores it and answers the harness's
/// windows of the validation split with logits; the harness computes val_bpb from them (`EvaluationScore`) and
/// checks, in another fresh process, that outputs depend only on earlier positions (`CausalityProbe`). The test
/// split is scored the same way, only for the baseline and for keeps, and only the harness sees the number.
extension ResearchLoop {
    /// A run's folders, outside the worktree (which every run sees read-only): the training phase's output (the
    /// checkpoint) and one folder per evaluation. Removed when the experiment no longer needs the checkpoint.
    struct RunFolder: Sendable {
        let root: URL
        var checkpoint: URL { root.appendingPathComponent("train") }
        func evaluation(_ name: String) -> URL { root.appendingPathComponent(name) }

        init(workspace: Workspace, tag: String, experiment: Int) throws {
            root = workspace.stateDirectory.appendingPathComponent("runs/\(tag)/\(experiment)-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("train"), withIntermediateDirectories: true)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    // MARK: - Environment and executor

    /// The environment of a phase: the manifest's budget and data directory, `RunOptions.subjectEnvironment`, the
    /// slot's thread counts and the phase's own keys, over the allowlist of `SubjectEnvironment` (never the
    /// harness's own environment).
    func phaseEnvironment(_ phaseKeys: [String: String], slot: Slot) -> [String: String] {
        var subject = options.subjectEnvironment
        switch manifest.budget.mode {
        case .time:
            subject["AUTORESEARCH_TIME_BUDGET"] = clean(manifest.budget.seconds)
            subject["AUTORESEARCH_TOKEN_BUDGET"] = "0"
        case .tokens:
            subject["AUTORESEARCH_TOKEN_BUDGET"] = String(manifest.budget.tokens)
            subject["AUTORESEARCH_TIME_BUDGET"] = clean(manifest.budget.seconds)
        }
        if let data = dataDirectory { subject[EnvironmentKey.dataDirectory] = data }
        if let python = manifest.python {
            for (key, value) in PythonEnvironment.environment(python, root: workspace.root, path: ProcessInfo.processInfo.environment["PATH"]) {
                subject[key] = value
            }
        }
        for (key, value) in slot.environment { subject[key] = value }
        for (key, value) in phaseKeys { subject[key] = value }
        return SubjectEnvironment.make(subject: subject, sandboxed: sandbox != nil)
    }

    nonisolated func clean(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }

    /// The prepared corpus the manifest names; nil for none.
    nonisolated var dataDirectory: String? {
        workspace.manifest.dataDir.isEmpty ? nil : (workspace.manifest.dataDir as NSString).expandingTildeInPath
    }

    func slot(of experiment: Experiment) -> Slot { experiment.slotIndex.map { slots[$0] } ?? Slot(name: "local") }

    /// Runs one phase's command through the executor of the experiment's slot; the child's pid is in the ledger
    /// while it runs.
    /// `log` is the experiment's log unless given (the evaluation phases' private log).
    func runPhase(_ command: PhaseCommand, for experiment: inout Experiment, log: URL? = nil) async throws -> ProcessResult {
        let slot = slot(of: experiment)
        var command = command
        if let python = manifest.python { command.view.readOnly += PythonEnvironment.sandboxPaths(python, root: workspace.root) }
        if let gpus = slot.gpus { command.view.devices = Sandbox.gpuDevices(gpus: gpus) }
        let executor: any Executor = slot.slurm != nil
            ? SlurmExecutor(sandbox: sandbox, jobName: "autoresearch-\(tag)-\(experiment.record.number)")
            : LocalExecutor(sandbox: sandbox, maxFileMB: manifest.sandbox.maxFileMB)
        let result = try await executor.run(command, in: slot, log: log ?? experiment.log, onStart: { [ledger, record = experiment.record] pid in
            var r = record; r.pid = Int(pid); try? ledger.save(r)
        })
        experiment.record.pid = nil
        return result
    }

    // MARK: - Worktree hygiene

    /// Right before every build and every run: the worktree holds the committed tree (the harness's own seed
    /// change aside) and build outputs only — an untracked file is refused by name — and every protected file
    /// still has its recorded hash.
    func checkWorktree(_ experiment: Experiment) throws {
        let untracked = (try? Git(experiment.worktree).run(["status", "--porcelain", "--untracked-files=all"]))?
            .split(separator: "\n").filter { $0.hasPrefix("?? ") }.map { String($0.dropFirst(3)) } ?? []
        guard untracked.isEmpty else {
            throw ExperimentStop(status: .crash, message: "integrity: the worktree has files that are not in the commit: \(untracked.sorted().joined(separator: ", ")); "
                                 + "only committed files take part in a build (a researcher may change the editable files only)")
        }
        do { try workspace.verifyFixed(in: experiment.worktree) } catch let error as HarnessError {
            throw ExperimentStop(status: .crash, message: "integrity: \(error.description)")
        }
    }

    // MARK: - Build

    /// Builds in the worktree (the only phase that may write there, and only its build outputs matter). A failed
    /// build is a crash whose message is the compiler's last lines.
    func build(_ experiment: inout Experiment) async throws {
        try await setStage(&experiment, .build, limit: nil)
        try checkWorktree(experiment)
        LogFile.append(experiment.log, "# build: \(manifest.build)\n")
        let offset = LogFile.size(experiment.log)
        let worktree = experiment.worktree.path
        let command = PhaseCommand(command: manifest.build,
                                   view: Sandbox.View(workingDirectory: worktree, writable: [worktree], limitMemory: false),
                                   environment: phaseEnvironment([:], slot: slot(of: experiment)),
                                   timeout: manifest.budget.buildTimeoutSeconds)
        let result = try await runPhase(command, for: &experiment)
        experiment.record.buildSeconds = (experiment.record.buildSeconds ?? 0) + result.seconds
        try ledger.save(experiment.record)
        switch result.termination {
        case .exited(0): return
        case .cancelled: throw ExperimentStop(status: .interrupted, message: "interrupted during the build")
        case .timedOut:
            throw ExperimentStop(status: .crash, message: "the build ran past \(Int(manifest.budget.buildTimeoutSeconds)) s and was killed")
        default:
            throw ExperimentStop(status: .crash, message: "build failed (\(result.termination)): " + tail(of: experiment.log, since: offset, lines: 15),
                                 compilerOutput: tail(of: experiment.log, since: offset, lines: 60))
        }
    }

    // MARK: - Train and score

    /// For run `run` ≥ 1 of a commit: the editable file holding the seed hyperparameter, its committed
    /// text, and the text with the seed moved by run × `NoiseSettings.seedStride` (see `seedParameter`).
    func reseeded(run: Int, in worktree: URL) -> (url: URL, original: String, changed: String, note: String)? {
        let name = manifest.noise.seedParameter
        guard run > 0, !name.isEmpty else { return nil }
        for path in manifest.editable {
            let url = worktree.appendingPathComponent(path)
            guard let source = try? String(contentsOf: url, encoding: .utf8),
                  let block = try? HyperparameterBlock.parse(source, path: path),
                  let seed = block.parameter(named: name), case .int(let value) = seed.value else { continue }
            // Wrapping: a seed of Int.max must move, not trap the harness (the red team's finding 7).
            let moved = value &+ run &* NoiseSettings.seedStride
            return (url, source, block.replacing(name, with: .int(moved), in: source), "\(name) \(value) → \(moved)")
        }
        return nil
    }

    /// One training run; returns its metric and throughput. Run 0 uses the commit as it is; later runs (noise runs,
    /// confirmations, re-runs) move its seed first and rebuild.
    func train(_ experiment: inout Experiment, label: String, phase: ExperimentStage, run: Int) async throws -> RunMeasurement {
        if let seed = reseeded(run: run, in: experiment.worktree) {
            try seed.changed.write(to: seed.url, atomically: true, encoding: .utf8)
            defer { try? seed.original.write(to: seed.url, atomically: true, encoding: .utf8) }
            LogFile.append(experiment.log, "# \(label) uses another seed: \(seed.note) (not committed)\n")
            try await build(&experiment)
            return try await trainOnce(&experiment, label: "\(label) [\(seed.note)]", phase: phase)
        }
        return try await trainOnce(&experiment, label: label, phase: phase)
    }

    func trainOnce(_ experiment: inout Experiment, label: String, phase: ExperimentStage) async throws -> RunMeasurement {
        try await setStage(&experiment, phase, limit: manifest.budget.seconds)
        try checkWorktree(experiment)
        switch manifest.evaluation.scoring {
        case .summary: return try await trainSelfScored(&experiment, label: label)
        case .harness: return try await trainAndScore(&experiment, label: label)
        }
    }

    /// A run's end as a stop, when it did not exit 0.
    func stop(for result: ProcessResult, label: String, limit: Double, offset: Int, log: URL) -> ExperimentStop? {
        switch result.termination {
        case .exited(0): return nil
        case .cancelled: return ExperimentStop(status: .interrupted, message: "interrupted during \(label)")
        case .timedOut:
            return ExperimentStop(status: .crash, message: "\(label) ran past the hard limit of \(Int(limit)) s and was killed")
        default:
            let output = tail(of: log, since: offset, lines: 15)
            let failLine = output.split(separator: "\n").last { $0.hasPrefix("FAIL:") }.map(String.init)
            return ExperimentStop(status: .crash, message: "\(label) \(result.termination): " + (failLine ?? output))
        }
    }

    /// The training phase, then the evaluation, the causality probe and (for the baseline and keeps, later) the
    /// test; returns val_bpb as the harness computed it, with the training phase's throughput.
    func trainAndScore(_ experiment: inout Experiment, label: String) async throws -> RunMeasurement {
        guard let data = dataDirectory else {
            throw ExperimentStop(status: .crash, message: "the manifest has no data_dir: the harness needs the prepared corpus to score the run (autoresearch prepare)")
        }
        experiment.run?.remove()
        let run = try RunFolder(workspace: workspace, tag: tag, experiment: experiment.record.number)
        experiment.run = run
        let worktree = experiment.worktree.path
        let slot = slot(of: experiment)

        // Train: the training split only, a writable output folder, the worktree read-only; timed here.
        let train = PhaseCommand(
            command: manifest.run,
            view: Sandbox.View(workingDirectory: worktree,
                               readOnly: [worktree, data + "/meta.json", data + "/train.txt"], writable: [run.checkpoint.path]),
            environment: phaseEnvironment([EnvironmentKey.phase: "train", EnvironmentKey.output: run.checkpoint.path], slot: slot),
            timeout: manifest.budget.hardLimitSeconds)
        LogFile.append(experiment.log, "# \(label), train phase: \(manifest.run)  [\(shown(train.environment))]\n")
        let offset = LogFile.size(experiment.log)
        let (trained, machine) = try await runTimedPhase(train, for: &experiment)
        experiment.record.runSeconds = (experiment.record.runSeconds ?? 0) + trained.seconds
        if let stop = stop(for: trained, label: label, limit: train.timeout, offset: offset, log: experiment.log) { throw stop }
        let allowed = manifest.budget.seconds + manifest.evaluation.trainingGraceSeconds
        if manifest.budget.mode == .time, trained.seconds > allowed {
            throw ExperimentStop(status: .crash, message: String(format: "%@ trained for %.1f s, past the time budget of %@ s + %@ s of grace (measured by the harness, whatever the run printed)",
                                                                 label, trained.seconds, clean(manifest.budget.seconds), clean(manifest.evaluation.trainingGraceSeconds)))
        }
        try checkOutput(run.checkpoint, of: "\(label) (train phase)")
        try checkRunFolder(run, after: "\(label) (train phase)")
        let report = TrainingReport.parse(LogFile.tail(experiment.log, from: offset, bytes: 64 * 1024) ?? "")
        experiment.record.trainingSeconds = trained.seconds
        experiment.record.peakMemoryMB = report?.peakMemoryMB; experiment.record.mfuPercent = report?.mfuPercent
        experiment.record.totalTokensM = report?.totalTokensM; experiment.record.numSteps = report?.numSteps
        experiment.record.numParamsM = report?.numParamsM; experiment.record.depth = report?.depth
        try ledger.save(experiment.record)

        // Evaluate: the validation windows, scored here; then the probe in a fresh process.
        let windows = try splitWindows(.validation)
        let probe = CausalityProbe(main: windows, count: manifest.evaluation.probeCuts, seed: UInt64.random(in: 0...UInt64.max))
        let scored = try score(windows, logits: try await evaluate(windows, kind: "val", label: label, run: run, for: &experiment),
                               label: "\(label): evaluation of val", keep: probe.needs)
        let probed = try await evaluate(probe.windows, kind: "probe", label: label, run: run, for: &experiment)
        let violation: String?
        do {
            violation = try probe.violation(scored: scored.kept, probeLogits: probed, tolerance: Float(manifest.evaluation.probeTolerance))
        } catch {
            throw ExperimentStop(status: .invalid, message: "causality probe: \(error)")
        }
        if let violation { throw ExperimentStop(status: .invalid, message: violation) }
        LogFile.append(experiment.log, String(format: "# %@: val_bpb %.6f over %d positions (computed by the harness); causality probe passed (%d cuts)\n",
                                              label, scored.score.bitsPerByte, scored.score.positions, probe.cuts.count))
        experiment.record.valBPB = scored.score.bitsPerByte
        experiment.record.totalSeconds = (experiment.record.totalSeconds ?? 0) + trained.seconds
        try ledger.save(experiment.record)
        return measurement(scored.score.bitsPerByte, seconds: trained.seconds, steps: report?.numSteps,
                           tokensM: report?.totalTokensM, machine: machine, log: experiment.log)
    }

    /// The training phase, with the load other processes put on the slot's cores meanwhile (local slots on Linux;
    /// nil elsewhere): `MachineLoad`'s busy seconds of those cores minus the phase's own CPU seconds, per second.
    /// With it, the median of `MachineProbe`'s timings meanwhile (local slots).
    func runTimedPhase(_ command: PhaseCommand, for experiment: inout Experiment) async throws -> (ProcessResult, MachineView) {
        let slot = slot(of: experiment)
        let cores = slot.cpus.flatMap(Slot.cores)
        let local = slot.slurm == nil
        let before = local ? MachineLoad.busySeconds(cores: cores) : nil
        let probe = local ? MachineProbe() : nil
        probe?.start()
        let result = try await runPhase(command, for: &experiment)
        let probeMilliseconds = probe?.stop()
        let after = local ? MachineLoad.busySeconds(cores: cores) : nil
        return (result, MachineView(foreignLoad: MachineLoad.foreignCores(busyBefore: before, busyAfter: after, ownCPUSeconds: result.cpuSeconds,
                                                                          wallSeconds: result.seconds),
                                    probeMilliseconds: probeMilliseconds))
    }

    /// What the harness saw of the machine while a run trained.
    struct MachineView { var foreignLoad: Double?; var probeMilliseconds: Double? }

    /// A run's measurement, logged in one line.
    func measurement(_ metric: Double, seconds: Double, steps: Int?, tokensM: Double?, machine: MachineView, log: URL) -> RunMeasurement {
        let m = RunMeasurement(metric: metric, seconds: seconds, steps: steps, tokensPerSecond: tokensM.map { $0 * 1e6 / max(seconds, 1e-9) },
                               foreignLoad: machine.foreignLoad, probeMilliseconds: machine.probeMilliseconds)
        var parts = [String(format: "%.1f s", seconds)]
        if let steps { parts.append("\(steps) steps") }
        if let sps = m.stepsPerSecond { parts.append(String(format: "%.2f steps/s", sps)) }
        if let tps = m.tokensPerSecond { parts.append(String(format: "%.0f tokens/s", tps)) }
        if let load = machine.foreignLoad { parts.append(String(format: "other processes %.2f cores", load)) }
        if let probe = machine.probeMilliseconds { parts.append(String(format: "machine probe %.2f ms", probe)) }
        LogFile.append(log, "# throughput: " + parts.joined(separator: ", ") + "\n")
        return m
    }

    /// The subject scores itself (`evaluation.scoring = "summary"`: benchmark subjects): its run prints a `---`
    /// summary block, and the harness reads the metric from it.
    func trainSelfScored(_ experiment: inout Experiment, label: String) async throws -> RunMeasurement {
        let worktree = experiment.worktree.path
        let command = PhaseCommand(command: manifest.run, view: Sandbox.View(workingDirectory: worktree, readOnly: [worktree]),
                                   environment: phaseEnvironment([:], slot: slot(of: experiment)), timeout: manifest.budget.hardLimitSeconds)
        LogFile.append(experiment.log, "# \(label): \(manifest.run)  [\(shown(command.environment))]\n")
        let offset = LogFile.size(experiment.log)
        let (result, machine) = try await runTimedPhase(command, for: &experiment)
        experiment.record.runSeconds = (experiment.record.runSeconds ?? 0) + result.seconds
        try ledger.save(experiment.record)
        if let stop = stop(for: result, label: label, limit: command.timeout, offset: offset, log: experiment.log) { throw stop }
        let output = LogFile.tail(experiment.log, from: offset) ?? ""
        let metrics: RunMetrics
        do { metrics = try SubjectBridge.readSummary(output, metric: manifest.metric) } catch {
            throw ExperimentStop(status: .crash, message: "\(label): no usable summary block (\(error)); the subject must print `---` then `val_bpb: ...` lines")
        }
        let v = metrics
        experiment.record.valBPB = v.value("val_bpb")
        experiment.record.peakMemoryMB = v.value("peak_memory_mb", "peak_vram_mb"); experiment.record.mfuPercent = v.value("mfu_percent")
        experiment.record.totalTokensM = v.value("total_tokens_M"); experiment.record.numSteps = v.value("num_steps").flatMap { Int(checking: $0) }
        experiment.record.numParamsM = v.value("num_params_M"); experiment.record.depth = v.value("depth").flatMap { Int(checking: $0) }
        experiment.record.trainingSeconds = v.value("training_seconds"); experiment.record.totalSeconds = v.value("total_seconds")
        try ledger.save(experiment.record)
        return measurement(metrics.metric, seconds: result.seconds, steps: experiment.record.numSteps, tokensM: experiment.record.totalTokensM,
                           machine: machine, log: experiment.log)
    }

    /// `KEY=value` pairs of the subject's own keys, for the log (the allowlisted PATH, HOME, … left out).
    func shown(_ environment: [String: String]) -> String {
        environment.keys.filter { $0.hasPrefix("AUTORESEARCH_") }.sorted().map { "\($0)=\(environment[$0]!)" }.joined(separator: " ")
    }

    // MARK: - Logs

    func appendLog(_ url: URL, _ text: String) { LogFile.append(url, text) }

    /// The last `lines` lines of the log from `offset` on, without the harness's own `# ` lines (read by the tail).
    func tail(of url: URL, since offset: Int?, lines: Int) -> String {
        let all = (LogFile.tail(url, from: offset ?? 0, bytes: 256 * 1024) ?? "").split(separator: "\n").filter { !$0.hasPrefix("# ") }
        return all.suffix(lines).joined(separator: "\n")
    }
}
