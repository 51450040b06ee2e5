import AutoResearchCore
import Foundation
import SearchResearcher
import Testing
@testable import Harness

/// A meta-researcher that proposes what it is told, in order, and records the contexts it got.
final class ScriptedProgramResearcher: ProgramResearcher, @unchecked Sendable {
    let name = "scripted-meta"
    private var proposals: [ProgramProposal]
    private(set) var contexts: [ProgramContext] = []
    init(_ proposals: [ProgramProposal]) { self.proposals = proposals }

    func proposeProgram(_ context: ProgramContext) async throws -> ProgramProposal {
        contexts.append(context)
        guard !proposals.isEmpty else { throw ResearcherError.nothingLeftToTry("the script is over") }
        return proposals.removeFirst()
    }
}

@Suite struct MetaPolicyTests {
    @Test func aWindowScoresTheCandidatesProgressAgainstTheControlsBeyondTheNoise() {
        #expect(MetaPolicy.score(program: 0.3, control: 0.1, margin: 0.01) == (0.3 - 0.1) / 0.3)
        #expect(abs(MetaPolicy.score(program: 0.1, control: 0.4, margin: 0.01) + 0.75) < 1e-12)
        #expect(MetaPolicy.score(program: 0.2, control: 0, margin: 0.01) == 1)
        // Within the keep margin: the noise could make that difference, so it counts for nothing.
        #expect(MetaPolicy.score(program: 0.105, control: 0.1, margin: 0.01) == 0)
        #expect(MetaPolicy.score(program: 0, control: 0, margin: 0) == 0)
        // Per hour: the candidate moved twice as far in four times the compute.
        #expect(MetaPolicy.scorePerHour(program: 0.2, programSeconds: 400, control: 0.1, controlSeconds: 100, margin: 0.01) == -0.5)
        #expect(MetaPolicy.scorePerHour(program: 0.2, programSeconds: 0, control: 0.1, controlSeconds: 100, margin: 0.01) == 0)
    }

    @Test func aChallengerIsKeptOnlyOnConsistentEvidence() {
        let settings = MetaSettings(minWindows: 2, maxWindows: 3)
        #expect(MetaPolicy.verdict(scores: [0.8], settings: settings) == .undecided)
        // Two windows: the mean must exceed t(1 df) = 3.078 standard errors.
        #expect(MetaPolicy.verdict(scores: [0.4, 0.3], settings: settings)
                == .keep("mean score +0.35 ± 0.05 over 2 window(s): faster than the control (one-sided t-test, 90 %)"))
        #expect(MetaPolicy.verdict(scores: [0.4, 0.2], settings: settings) == .undecided)
        // Three windows: t(2 df) = 1.886.
        #expect(MetaPolicy.verdict(scores: [0.4, 0.2, 0.3], settings: settings)
                == .keep("mean score +0.30 ± 0.06 over 3 window(s): faster than the control (one-sided t-test, 90 %)"))
        // One good window and one lost: the mean is within one standard error of 0, so more windows are needed.
        #expect(MetaPolicy.verdict(scores: [0.9, -0.1], settings: settings) == .undecided)
        #expect(MetaPolicy.verdict(scores: [0.9, -0.1, -0.05], settings: settings)
                == .retire("mean score +0.25 ± 0.33 over 3 window(s): not clearly faster after 3 windows"))
        #expect(MetaPolicy.verdict(scores: [0, 0], settings: settings) == .retire("mean score +0.00 ± 0.00 over 2 window(s): no faster than the control"))
    }

    @Test func theBanditPrefersUnscoredThenBetterThenLessTriedPrograms() {
        #expect(MetaPolicy.ucb(scores: [], totalWindows: 5, exploration: 0.5) == .infinity)
        let n = 9.0
        #expect(abs(MetaPolicy.ucb(scores: [0.2, 0.4], totalWindows: 9, exploration: 0.5) - (0.3 + 0.5 * (2 * log(n) / 2).squareRoot())) < 1e-12)
        #expect(MetaPolicy.ucb(scores: [0.1], totalWindows: 9, exploration: 0.5) > MetaPolicy.ucb(scores: [0.1, 0.1, 0.1], totalWindows: 9, exploration: 0.5))
    }

    @Test func theDiffShowsSettingsThenProgramLines() {
        let diff = MetaPolicy.diff(from: ("a\nb\nc", ["stepSize": "1", "momentum": "true"]),
                                   to: ("a\nB\nc", ["stepSize": "2", "momentum": "true"]))
        #expect(diff == "settings.stepSize: 1 → 2\n--- program.md (parent)\n+++ program.md\n-2: b\n+2: B")
        #expect(MetaPolicy.diff(from: ("x", [:]), to: ("x", [:])) == "")
    }

    @Test func searchSettingsAreReadFromTheResearcherTableAndChecked() throws {
        let manifest = try Manifest.parse(minimalManifest + "[researcher.search]\nstep_size = 2\nmomentum = false\n")
        let settings = try JSONDecoder().decode(SearchSettings.self, from: Data(try #require(manifest.researcher.search).utf8))
        #expect(settings == SearchSettings(stepSize: 2, momentum: false))
        #expect(try Manifest.parse(manifest.render()).researcher.search == manifest.researcher.search)
        #expect(throws: HarnessError.manifestKey(key: "researcher.search.boldness", problem: "is not a search setting; use hyperparameter_prior, idea_prior, prior_weight, exploration, idea_probability, step_size, momentum, combine_probability, near_miss_sigmas, step_growth, surrogate_trust.")) {
            try Manifest.parse(minimalManifest + "[researcher.search]\nboldness = 2\n")
        }
        #expect(throws: HarnessError.manifestKey(key: "researcher.search", problem: "invalid search settings: stepSize is 20.0; it must be above 0 and at most 8")) {
            try Manifest.parse(minimalManifest + "[researcher.search]\nstep_size = 20\n")
        }
    }

    @Test func metaSettingsAreReadCheckedAndLeftOutOfTheTagHash() throws {
        let manifest = try Manifest.parse(minimalManifest + "[meta]\nwindow = 6\nmin_windows = 3\nmax_windows = 5\npopulation = 3\nexploration = 0.2\nresearcher = \"mutation\"\n")
        #expect(manifest.meta == MetaSettings(window: 6, minWindows: 3, maxWindows: 5, population: 3, exploration: 0.2, researcher: "mutation"))
        #expect(try Manifest.parse(manifest.render()).meta == manifest.meta)
        #expect(ResearcherSection.strip(from: "a = 1\n[meta]\nwindow = 6\n[fixed]\n") == "a = 1\n[fixed]\n")
        #expect(throws: HarnessError.manifestKey(key: "meta.max_windows", problem: "is 1, below min_windows (2).")) {
            try Manifest.parse(minimalManifest + "[meta]\nmax_windows = 1\n")
        }
        #expect(throws: HarnessError.manifestKey(key: "meta.researcher", problem: "is 'gpt'; use one of mutation, anthropic, openai.")) {
            try Manifest.parse(minimalManifest + "[meta]\nresearcher = \"gpt\"\n")
        }
    }
}

@Suite struct ProgramGuardTests {
    func proposal(text: String = "# Program\nBe bold.\n", settings: String = "{\"stepSize\":2}") -> ProgramProposal {
        ProgramProposal(draft: ProgramDraft(text: text, settings: settings), description: "bolder", hypothesis: "h")
    }

    @Test func aProgramThatTouchesProtectedFieldsIsRefused() {
        let protected = "a program cannot change the evaluation, the editable files or the spending caps"
        #expect(ProgramGuard.refusal(proposal(settings: "{\"stepSize\":2,\"maxCostPerSession\":100}"))
                == "it sets the protected field 'maxCostPerSession'; \(protected)")
        #expect(ProgramGuard.refusal(proposal(settings: "{\"editable\":[\"prepare.py\"]}")) == "it sets the protected field 'editable'; \(protected)")
        #expect(ProgramGuard.refusal(proposal(text: "# P\nbudget.seconds = 600\n")) == "its program.md sets the protected field 'budget.seconds'; \(protected)")
        #expect(ProgramGuard.refusal(proposal(text: "# P\n- `editable`: train.py, prepare.py\n")) == "its program.md sets the protected field 'editable'; \(protected)")
        #expect(ProgramGuard.refusal(proposal(text: "# P\n[researcher.limits]\nmax_turns = 99\n")) == "its program.md sets the protected field 'researcher.limits'; \(protected)")
        #expect(ProgramGuard.refusal(proposal(text: "# P\n[metric]\n")) == "its program.md sets the protected field 'metric'; \(protected)")
    }

    @Test func malformedProgramsAreRefusedWithTheReason() {
        #expect(ProgramGuard.refusal(proposal(settings: "[1]"))?.hasPrefix("its settings are not a JSON object") == true)
        #expect(ProgramGuard.refusal(proposal(settings: "{\"boldness\":1}"))?.hasPrefix("its settings name 'boldness', which is not a search setting") == true)
        #expect(ProgramGuard.refusal(proposal(settings: "{\"stepSize\":20}")) == "its settings are out of range: invalid search settings: stepSize is 20.0; it must be above 0 and at most 8")
        #expect(ProgramGuard.refusal(proposal(text: "  \n")) == "its program.md is empty")
    }

    @Test func ordinaryProgramsPass() {
        #expect(ProgramGuard.refusal(proposal()) == nil)
        // Prose about the budget is fine; only assignments and tables are refused.
        #expect(ProgramGuard.refusal(proposal(text: "# P\nThe time budget is fixed: spend it on width.\nNote: keep changes small.\n")) == nil)
    }
}

@Suite struct SettingsMutatorTests {
    @Test func aMutationChangesOneOrTwoKnobsDeterministicallyAndStaysValid() async throws {
        let context = ProgramContext(parent: ProgramDraft(text: "P", settings: "{}"), parentNumber: 1, archive: "", results: "", notes: "",
                                     editableFiles: ["train.py"], protectedFields: [], seed: 42)
        let a = try await SettingsMutator().proposeProgram(context)
        let b = try await SettingsMutator().proposeProgram(context)
        #expect(a == b)
        #expect(a.draft.text == "P")
        let settings = try JSONDecoder().decode(SearchSettings.self, from: Data(a.draft.settings.utf8))
        try settings.validate()
        let changed = ProgramGuard.settingsMap(a.draft.settings).filter { ProgramGuard.settingsMap(ProgramGuard.encode(.default))[$0.key] != $0.value }
        #expect((1...2).contains(changed.count), "\(a.description)")
        for key in changed.keys { #expect(a.description.contains("\(key) "), "\(a.description) names \(key)") }
        var differs = false
        for seed in 43...50 {
            var c = context
            c.seed = UInt64(seed)
            if try await SettingsMutator().proposeProgram(c) != a { differs = true }
        }
        #expect(differs, "another seed gives another mutation")
    }
}

extension SettingsMutatorTests {
    static func context(parent: String, number: Int, programs: [ArchivedProgram], seed: UInt64) -> ProgramContext {
        ProgramContext(parent: ProgramDraft(text: "P", settings: parent), parentNumber: number, archive: "", results: "", notes: "",
                       editableFiles: ["train.py"], protectedFields: [], seed: seed, programs: programs)
    }

    @Test func aKeptChangeIsMadeAgainAsAPatternMove() async throws {
        let programs = [ArchivedProgram(number: 1, parent: nil, settings: "{}", status: "original", scores: []),
                        ArchivedProgram(number: 2, parent: 1, settings: "{\"stepSize\":1.5}", status: "kept", scores: [0.3, 0.4])]
        var patterns: [ProgramProposal] = []
        for seed in UInt64(1)...20 {
            let p = try await SettingsMutator().proposeProgram(Self.context(parent: "{\"stepSize\":1.5}", number: 2, programs: programs, seed: seed))
            if p.description.hasPrefix("pattern move") { patterns.append(p) }
        }
        #expect((4...16).contains(patterns.count), "about half the proposals: \(patterns.count) of 20")
        #expect(patterns.first?.description == "pattern move: stepSize 1.5 → 2.25")
        #expect(patterns.first?.hypothesis == "Program 2 made this change to program 1 and was kept; more of it may help again.")
        #expect(try JSONDecoder().decode(SearchSettings.self, from: Data(#require(patterns.first).draft.settings.utf8)).stepSize == 2.25)
        // Without a kept parent there is no pattern to follow.
        for seed in UInt64(1)...20 {
            let p = try await SettingsMutator().proposeProgram(Self.context(parent: "{}", number: 1, programs: Array(programs.prefix(1)), seed: seed))
            #expect(!p.description.hasPrefix("pattern move"))
        }
    }

    @Test func aDirectionARetiredSiblingTookIsNotTakenAgainNorAreArchivedSettingsRepeated() async throws {
        let programs = [ArchivedProgram(number: 1, parent: nil, settings: "{}", status: "original", scores: []),
                        ArchivedProgram(number: 2, parent: 1, settings: "{\"stepSize\":0.5}", status: "retired", scores: [-0.4, -0.2]),
                        ArchivedProgram(number: 3, parent: 1, settings: "{\"exploration\":0.6}", status: "retired", scores: [0, 0])]
        var steps: [Double] = [], explorations: [Double] = []
        for seed in UInt64(1)...60 {
            let p = try await SettingsMutator().proposeProgram(Self.context(parent: "{}", number: 1, programs: programs, seed: seed))
            let s = try JSONDecoder().decode(SearchSettings.self, from: Data(p.draft.settings.utf8))
            if s.stepSize != 1 { steps.append(s.stepSize) }
            if s.exploration != 0.3 { explorations.append(s.exploration) }
        }
        #expect(steps.count >= 5 && steps.allSatisfy { $0 > 1 }, "the step size went down and lost, so it only goes up: \(steps)")
        #expect(explorations.count >= 3 && explorations.allSatisfy { $0 < 0.3 }, "exploration went up and lost: \(explorations)")

        // The proposal for seed 42 without an archive is archived now: the same seed proposes something else.
        let fresh = try await SettingsMutator().proposeProgram(Self.context(parent: "{}", number: 1, programs: Array(programs.prefix(1)), seed: 42))
        var archived = Array(programs.prefix(1))
        archived.append(ArchivedProgram(number: 2, parent: 1, settings: fresh.draft.settings, status: "retired", scores: [0.1]))
        let again = try await SettingsMutator().proposeProgram(Self.context(parent: "{}", number: 1, programs: archived, seed: 42))
        #expect(again.draft.settings != fresh.draft.settings)
    }
}

/// The meta-loop inside the research loop, on the stand-in subject.
@Suite(.serialized) struct MetaLoopTests {
    func searchers(_ ws: Workspace) throws -> [any Researcher] {
        [try SubjectBridge.searchResearcher(workspace: ws, seed: 1, keepsPolicy: false),
         try SubjectBridge.searchResearcher(workspace: ws, seed: 2, keepsPolicy: false)]
    }

    @Test func windowsRunTheCandidateBesideTheControlFromTheSameBaseAndRefuseProtectedEdits() async throws {
        let standIn = try StandIn(noise: 0.002); defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let meta = ScriptedProgramResearcher([
            ProgramProposal(draft: ProgramDraft(text: "# Stand-in subject\nLower val_bpb.\n", settings: "{\"stepSize\":2,\"max_cost_per_session\":1000}"),
                            description: "bigger steps and a bigger budget", hypothesis: "h"),
            ProgramProposal(draft: ProgramDraft(text: "# Stand-in subject\nLower val_bpb.\n", settings: "{\"stepSize\":2}"),
                            description: "bigger steps", hypothesis: "bigger steps cover the range sooner"),
        ])
        var options = RunOptions(tag: "meta", experiments: 8, baselineRuns: 2, seed: 5)
        options.allowUntrusted = true  // the stand-in subject scores itself
        options.meta = MetaSettings(window: 2, minWindows: 2, maxWindows: 3, population: 1)
        options.researcherFailurePause = 0
        let loop = try ResearchLoop(workspace: ws, researchers: try searchers(ws), options: options, display: RecordingDisplay(), programResearcher: meta)
        _ = try await loop.run()

        let programs = try loop.ledger.programs(tag: "meta")
        #expect(programs.map(\.number) == [1, 2, 3])
        #expect(programs.map(\.programStatus) .prefix(2) == [.original, .refused])
        #expect(programs[1].reason == "it sets the protected field 'max_cost_per_session'; a program cannot change the evaluation, the editable files or the spending caps")
        #expect(programs[2].parent == 1 && programs[2].proposer == "scripted-meta")
        #expect(programs[2].diff == "settings.stepSize: 1 → 2")
        #expect(meta.contexts.first?.protectedFields.contains("editable") == true)

        let windows = try loop.ledger.windows(tag: "meta")
        #expect(windows.count == 2 && windows.allSatisfy { $0.status == "done" && $0.program == 3 && $0.control == 1 })
        let records = try loop.ledger.experiments(tag: "meta").filter { $0.experimentStatus != .baseline }
        for window in windows {
            let mine = records.filter { $0.window == window.number }
            // Two experiments per arm: the candidate's researcher (worker 0) and the control's (worker 1).
            #expect(mine.filter { $0.island == 0 }.count == 2 && mine.filter { $0.island == 1 }.count == 2)
            #expect(mine.filter { $0.island == 0 }.allSatisfy { $0.program == 3 && $0.worker == 0 })
            #expect(mine.filter { $0.island == 1 }.allSatisfy { $0.program == 1 && $0.worker == 1 })
            // Both arms' first experiments build on the window's base: the control starts where the candidate does.
            for island in [0, 1] {
                #expect(mine.first { $0.island == island }?.parentCommit == window.baseCommit)
            }
            #expect(window.programExperiments == 2 && window.controlExperiments == 2)
        }
        // The second window starts from the global best after the first.
        let afterFirst = records.filter { $0.window == 1 && $0.experimentStatus == .keep }.compactMap(\.metric).min()
        #expect(windows[1].baseMetric == afterFirst ?? windows[0].baseMetric)
        // After its two windows program 3 is kept, retired or still live, depending on how the arms did.
        let third = try #require(try loop.ledger.programs(tag: "meta").last)
        let standing = [ProgramStatus.live, .kept, .retired].map { third.programStatus == $0 ? 1 : 0 }
        #expect(try TagReports(workspace: ws, tag: "meta").status().meta
                == "programs: 3 (incumbent \(third.programStatus == .kept ? 3 : 1), \(standing[0]) live, \(standing[1]) kept, \(standing[2]) retired, 1 refused); windows: 2 done")
        #expect(try TagReports(workspace: ws, tag: "meta").programs().contains("2\t1\trefused\t0\t-\t-\tscripted-meta\tbigger steps and a bigger budget (refused: it sets the protected field"))
    }

    @Test func theArchiveAndLineageSurviveAKillAndResume() async throws {
        let standIn = try StandIn(noise: 0.002, sleep: 0.3); defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        var options = RunOptions(tag: "resume", baselineRuns: 2, seed: 5)
        options.allowUntrusted = true  // the stand-in subject scores itself
        options.meta = MetaSettings(window: 3, population: 1)
        options.researcherFailurePause = 0
        let first = try ResearchLoop(workspace: ws, researchers: try searchers(ws), options: options, display: RecordingDisplay(),
                                     programResearcher: SettingsMutator())
        let task = Task { try await first.run() }
        // Kill it mid-window: once the first window has begun and an experiment of it has started.
        while try first.ledger.experiments(tag: "resume").filter({ $0.window == 1 }).count < 2 { try await Task.sleep(nanoseconds: 100_000_000) }
        task.cancel()
        _ = try? await task.value
        let before = try first.ledger.programs(tag: "resume")
        #expect(before.map(\.number) == [1, 2] && before[1].parent == 1)

        // A new harness resumes the tag: the archive is as it was, the cut window is interrupted (not scored).
        options.experiments = 6
        let second = try ResearchLoop(workspace: ws, researchers: try searchers(ws), options: options, display: RecordingDisplay(),
                                      programResearcher: SettingsMutator())
        _ = try await second.run()
        let after = try second.ledger.programs(tag: "resume")
        #expect(Array(after.prefix(2)) == before.map { p in after.first { $0.number == p.number } ?? p })
        #expect(after.prefix(2).map(\.settings) == before.map(\.settings))
        let windows = try second.ledger.windows(tag: "resume")
        #expect(windows.first?.status == "interrupted" && windows.first?.score == nil)
        #expect(windows.dropFirst().first?.status == "done", "\(windows.map(\.status))")
        #expect(windows.dropFirst().first?.program == 2, "the live challenger gets the next window")
        let records = try second.ledger.experiments(tag: "resume")
        #expect(records.map(\.number) == Array(0..<records.count))
        #expect(!records.contains { $0.experimentStatus == .running })
        #expect(try TagReports(workspace: ws, tag: "resume").showProgram(2).contains("lineage: 2 ← 1"))
    }

    /// Records the experiment numbers in each context's history, then proposes what its script says.
    final class HistoryRecorder: Researcher, @unchecked Sendable {
        let name = "recorder"
        let inner: ScriptedResearcher
        var seen: [[Int]] = []
        init(_ steps: [ScriptedResearcher.Step]) { inner = ScriptedResearcher(steps) }
        func propose(_ context: ResearchContext) async throws -> Proposal {
            seen.append(context.history.map(\.number))
            return try await inner.propose(context)
        }
    }

    @Test func eachArmSeesOnlyItsOwnExperimentsOfTheWindow() async throws {
        let standIn = try StandIn(noise: 0.002); defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        let candidate = HistoryRecorder([.set([("LEARNING_RATE", "0.003")], "LR 0.003"), .set([("WIDTH", "96")], "WIDTH 96"),
                                         .set([("BONUS", "0.1")], "BONUS 0.1"), .set([("WIDTH", "80")], "WIDTH 80")])
        let control = HistoryRecorder([.set([("LEARNING_RATE", "0.005")], "LR 0.005"), .set([("WIDTH", "112")], "WIDTH 112"),
                                       .set([("BONUS", "0.2")], "BONUS 0.2"), .set([("WIDTH", "72")], "WIDTH 72")])
        let meta = ScriptedProgramResearcher([ProgramProposal(draft: ProgramDraft(text: "# Stand-in subject\nBe bold.\n"), description: "bolder", hypothesis: "h")])
        var options = RunOptions(tag: "own", experiments: 8, baselineRuns: 2)
        options.allowUntrusted = true  // the stand-in subject scores itself
        options.meta = MetaSettings(window: 2, minWindows: 3, maxWindows: 3, population: 1)
        options.researcherFailurePause = 0
        let loop = try ResearchLoop(workspace: ws, researchers: [candidate, control], options: options, display: RecordingDisplay(), programResearcher: meta)
        _ = try await loop.run()
        let records = try loop.ledger.experiments(tag: "own")
        let program = Dictionary(uniqueKeysWithValues: records.map { ($0.number, $0.program ?? 0) })  // 0: before the meta-loop
        #expect(candidate.seen.count == 4 && control.seen.count == 4)
        for seen in candidate.seen { #expect(seen.allSatisfy { [0, 2].contains(program[$0]) }, "\(seen)") }
        for seen in control.seen { #expect(seen.allSatisfy { [0, 1].contains(program[$0]) }, "\(seen)") }
        // The baseline is everyone's past; each window starts afresh: the second proposal of a window sees the first.
        #expect(candidate.seen.allSatisfy { $0.contains(0) })
        #expect(candidate.seen.map(\.count) == [1, 2, 1, 2] && control.seen.map(\.count) == [1, 2, 1, 2])
        let window = Dictionary(uniqueKeysWithValues: records.map { ($0.number, $0.window ?? 0) })
        #expect(candidate.seen.allSatisfy { Set($0.compactMap { window[$0] }.filter { $0 > 0 }).count <= 1 }, "one window's experiments at most")
    }

    @Test func pairedArmsUnderTheSameProgramMakeTheSameMovesAndScoreZero() async throws {
        // Noise from SEED alone: the same files measure the same, as on a trainer whose runs are deterministic.
        let standIn = try StandIn(noise: 0.002, seedOnlyNoise: true); defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        var options = RunOptions(tag: "aa", experiments: 12, baselineRuns: 2, seed: 3)
        options.allowUntrusted = true  // the stand-in subject scores itself
        options.meta = MetaSettings(window: 3, population: 1)
        options.researcherFailurePause = 0
        // No meta-researcher: every window runs the incumbent against itself (an A/A window). The two researchers
        // were built with different seeds; in a window they share one, and each rank of experiment shares one.
        let loop = try ResearchLoop(workspace: ws, researchers: try searchers(ws), options: options, display: RecordingDisplay())
        _ = try await loop.run()
        let windows = try loop.ledger.windows(tag: "aa")
        #expect(windows.count == 2 && windows.allSatisfy { $0.status == "done" && $0.program == 1 && $0.control == 1 })
        let records = try loop.ledger.experiments(tag: "aa")
        for window in windows {
            let arms = [0, 1].map { arm in records.filter { $0.window == window.number && $0.island == arm }.sorted { $0.number < $1.number } }
            #expect(arms[0].count == 3 && arms[1].count == 3)
            // The same moves, hence the same files and metrics: a repeat across arms is a replicate, not a researcher error.
            #expect(arms[0].map(\.description) == arms[1].map(\.description))
            #expect(arms[0].map(\.filesHash) == arms[1].map(\.filesHash))
            #expect(arms[0].map(\.metric) == arms[1].map(\.metric))
            #expect(!arms.joined().contains { $0.experimentStatus == .researcherError })
            #expect(window.programProgress == window.controlProgress && window.score == 0)
        }
        // Windows draw afresh: the second window's moves are not the first's.
        let first = records.filter { $0.window == 1 && $0.island == 0 }.map(\.move), second = records.filter { $0.window == 2 && $0.island == 0 }.map(\.move)
        #expect(first != second)
    }

    @Test func anArmWhoseResearchersAllStopEndsTheRunInsteadOfWaitingForever() async throws {
        let standIn = try StandIn(noise: 0.002); defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        var options = RunOptions(tag: "halt", experiments: 20, baselineRuns: 2)
        options.allowUntrusted = true  // the stand-in subject scores itself
        options.meta = MetaSettings(window: 3, population: 1)
        options.researcherFailurePause = 0
        options.maxResearcherFailures = 2
        let failing = ScriptedResearcher([.fail(.failed("provider down")), .fail(.failed("provider down"))])
        let loop = try ResearchLoop(workspace: ws, researchers: [try SubjectBridge.searchResearcher(workspace: ws, seed: 1, keepsPolicy: false), failing],
                                    options: options, display: RecordingDisplay(), programResearcher: SettingsMutator())
        let summary = try await loop.run()
        #expect(summary.stopReason == .researcherFailing)
        let records = try loop.ledger.experiments(tag: "halt").filter { $0.window == 1 }
        #expect(records.filter { $0.island == 1 }.map(\.experimentStatus) == [.researcherError, .researcherError])
        #expect(records.filter { $0.island == 0 }.count == 3, "the candidate arm used its window, then stopped")
        #expect(try loop.ledger.windows(tag: "halt").map(\.status) == ["interrupted"])
    }

    @Test func aPlainRunCanFollowAnArchivedProgram() async throws {
        let standIn = try StandIn(noise: 0.002); defer { standIn.remove() }
        let ws = try standIn.makeWorkspace()
        var options = RunOptions(tag: "p", experiments: 1, baselineRuns: 2)
        options.allowUntrusted = true  // the stand-in subject scores itself
        options.program = 4
        options.researcherFailurePause = 0
        let loop = try ResearchLoop(workspace: ws, researchers: [try SubjectBridge.searchResearcher(workspace: ws, seed: 1)], options: options,
                                    display: RecordingDisplay())
        await #expect(throws: HarnessError.other("tag p has no program 4 (its archive is empty; run with --meta first)")) {
            _ = try await loop.run()
        }
    }
}

@Suite struct MetaBenchmarkTests {
    func record(_ number: Int, _ status: ExperimentStatus, _ metric: Double?) -> ExperimentRecord {
        var r = ExperimentRecord(tag: "t", number: number, parentCommit: nil, description: "d", researcher: "search")
        r.status = status.rawValue
        r.metric = metric
        return r
    }

    @Test func experimentsToTheTargetCountToTheFirstKeepAtOrBelowIt() {
        let records = [record(0, .baseline, 1.9), record(1, .keep, 1.5), record(2, .discard, 1.1), record(3, .keep, 1.2), record(4, .keep, 1.1)]
        #expect(MetaBenchmark.experimentsToTarget(records, target: 1.2) == 3, "a discard below the target does not count")
        #expect(MetaBenchmark.experimentsToTarget(records, target: 1.0) == nil)
    }

    @Test func theReportGivesEachSeedThenTheMeanMedianAndSpread() {
        let rows = [MetaBenchmark.Row(seed: 1, program: 4, programDescription: "stepSize 1 → 2", settings: "{}", windows: 24,
                                      defaultExperiments: 100, foundExperiments: 60),
                    MetaBenchmark.Row(seed: 2, program: 1, programDescription: "original", settings: "{}", windows: 24,
                                      defaultExperiments: 100, foundExperiments: nil),
                    MetaBenchmark.Row(seed: 3, program: 2, programDescription: "exploration 0.3 → 0.2", settings: "{}", windows: 24,
                                      defaultExperiments: 80, foundExperiments: 60)]
        let lines = MetaBenchmark.report(rows, settings: MetaBenchmark.Settings()).components(separatedBy: "\n")
        #expect(lines == [
            "seed\twindows\tincumbent\tdefault\tfound\treduction\tsettings",
            "1\t24\tprogram 4\t100.0\t60.0\t+40 %\tstepSize 1 → 2",
            "2\t24\tprogram 1\t100.0\t(default)\t+0 %\tdefault (nothing kept)",
            "3\t24\tprogram 2\t80.0\t60.0\t+25 %\texploration 0.3 → 0.2",
            "fewer experiments to reach 1.2 with the meta-loop's settings: mean 22 %, median 25 % (min 0 %, max 40 %) over 3 seeds",
        ])
    }

    @Test func aSmallBenchmarkRunsEndToEnd() async throws {
        var settings = MetaBenchmark.Settings()
        settings.seeds = [7]
        settings.metaExperiments = 8
        settings.meta = MetaSettings(window: 2, minWindows: 2, maxWindows: 2, population: 1)
        settings.evaluationRuns = 1
        settings.evaluationLimit = 3
        settings.target = 0  // out of reach: each plain run counts as evaluationLimit + 1
        var reported: [UInt64] = []
        let rows = try await MetaBenchmark.run(settings, display: RecordingDisplay()) { reported.append($0.seed) }
        #expect(reported == [7] && rows.count == 1)
        let row = try #require(rows.first)
        #expect(row.windows == 2, "8 experiments in windows of 2 + 2")
        #expect(row.defaultExperiments == 4)
        #expect(row.foundExperiments == (row.program == 1 ? nil : 4))
        #expect(row.program <= 2, "one challenger (population 1) over two windows")
    }
}
