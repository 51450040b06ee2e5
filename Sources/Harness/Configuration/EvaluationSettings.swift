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

extension EvaluationSettings {
    /// The `[evaluation]` table's keys (`ManifestSchema`).
    static var keys: [ManifestKey<EvaluationSettings>] {
        [.choice("scoring", \.scoring, "\"harness\": the subject trains, then answers the harness's windows with logits in a fresh sandboxed process; the harness computes the metric and runs the causality probe. \"summary\": the subject's printed summary (self-reported).",
                 problem: { "is '\($0)'; use \"harness\" (the harness scores the model's logits) or \"summary\" (the subject's printed summary)." }),
         .int("batch", \.batch, "Windows to a forward call in the evaluation phase.", check: { $0 >= 1 }, problem: "must be at least 1."),
         .int("probe_cuts", \.probeCuts, "Rows the causality probe compares.", check: { $0 >= 1 }, problem: "must be at least 1: the causality probe cannot be turned off."),
         .number("probe_tolerance", \.probeTolerance, "How far the probe's log-probabilities may differ, nats.",
                 check: { $0 > 0 && $0 < 1 }, problem: "must be between 0 and 1 (nats), e.g. 0.001."),
         .number("training_grace_seconds", \.trainingGraceSeconds, "The training phase may run this many seconds past the time budget; beyond it the run is a crash.",
                 check: { $0 >= 0 }, problem: "must not be negative."),
         .number("timeout_seconds", \.timeoutSeconds, "Each evaluation process of the baseline is killed after this many seconds.",
                 check: { $0 > 0 }, problem: "must be positive."),
         .number("time_factor", \.timeFactor, "Other runs' evaluation, probe and test processes get this multiple of the baseline's time (at least \(Int(minimumLimitSeconds)) s), wall and CPU time.",
                 check: { $0 >= 1 }, problem: "must be at least 1 (a multiple of the baseline's evaluation time), e.g. 3.")]
    }
}

extension SandboxSettings {
    /// The `[sandbox]` table's keys (`ManifestSchema`).
    static var keys: [ManifestKey<SandboxSettings>] {
        [.choice("mode", \.mode, "Every build and run in bubblewrap (\"bwrap\", or \"auto\": where it works): no network, a read-only system, the worktree writable only to the build, a private /tmp, an allowlisted environment, and the limits below.",
                 problem: { "is '\($0)'; use \"auto\", \"bwrap\" or \"none\"." }),
         .int("memory_mb", \.memoryMB, "Address-space limit of a training or evaluation process, MiB; 0: three quarters of the machine's memory.",
              check: { $0 >= 0 }, problem: "must be 0 (three quarters of the machine's memory) or more."),
         .int("max_file_mb", \.maxFileMB, "The largest file a phase may write (its log included), MiB.", check: { $0 >= 1 }, problem: "must be at least 1."),
         .int("max_processes", \.maxProcesses, "Processes (threads included) a phase may have at once.", check: { $0 >= 1 }, problem: "must be at least 1."),
         .int("tmp_mb", \.tmpMB, "The size of a phase's /tmp (its home included) and, separately, of its /dev/shm, MiB.", check: { $0 >= 1 }, problem: "must be at least 1."),
         .int("max_output_mb", \.maxOutputMB, "The most a phase may leave in its output folder, MiB.", check: { $0 >= 1 }, problem: "must be at least 1."),
         .strings("home_read_only", \.homeReadOnly, "Folders of your home directory that runs see read-only (in the sandbox's private home).",
                  problem: { Manifest.isSafeRelativePath($0) ? nil : "names '\($0)', which is not a path inside the home directory (write e.g. \".cache/autoresearch\")." })]
    }
}

extension Manifest {
    static func parseEvaluation(_ table: TOMLTable, _ reader: TableReader) throws -> (EvaluationSettings, SandboxSettings) {
        var evaluation = EvaluationSettings()
        var sandbox = SandboxSettings()
        if table.contains(key: "evaluation") { try ManifestSchema.read(EvaluationSettings.keys, from: try reader.section("evaluation"), into: &evaluation) }
        if table.contains(key: "sandbox") { try ManifestSchema.read(SandboxSettings.keys, from: try reader.section("sandbox"), into: &sandbox) }
        return (evaluation, sandbox)
    }

    func renderEvaluation() -> [String] {
        ManifestSchema.render("evaluation", EvaluationSettings.keys, evaluation) + [""]
            + ManifestSchema.render("sandbox", SandboxSettings.keys, sandbox) + [""]
    }
}
