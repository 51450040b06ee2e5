// main.swift — fixed. The tensor core's benchmark: first the correctness gate (every check on 2 threads; the first
// failure prints `FAIL: gate: <check>: <detail>` and exits 1, so nothing wrong is ever timed), then training steps of
// the GPT subject's default model on the candidate core (TensorCore) and on the reference core (ReferenceCore: the
// source tree's core as shipped, renamed at init) in alternating rounds, reported as a summary block:
//
//     ---
//     speedup:           <median over the round pairs of candidate tok/s ÷ reference tok/s>
//     tokens_per_second: <the candidate's median round>
//     ...
//
// A round pair runs both cores within a second of each other (their order alternates), so a slower stretch of the
// machine slows both and cancels in the ratio. `corebench --gate` runs the gate only. The timing takes
// AUTORESEARCH_TIME_BUDGET seconds in all (default 30), half on each core.
import Foundation
import TensorCore
import ReferenceModel

let started = Date()
let defaultThreads = Parallel.threads
Parallel.threads = 2
var gate = Gate()
gate.runOpChecks()
gate.runTunableChecks()
gate.runTrainingCheck()
for t in tunables {
    guard let checks = gate.exercised[t.name], !checks.isEmpty else {
        print("FAIL: gate: tunable coverage: no check exercises \(t.name)")
        exit(1)
    }
    print("tunable \(t.name) = \(t.value): exercised by \(checks.map { "'\($0)'" }.joined(separator: ", "))")
}
print(String(format: "gate passed: %d checks in %.1f s", gate.passed.count, Date().timeIntervalSince(started)))
if CommandLine.arguments.dropFirst().contains("--gate") { exit(0) }

// Timing: warm-up steps on both cores, then pairs of rounds of `stepsPerRound` steps (candidate then reference,
// reference then candidate, ...) until the budget is spent, and at least 8 pairs (an even number, so each core goes
// first as often; the median of fewer pairs is one burst of load away from either side).
Parallel.threads = defaultThreads
let environment = ProcessInfo.processInfo.environment
let budget = environment["AUTORESEARCH_TIME_BUDGET"].flatMap(Double.init) ?? 30
guard budget > 0, budget.isFinite else {
    print("FAIL: AUTORESEARCH_TIME_BUDGET must be a positive number of seconds, got '\(environment["AUTORESEARCH_TIME_BUDGET"] ?? "")'")
    exit(1)
}
// The GPT subject's train.swift logs this; a core without it could not be adopted (the build fails: a crash).
print("matrix products: \(GemmKernel.path)")
let config = GPTConfig.subjectDefault, stepsPerRound = 4, tokensPerStep = config.batch * config.seqLen
let model = GPT(config)
var batches = SyntheticBatches(config, seed: 1)
let reference = ReferenceStep(threads: defaultThreads)
for _ in 0..<2 { let (x, y) = batches.next(); _ = model.step(x, y); _ = reference.step() }

/// Seconds for one round of `stepsPerRound` steps of `step`; a non-finite loss ends the benchmark.
func timeRound(_ name: String, _ step: () -> Float) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    for s in 0..<stepsPerRound {
        let loss = step()
        guard loss.isFinite else { print("FAIL: the benchmark's loss on the \(name) core is \(loss) at step \(s + 1) of a round"); exit(1) }
    }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
var rates: [Double] = [], referenceRates: [Double] = [], ratios: [Double] = [], timed = 0.0, steps = 0
while timed < budget || ratios.count < 8 {
    let candidateStep = { () -> Float in let (x, y) = batches.next(); return model.step(x, y) }
    var seconds = (0.0, 0.0)
    if ratios.count % 2 == 0 {
        seconds.0 = timeRound("candidate", candidateStep); seconds.1 = timeRound("reference", reference.step)
    } else {
        seconds.1 = timeRound("reference", reference.step); seconds.0 = timeRound("candidate", candidateStep)
    }
    timed += seconds.0 + seconds.1
    steps += stepsPerRound
    rates.append(Double(stepsPerRound * tokensPerStep) / seconds.0)
    referenceRates.append(Double(stepsPerRound * tokensPerStep) / seconds.1)
    ratios.append(seconds.1 / seconds.0)
}
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
print(String(format: "%d round pairs of %d steps on %d threads: speedup %.4f median (%.4f to %.4f); candidate %.0f tok/s median (%.0f to %.0f), reference %.0f (%.0f to %.0f)",
             ratios.count, stepsPerRound, defaultThreads, median(ratios), ratios.min()!, ratios.max()!,
             median(rates), rates.min()!, rates.max()!, median(referenceRates), referenceRates.min()!, referenceRates.max()!))
func line(_ key: String, _ value: String) -> String { key + ":" + String(repeating: " ", count: max(1, 19 - key.count)) + value }
print(["---",
       line("speedup", String(format: "%.4f", median(ratios))),
       line("speedup_min", String(format: "%.4f", ratios.min()!)),
       line("speedup_max", String(format: "%.4f", ratios.max()!)),
       line("tokens_per_second", String(format: "%.1f", median(rates))),
       line("reference_tokens_per_second", String(format: "%.1f", median(referenceRates))),
       line("timing_rounds", "\(ratios.count)"),
       line("gate_checks", "\(gate.passed.count)"),
       line("training_seconds", String(format: "%.1f", timed)),
       line("total_seconds", String(format: "%.1f", Date().timeIntervalSince(started))),
       line("peak_memory_mb", String(format: "%.1f", Memory.peakResidentMB)),
       line("total_tokens_M", String(format: "%.3f", Double(steps * tokensPerStep) / 1e6)),
       line("num_steps", "\(steps)"),
       line("num_params_M", String(format: "%.3f", Double(model.parameterCount) / 1e6)),
       line("depth", "\(config.depth)")].joined(separator: "\n"))
