import ArgumentParser
import Foundation
import Harness

/// `autoresearch simulate`: a swarm on the quadratic subject whose runs sleep, to measure the scheduler.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a swarm (search researchers, sleeping runs) and print slot utilisation, experiments per hour against the ideal, and the ledger's consistency.")

    @Option(help: "Researchers working at once.")
    var researchers: Int = 64

    @Option(help: "Compute slots.")
    var slots: Int = 8

    @Option(help: "Seconds during which the swarm starts experiments.")
    var seconds: Double = 180

    @Option(name: .customLong("run-seconds"), help: "Length of one run: 'a,b' draws it uniformly in [a, b] seconds.")
    var runSeconds: String = "5,15"

    func validate() throws {
        guard researchers >= 1, slots >= 1 else { throw ValidationError("--researchers and --slots must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        let parts = runSeconds.split(separator: ",").compactMap { Double($0) }
        guard parts.count == 2, parts[0] >= 0, parts[1] >= parts[0] else {
            throw ValidationError("--run-seconds must be 'a,b' with 0 ≤ a ≤ b, e.g. 5,15")
        }
    }

    func run() async throws {
        let parts = runSeconds.split(separator: ",").compactMap { Double($0) }
        let settings = Simulation.Settings(researchers: researchers, slots: slots, seconds: seconds, runSeconds: parts[0]...parts[1])
        let report = try await Interrupts.cancellingOnSignal { try await Simulation.run(settings, display: QuietDisplay()) }
        print(report.text)
        if !report.problems.isEmpty { throw ExitCode(2) }
    }
}

/// Shows nothing (a simulation prints only its report).
actor QuietDisplay: Display {
    func show(_ event: LoopEvent) {}
    func finish() {}
}

/// `autoresearch meta-bench`: the meta-loop against the default search settings on the quadratic subject.
struct MetaBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta-bench",
        abstract: "Benchmark the meta-loop on the quadratic subject: experiments to reach a target with the default search settings and with the settings it keeps, over seeds.")

    @Option(help: "How many seeds (first-seed, first-seed + 1, …).")
    var seeds = 5

    @Option(name: .customLong("first-seed"), help: "The first seed (to split the seeds over several processes).")
    var firstSeed = 1

    @Option(name: .customLong("meta-experiments"), help: "Experiments of each meta-loop run (both arms together).")
    var metaExperiments = 480

    @Option(help: "Experiments per arm in one window.")
    var window = 10

    @Option(help: "The target val_bpb.")
    var target = 1.2

    @Option(name: .customLong("evaluation-limit"), help: "The most experiments a plain run may take to reach the target.")
    var evaluationLimit = 300

    func validate() throws {
        guard seeds >= 1, firstSeed >= 1, metaExperiments >= 1, window >= 1, evaluationLimit >= 1 else {
            throw ValidationError("--seeds, --first-seed, --meta-experiments, --window and --evaluation-limit must be at least 1")
        }
    }

    func run() async throws {
        setvbuf(stdout, nil, _IOLBF, 0)  // each seed's line as soon as it is done, also into a file
        var settings = MetaBenchmark.Settings()
        settings.seeds = (firstSeed..<firstSeed + seeds).map(UInt64.init)
        settings.metaExperiments = metaExperiments
        settings.meta.window = window
        settings.target = target
        settings.evaluationLimit = evaluationLimit
        let started = Date()
        let fixed = settings
        let rows = try await Interrupts.cancellingOnSignal {
            try await MetaBenchmark.run(fixed, display: QuietDisplay()) { row in
                print("seed \(row.seed): incumbent program \(row.program) (\(row.programDescription)); experiments to \(fixed.target): default \(row.defaultExperiments), found \(row.foundExperiments.map { "\($0)" } ?? "(default)")")
            }
        }
        print(MetaBenchmark.report(rows, settings: settings))
        print(String(format: "(%.0f s)", Date().timeIntervalSince(started)))
    }
}
