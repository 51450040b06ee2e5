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
