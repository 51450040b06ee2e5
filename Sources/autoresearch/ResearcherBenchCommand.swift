import ArgumentParser
import Foundation
import Harness

/// `autoresearch researcher-bench`: the search researcher against Optuna's samplers on a subject with a known answer.
struct ResearcherBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "researcher-bench",
        abstract: "Benchmark researchers (search, search-meta, and Optuna's tpe, cmaes, random, gp) on the quadratic or the GPT subject: experiments to reach a target and the best after N experiments, over seeds.")

    @Option(help: "The subject: quadratic (fast, known optimum 1.0) or gpt (the GPT subject on --tokens tokens a run; its corpus must be prepared).")
    var subject = "quadratic"

    @Option(help: "How many seeds (first-seed, first-seed + 1, …).")
    var seeds = 5

    @Option(name: .customLong("first-seed"), help: "The first seed (to split the seeds over several processes).")
    var firstSeed = 1

    @Option(help: "Experiments of each run (each researcher, each seed).")
    var experiments = 150

    @Option(help: "The researchers, comma-separated: \(ResearcherBenchmark.researchers.joined(separator: ", ")).")
    var researchers = "search,search-meta,tpe,cmaes,random"

    @Option(help: "The target metric (default: 1.2 for quadratic; required for gpt).")
    var target: Double?

    @Option(help: "The GPT subject: tokens each run trains on.")
    var tokens = 200_000

    @Option(name: .customLong("data-dir"), help: "The GPT subject: where its prepared corpus is (default: the usual cache).")
    var dataDir: String?

    func validate() throws {
        guard seeds >= 1, firstSeed >= 1, experiments >= 1, tokens >= 1 else {
            throw ValidationError("--seeds, --first-seed, --experiments and --tokens must be at least 1")
        }
        guard ["quadratic", "gpt"].contains(subject) else { throw ValidationError("unknown subject '\(subject)'; use quadratic or gpt") }
        for name in researchers.split(separator: ",") where !ResearcherBenchmark.researchers.contains(String(name)) {
            throw ValidationError("unknown researcher '\(name)'; available: \(ResearcherBenchmark.researchers.joined(separator: ", "))")
        }
        if subject == "gpt", target == nil { throw ValidationError("--target is required for the gpt subject (a val_bpb, e.g. 2.9)") }
    }

    func run() async throws {
        setvbuf(stdout, nil, _IOLBF, 0)  // each run's line as soon as it is done, also into a file
        var settings = ResearcherBenchmark.Settings()
        settings.subject = subject
        settings.seeds = (firstSeed..<firstSeed + seeds).map(UInt64.init)
        settings.experiments = experiments
        settings.researchers = researchers.split(separator: ",").map(String.init)
        settings.target = target ?? 1.2
        settings.tokens = tokens
        settings.dataDirectory = dataDir
        let started = Date()
        let fixed = settings
        let rows = try await Interrupts.cancellingOnSignal {
            try await ResearcherBenchmark.run(fixed, display: QuietDisplay()) { row in
                print("seed \(row.seed) \(row.researcher): to \(fixed.target): \(row.toTarget.map(String.init) ?? "missed"), best \(row.best.map { String(format: "%.4f", $0) } ?? "-") after \(row.experiments) experiments (\(Int(row.seconds)) s)")
            }
        }
        print(ResearcherBenchmark.report(rows, settings: settings))
        print(String(format: "(%.0f s)", Date().timeIntervalSince(started)))
    }
}
