import AutoResearchCore
import Foundation
import Testing
@testable import Harness

/// A swarm whose slots are Slurm jobs, on the real single-node cluster that scripts/slurm-cluster.sh starts.
@Suite(.serialized) struct SlurmSwarmTests {
    func slurmWorkspace(_ standIn: StandIn, jobs: Int, partition: String? = nil, edit: (inout Manifest) -> Void = { _ in }) throws -> Workspace {
        _ = try standIn.makeWorkspace()
        return try standIn.editManifest {
            $0.slots = (0..<jobs).map { Slot(name: "slurm\($0)", slurm: SlurmResources(partition: partition, pollSeconds: 0.2)) }
            edit(&$0)
        }
    }

    @Test func twoResearchersRunFourExperimentsAsSlurmJobs() async throws {
        let standIn = try StandIn(noise: 0.002); defer { standIn.remove() }
        let ws = try slurmWorkspace(standIn, jobs: 2)
        // Which worker takes the next experiment number is a race, so either may run all four: each has four ideas.
        let researchers: [any Researcher] = [
            ScriptedResearcher([.set([("LEARNING_RATE", "0.003")], "LR 0.003"), .set([("WIDTH", "96")], "WIDTH 96"),
                                .set([("LEARNING_RATE", "0.002")], "LR 0.002"), .set([("WIDTH", "48")], "WIDTH 48")]),
            ScriptedResearcher([.set([("BONUS", "0.2")], "BONUS 0.2"), .set([("WIDTH", "16")], "WIDTH 16"),
                                .set([("BONUS", "0.1")], "BONUS 0.1"), .set([("WIDTH", "24")], "WIDTH 24")]),
        ]
        var options = RunOptions(tag: "slurm", experiments: 4, baselineRuns: 2)
        options.allowUntrusted = true  // the stand-in subject scores itself
        options.researcherFailurePause = 0
        let loop = try ResearchLoop(workspace: ws, researchers: researchers, options: options, display: RecordingDisplay())
        let summary = try await loop.run()
        let records = try loop.ledger.experiments(tag: "slurm")
        #expect(summary.experimentsRun == 4)
        #expect(records.map(\.number) == [0, 1, 2, 3, 4])
        #expect(records.allSatisfy { [.baseline, .keep, .discard, .stale].contains($0.experimentStatus) },
                "\(records.map { ($0.number, $0.status, $0.error ?? "") })")
        #expect(Set(records.compactMap(\.slot)).isSubset(of: ["slurm0", "slurm1"]))
        #expect(records.dropFirst().allSatisfy { $0.slotKind == "slurm:default/cpu1/gpu0" })
        #expect(Simulation.check(records, branch: try Git(standIn.workspaceURL).revParse("refs/heads/autoresearch/slurm")) == [])
        let log = try String(contentsOf: URL(fileURLWithPath: try #require(records[1].logPath)), encoding: .utf8)
        #expect(log.contains("# slurm: job "))
        #expect(log.contains("COMPLETED (exit status 0)"))
        #expect(log.contains("val_bpb:"), "the job's output is collected into the experiment's log")
    }

    @Test func aJobSlurmKillsAtItsTimeLimitIsACrashWithSlurmsReason() async throws {
        let standIn = try StandIn(); defer { standIn.remove() }
        // The hard limit (1 s × 1 + 30 s) becomes --time=1 (minutes); the hanging run is killed by Slurm.
        let ws = try slurmWorkspace(standIn, jobs: 1) { $0.budget.hardLimitFactor = 1; $0.budget.hardLimitGraceSeconds = 30 }
        var options = RunOptions(tag: "slurm-timeout", experiments: 1, baselineRuns: 1)
        options.allowUntrusted = true  // the stand-in subject scores itself
        options.researcherFailurePause = 0
        let loop = try ResearchLoop(workspace: ws, researchers: [ScriptedResearcher([.set([("BEHAVIOR", "\"hang\"")], "hang")])],
                                    options: options, display: RecordingDisplay())
        _ = try await loop.run()
        let hang = try #require(try loop.ledger.experiments(tag: "slurm-timeout").last)
        #expect(hang.experimentStatus == .crash)
        #expect(hang.error?.contains("ended on the cluster: Slurm job ") == true, "\(hang.error ?? "")")
        #expect(hang.error?.contains("TIMEOUT") == true, "\(hang.error ?? "")")
    }

    @Test func aPartitionThatDoesNotExistIsRefusedBeforeAnythingRuns() throws {
        let standIn = try StandIn(); defer { standIn.remove() }
        let ws = try slurmWorkspace(standIn, jobs: 1, partition: "gpu-huge")
        #expect {
            _ = try ResearchLoop(workspace: ws, researchers: [ScriptedResearcher([])], options: RunOptions(tag: "p"), display: RecordingDisplay())
        } throws: { error in
            "\(error)".contains("gpu-huge") && "\(error)".contains("debug")
        }
        #expect(!FileManager.default.fileExists(atPath: ws.ledgerURL.path))
    }

    @Test func slurmSettingsAreReadAndChecked() throws {
        let base = minimalManifest
        let manifest = try Manifest.parse(base + "[slurm]\npartition = \"debug\"\njobs = 3\ncpus_per_task = 2\ngpus = 1\nmemory_mb = 4096\n")
        #expect(manifest.slots.map(\.name) == ["slurm0", "slurm1", "slurm2"])
        #expect(manifest.slots.first?.slurm == SlurmResources(partition: "debug", cpusPerTask: 2, gpus: 1, memoryMB: 4096))
        #expect(manifest.slots.first?.kind == "slurm:debug/cpu2/gpu1")
        #expect(manifest.slots.first?.environment["AUTORESEARCH_THREADS"] == "2")
        #expect(try Manifest.parse(manifest.render()) == manifest)
        #expect(throws: HarnessError.manifestKey(key: "slurm.jobs", problem: "must be at least 1 (the Slurm jobs that may run at once).")) {
            try Manifest.parse(base + "[slurm]\njobs = 0\n")
        }
        #expect(throws: HarnessError.manifestKey(key: "slurm.partition", problem: "is 'a b', not a partition name.")) {
            try Manifest.parse(base + "[slurm]\npartition = \"a b\"\n")
        }
    }
}
