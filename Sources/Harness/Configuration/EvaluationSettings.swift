import Foundation
import TOMLKit

/// How a run is scored and confined: the manifest's `[evaluation]` and `[sandbox]` tables (part of the
/// evaluation, so part of the tag's hash).
public struct EvaluationSettings: Sendable, Equatable {
    /// Who computes the metric.
    public enum Scoring: String, Sendable, CaseIterable {
        /// The harness: the subject trains in one sandboxed phase and answers windows with logits in another;
        /// the harness computes val_bpb (and test_bpb) itself and runs the causality probe. Nothing the
        /// subject prints is scored. The GPT subject uses it.
        case harness
        /// The subject prints a `---` summary block and the harness reads the metric from it: the score is
        /// self-reported, fit for benchmark subjects (the quadratic) and the search researcher only.
        case summary
    }

    public var scoring: Scoring = .summary
    /// Windows to a forward call in the evaluation phase (16, as `bitsPerByte` always used).
    public var batch = 16
    /// Cut windows the causality probe compares, and how far their log-probabilities may differ (nats).
    public var probeCuts = 128
    public var probeTolerance = 1e-3
    /// The training phase may run this many seconds past the time budget (start-up, loading, the checkpoint);
    /// beyond it the run is a crash, whatever it printed.
    public var trainingGraceSeconds: Double = 15
    /// Each evaluation process is killed after this many seconds (the baseline's, and any run's before the
    /// baseline has been measured).
    public var timeoutSeconds: Double = 900
    /// Every other run's evaluation, probe and test processes are killed after this multiple of the baseline's
    /// slowest (at least `EvaluationSettings.minimumLimitSeconds`), wall time and CPU time: an evaluation answers
    /// windows, it does not go on training (the red team's finding 4). A candidate whose model is this much bigger
    /// than the baseline's needs a larger factor.
    public var timeFactor: Double = 3
    /// The least limit `timeFactor` gives, seconds (start-up and loading dominate the smallest evaluations).
    public static let minimumLimitSeconds: Double = 20

    public init() {}
}

/// How builds and runs are confined (`[sandbox]`).
public struct SandboxSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// bubblewrap where it works, else none (with the refusals and warnings that come with none).
        case auto
        /// bubblewrap, or refuse to run.
        case bwrap
        /// No sandbox: only for subjects whose runs must reach outside (none of ours); LLM and command
        /// researchers then need `--allow-unsandboxed`.
        case none
    }

    public var mode: Mode = .auto
    /// Address-space limit of a training or evaluation process, MiB; 0 = three quarters of the machine's memory.
    public var memoryMB = 0
    /// The largest file a phase may write (its log included), MiB.
    public var maxFileMB = 2048
    /// Processes (threads included) a phase may have at once.
    public var maxProcesses = 4096
    /// The size of a phase's `/tmp` (its HOME included) and, separately, of its `/dev/shm`, MiB: both are memory.
    public var tmpMB = 2048
    /// The most a phase may leave in its output folder (the checkpoint, the logits), MiB; checked when it ends.
    public var maxOutputMB = 4096
    /// Folders of the harness user's home directory every phase sees read-only at the same place under its own
    /// private home (e.g. ".cache/autoresearch", where an adopted repository keeps its data and tokenizer).
    public var homeReadOnly: [String] = []

    public init() {}
}

extension Manifest {
    static func parseEvaluation(_ table: TOMLTable, _ reader: TableReader) throws -> (EvaluationSettings, SandboxSettings) {
        var evaluation = EvaluationSettings()
        var sandbox = SandboxSettings()
        if table.contains(key: "evaluation") {
            let t = try reader.section("evaluation")
            let scoring = try t.optionalString("scoring") ?? evaluation.scoring.rawValue
            guard let mode = EvaluationSettings.Scoring(rawValue: scoring) else {
                throw HarnessError.manifestKey(key: "evaluation.scoring", problem: "is '\(scoring)'; use \"harness\" (the harness scores the model's logits) or \"summary\" (the subject's printed summary).")
            }
            evaluation.scoring = mode
            evaluation.batch = try t.optionalInt("batch") ?? evaluation.batch
            evaluation.probeCuts = try t.optionalInt("probe_cuts") ?? evaluation.probeCuts
            evaluation.probeTolerance = try t.optionalNumber("probe_tolerance") ?? evaluation.probeTolerance
            evaluation.trainingGraceSeconds = try t.optionalNumber("training_grace_seconds") ?? evaluation.trainingGraceSeconds
            evaluation.timeoutSeconds = try t.optionalNumber("timeout_seconds") ?? evaluation.timeoutSeconds
            evaluation.timeFactor = try t.optionalNumber("time_factor") ?? evaluation.timeFactor
            guard evaluation.timeFactor >= 1 else { throw HarnessError.manifestKey(key: "evaluation.time_factor", problem: "must be at least 1 (a multiple of the baseline's evaluation time), e.g. 3.") }
            guard evaluation.batch >= 1 else { throw HarnessError.manifestKey(key: "evaluation.batch", problem: "must be at least 1.") }
            guard evaluation.probeCuts >= 1 else {
                throw HarnessError.manifestKey(key: "evaluation.probe_cuts", problem: "must be at least 1: the causality probe cannot be turned off.")
            }
            guard evaluation.probeTolerance > 0, evaluation.probeTolerance < 1 else {
                throw HarnessError.manifestKey(key: "evaluation.probe_tolerance", problem: "must be between 0 and 1 (nats), e.g. 0.001.")
            }
            guard evaluation.trainingGraceSeconds >= 0 else { throw HarnessError.manifestKey(key: "evaluation.training_grace_seconds", problem: "must not be negative.") }
            guard evaluation.timeoutSeconds > 0 else { throw HarnessError.manifestKey(key: "evaluation.timeout_seconds", problem: "must be positive.") }
        }
        if table.contains(key: "sandbox") {
            let t = try reader.section("sandbox")
            let mode = try t.optionalString("mode") ?? sandbox.mode.rawValue
            guard let m = SandboxSettings.Mode(rawValue: mode) else {
                throw HarnessError.manifestKey(key: "sandbox.mode", problem: "is '\(mode)'; use \"auto\", \"bwrap\" or \"none\".")
            }
            sandbox.mode = m
            sandbox.memoryMB = try t.optionalInt("memory_mb") ?? sandbox.memoryMB
            sandbox.maxFileMB = try t.optionalInt("max_file_mb") ?? sandbox.maxFileMB
            sandbox.maxProcesses = try t.optionalInt("max_processes") ?? sandbox.maxProcesses
            sandbox.tmpMB = try t.optionalInt("tmp_mb") ?? sandbox.tmpMB
            sandbox.maxOutputMB = try t.optionalInt("max_output_mb") ?? sandbox.maxOutputMB
            sandbox.homeReadOnly = try t.optionalStrings("home_read_only") ?? []
            for path in sandbox.homeReadOnly where !Manifest.isSafeRelativePath(path) {
                throw HarnessError.manifestKey(key: "sandbox.home_read_only", problem: "names '\(path)', which is not a path inside the home directory (write e.g. \".cache/autoresearch\").")
            }
            for (key, value) in [("memory_mb", sandbox.memoryMB + 1), ("max_file_mb", sandbox.maxFileMB), ("max_processes", sandbox.maxProcesses),
                                 ("tmp_mb", sandbox.tmpMB), ("max_output_mb", sandbox.maxOutputMB)] where value < 1 {
                throw HarnessError.manifestKey(key: "sandbox.\(key)", problem: "must be at least 1.")
            }
        }
        return (evaluation, sandbox)
    }

    func renderEvaluation() -> [String] {
        [
            "[evaluation]",
            "# \"harness\": the subject trains, then answers the harness's windows with logits in a fresh sandboxed process;",
            "# the harness computes the metric and runs the causality probe. \"summary\": the subject's printed summary (self-reported).",
            "scoring = \(tomlString(evaluation.scoring.rawValue))",
            "batch = \(evaluation.batch)",
            "probe_cuts = \(evaluation.probeCuts)",
            "probe_tolerance = \(tomlNumber(evaluation.probeTolerance))",
            "training_grace_seconds = \(tomlNumber(evaluation.trainingGraceSeconds))",
            "timeout_seconds = \(tomlNumber(evaluation.timeoutSeconds))",
            "# Other runs' evaluation, probe and test processes get this multiple of the baseline's time (at least \(Int(EvaluationSettings.minimumLimitSeconds)) s).",
            "time_factor = \(tomlNumber(evaluation.timeFactor))",
            "",
            "[sandbox]",
            "# Every build and run in bubblewrap: no network, a read-only system, the worktree writable only to the build,",
            "# a private /tmp, an environment that is an allowlist, and limits below. \"auto\" | \"bwrap\" | \"none\".",
            "mode = \(tomlString(sandbox.mode.rawValue))",
            "memory_mb = \(sandbox.memoryMB)",
            "max_file_mb = \(sandbox.maxFileMB)",
            "max_processes = \(sandbox.maxProcesses)",
            "tmp_mb = \(sandbox.tmpMB)",
            "max_output_mb = \(sandbox.maxOutputMB)",
        ] + (sandbox.homeReadOnly.isEmpty ? [] : [
            "# Folders of your home directory that runs see read-only (in the sandbox's private home).",
            "home_read_only = \(tomlArray(sandbox.homeReadOnly))",
        ]) + [
            "",
        ]
    }
}
