import AutoResearchCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import Harness

/// A stand-in subject for the harness's tests: a Python `train.py` with a hyperparameter block whose run prints
/// a summary block with val_bpb = f(hyperparameters) + noise of a known σ. The noise is drawn from
/// Random("SEED:run index"), where the run index counts runs in a file outside the workspace, so a test's sequence of
/// runs is deterministic, and a change of SEED alone changes nothing but the noise.
///
/// f: 1 + 0.1·(log10(LEARNING_RATE) + 2.5)² + 1e-5·(WIDTH − 128)² − 0.05·BONUS; the baseline (0.01, 64, 0) is 1.06596,
/// LEARNING_RATE 0.003 improves it by about 0.025, WIDTH 128 by 0.041.
/// DISTURB_RUN: the run with that index trains 4 × SLEEP while a process outside it loads a core, and scores 0.5 worse.
/// LUCKY_RUN: the run with that index scores 0.08 better (a lucky run). SLOW_UNTIL: runs with a smaller index score
/// 0.05 worse (measured in a slower hour of the machine).
/// BEHAVIOR: "ok", "nosummary", "nan", "fail" (prints FAIL: and exits 1), "hang" (sleeps with a child process
/// in its group, writing both pids to `pids`).
struct StandIn {
    let base: URL
    let workspaceURL: URL
    let templateURL: URL
    let sourceRoot: URL
    let counter: URL
    let pids: URL

    /// f(hyperparameters) without noise.
    static func quality(learningRate: Double = 0.01, width: Double = 64, bonus: Double = 0) -> Double {
        1 + 0.1 * pow(log10(learningRate) + 2.5, 2) + 1e-5 * pow(width - 128, 2) - 0.05 * bonus
    }

    /// A source root with the template (`Templates/standin`) and one vendored directory, in a fresh temporary directory.
    /// - Parameter seedOnlyNoise: the noise depends on SEED alone (Random("SEED")), as for a real trainer whose
    ///   runs are deterministic for a seed: repeating a seed then shows no noise at all.
    init(noise: Double = 0.002, sleep: Double = 0, seedOnlyNoise: Bool = false) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("harness-test-\(UUID().uuidString.prefix(8))")
        sourceRoot = base.appendingPathComponent("source")
        templateURL = sourceRoot.appendingPathComponent("Templates/standin")
        workspaceURL = base.appendingPathComponent("ws")
        counter = base.appendingPathComponent("runs")
        pids = base.appendingPathComponent("pids")
        let fm = FileManager.default
        try fm.createDirectory(at: templateURL, withIntermediateDirectories: true)
        try fm.createDirectory(at: sourceRoot.appendingPathComponent("vendored/lib"), withIntermediateDirectories: true)
        try "def helper():\n    return 1\n".write(to: sourceRoot.appendingPathComponent("vendored/lib/util.py"), atomically: true, encoding: .utf8)
        try """
        name = "standin"
        vendor = ["vendored/lib"]
        editable = ["train.py"]
        build = "python3 -m py_compile train.py"
        run = "python3 train.py"
        metric = "val_bpb"
        direction = "lower"
        """.write(to: templateURL.appendingPathComponent("template.toml"), atomically: true, encoding: .utf8)
        try "# Stand-in subject\nLower val_bpb.\n".write(to: templateURL.appendingPathComponent("program.md"), atomically: true, encoding: .utf8)
        try "fixed data\n".write(to: templateURL.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        try StandIn.trainPy(noise: noise, sleep: sleep, counter: counter.path, pids: pids.path, seedOnlyNoise: seedOnlyNoise)
            .write(to: templateURL.appendingPathComponent("train.py"), atomically: true, encoding: .utf8)
    }

    static func trainPy(noise: Double, sleep: Double, counter: String, pids: String, seedOnlyNoise: Bool = false) -> String {
        """
        LEARNING_RATE = 0.01  # range: 1e-4..1e-1
        WIDTH = 64  # range: 16..512
        SEED = 1
        SLEEP = \(sleep)
        BEHAVIOR = "ok"
        SEPARATOR = 0
        BONUS = 0.0  # range: 0..1
        DISTURB_RUN = -1
        LUCKY_RUN = -1
        SLOW_UNTIL = 0

        import math, os, random, subprocess, sys, time

        NOISE_SIGMA = \(noise)
        COUNTER = \(String(reflecting: counter))
        PIDS = \(String(reflecting: pids))


        def run_index():
            try:
                with open(COUNTER) as f:
                    n = int(f.read() or 0)
            except FileNotFoundError:
                n = 0
            with open(COUNTER, "w") as f:
                f.write(str(n + 1))
            return n


        def main():
            start = time.time()
            print("env time_budget=%s token_budget=%s data_dir=%s eval_test=%s" % (
                os.environ.get("AUTORESEARCH_TIME_BUDGET"), os.environ.get("AUTORESEARCH_TOKEN_BUDGET"),
                os.environ.get("AUTORESEARCH_DATA_DIR"), os.environ.get("AUTORESEARCH_EVAL_TEST")), flush=True)
            if BEHAVIOR == "hang":
                child = subprocess.Popen(["sleep", "3600"])
                with open(PIDS, "w") as f:
                    f.write("%d %d" % (os.getpid(), child.pid))
                time.sleep(3600)
            n = run_index()
            quality = 1 + 0.1 * (math.log10(LEARNING_RATE) + 2.5) ** 2 + 1e-5 * (WIDTH - 128) ** 2 - 0.05 * BONUS
            if n == DISTURB_RUN:
                # Another process (in its own session, outside the run) loads a core while this run is slow and bad.
                # Started through a shell that exits at once, so it is no descendant of the run (as another user's job).
                hog = "import time\\nt = time.time()\\nwhile time.time() - t < %f: pass" % (3.9 * SLEEP)
                subprocess.run(["/bin/sh", "-c", '"$0" -c "$1" >/dev/null 2>&1 &', sys.executable, hog], start_new_session=True)
                time.sleep(4 * SLEEP)
                quality += 0.5
            else:
                time.sleep(SLEEP)
            if n == LUCKY_RUN:
                quality -= 0.08
            if n < SLOW_UNTIL:
                quality += 0.05
            val = quality + NOISE_SIGMA * random.Random(\(seedOnlyNoise ? "\"%d\" % SEED" : "\"%d:%d\" % (SEED, n)")).gauss(0.0, 1.0)
            if BEHAVIOR == "fail":
                print("FAIL: loss is NaN at step 3", flush=True)
                sys.exit(1)
            if BEHAVIOR == "nosummary":
                print("training finished without a summary")
                return
            if BEHAVIOR == "nan":
                val = float("nan")
            print("---")
            print("val_bpb:          %.6f" % val)
            print("training_seconds: %.1f" % (time.time() - start))
            print("total_seconds:    %.1f" % (time.time() - start))
            print("peak_memory_mb:   2048.0")
            print("mfu_percent:      1.00")
            print("total_tokens_M:   0.1")
            print("num_steps:        10")
            print("num_params_M:     %.1f" % (WIDTH / 100))
            print("depth:            2")


        main()

        """
    }

    /// Creates the workspace from the template (time budget 1 s).
    @discardableResult
    func makeWorkspace(tokenBudget: Int? = nil) throws -> Workspace {
        try Workspace.create(at: workspaceURL, options: WorkspaceOptions(
            template: templateURL.path, timeBudget: 1, tokenBudget: tokenBudget,
            dataDirectory: base.appendingPathComponent("data").path, sourceRoot: sourceRoot))
    }

    /// Changes the manifest, commits it, and reopens the workspace.
    func editManifest(_ change: (inout Manifest) -> Void) throws -> Workspace {
        var manifest = try Manifest.load(workspace: workspaceURL)
        change(&manifest)
        try manifest.render().write(to: workspaceURL.appendingPathComponent(Manifest.fileName), atomically: true, encoding: .utf8)
        try Git(workspaceURL).run(["commit", "-q", "-a", "-m", "edit manifest"] + [])
        return try Workspace.open(workspaceURL)
    }

    /// The current train.py of `worktree` with hyperparameter `name` set to `value` (a Python literal).
    static func setting(_ assignments: [(String, String)], in source: String) -> String {
        var lines = source.components(separatedBy: "\n")
        for (name, value) in assignments {
            if let i = lines.firstIndex(where: { $0.hasPrefix(name + " = ") }) {
                let comment = lines[i].range(of: "  #").map { String(lines[i][$0.lowerBound...]) } ?? ""
                lines[i] = "\(name) = \(value)\(comment)"
            }
        }
        return lines.joined(separator: "\n")
    }

    func remove() { try? FileManager.default.removeItem(at: base) }
}

/// A researcher that plays a fixed script: each step edits hyperparameters of train.py (or returns raw files).
final class ScriptedResearcher: Researcher, @unchecked Sendable {
    enum Step {
        case set([(String, String)], String)
        case files([String: String], String)
        case fail(ResearcherError)
    }

    let name = "scripted"
    private let lock = NSLock()
    private var steps: [Step]
    private(set) var contexts: [ResearchContext] = []
    /// Seconds to think before each proposal (to order the workers of a swarm test).
    let delay: Double

    init(_ steps: [Step], delay: Double = 0) { self.steps = steps; self.delay = delay }

    func propose(_ context: ResearchContext) async throws -> Proposal {
        if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
        let step: Step? = lock.withLock {
            contexts.append(context)
            return steps.isEmpty ? nil : steps.removeFirst()
        }
        switch step {
        case nil: throw ResearcherError.nothingLeftToTry("the script is over")
        case .fail(let error): throw error
        case .files(let files, let description): return Proposal(files: files, description: description, hypothesis: "scripted")
        case .set(let assignments, let description):
            let source = try String(contentsOf: context.worktree.appendingPathComponent("train.py"), encoding: .utf8)
            return Proposal(files: ["train.py": StandIn.setting(assignments, in: source)], description: description,
                            hypothesis: "scripted", move: "hp:\(assignments.first?.0 ?? "")")
        }
    }
}

/// Runs a loop on the stand-in workspace and returns its summary and the ledger's records.
func runLoop(_ workspace: Workspace, _ researcher: any Researcher, tag: String = "t1", experiments: Int? = nil,
             baselineRuns: Int? = nil) async throws -> (RunSummary, [ExperimentRecord]) {
    var options = RunOptions(tag: tag, experiments: experiments, baselineRuns: baselineRuns)
    options.allowUntrusted = true  // the stand-in subject scores itself
    options.researcherFailurePause = 0
    let loop = try ResearchLoop(workspace: workspace, researcher: researcher, options: options, display: RecordingDisplay())
    let summary = try await loop.run()
    return (summary, try loop.ledger.experiments(tag: tag))
}

/// True while `pid` is a live process: not gone and not a zombie (a killed orphan waits for init to reap it).
/// Waits up to a second for a dying process to go.
func processIsRunning(_ pid: pid_t) -> Bool {
    for _ in 0..<50 {
        guard kill(pid, 0) == 0 else { return false }
        #if os(Linux)
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(close, offsetBy: 2)]
            if state == "Z" || state == "X" { return false }
        }
        #endif
        usleep(20_000)
    }
    return true
}

/// The smallest valid manifest text (no [fixed] entries), to which a test appends the tables it checks.
let minimalManifest = """
name = "x"
editable = ["train.py"]
build = "true"
run = "true"
[metric]
name = "val_bpb"
[budget]
seconds = 1.0
[fixed]

"""
