// autoresearch-bench: our training step against PyTorch eager's, side by side in one run.
//
// For each configuration (NanoGPT.swift) it alternates timing rounds: our step (forward, backward, AdamW) for
// `--seconds`, then PyTorch's same step in a child process (scripts/bench/torch_step.py) for as long, the order
// swapped every round so neither side always follows the other; the SGEMM peak is measured in every round too.
// It prints medians over rounds with their range: tokens/s of each side, each side's model FLOP utilisation
// (nanoGPT's 6N + 12·L·C·T FLOPs a token over the median measured SGEMM peak), and the median of the rounds'
// ratios ours ÷ PyTorch. Without torch it says why and times our side alone.
//
// Usage: autoresearch-bench [--seconds S] [--rounds R] [--config a|b|c|d]... [--python PY] [--torch-script PATH]
//                           [--no-torch] [--skip-peak]
//        autoresearch-bench --gemm [--seconds S] [--rounds R]   (our SGEMM kernel against BLAS, GemmBench.swift)
import Foundation
import TensorCore

func usage(_ problem: String) -> Never {
    FileHandle.standardError.write(Data("""
    autoresearch-bench: \(problem)
    usage: autoresearch-bench [--seconds S] [--rounds R] [--config a|b|c|d]... [--python PY] [--torch-script PATH] [--no-torch] [--skip-peak]
           autoresearch-bench --gemm [--seconds S] [--rounds R]

    """.utf8))
    exit(2)
}

var seconds = 2.0, rounds = 5
var chosen: [String] = []
var python = ProcessInfo.processInfo.environment["AUTORESEARCH_BENCH_PYTHON"] ?? "python3"
var script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("scripts/bench/torch_step.py").path
var useTorch = true, skipPeak = false, gemmOnly = false
var args = CommandLine.arguments.dropFirst().makeIterator()
while let arg = args.next() {
    func value() -> String { guard let v = args.next() else { usage("\(arg) needs a value") }; return v }
    switch arg {
    case "--seconds": guard let s = Double(value()), s > 0 else { usage("--seconds takes a positive number") }; seconds = s
    case "--rounds": guard let r = Int(value()), r > 0 else { usage("--rounds takes a positive integer") }; rounds = r
    case "--config":
        let name = value()
        guard configs.contains(where: { $0.name == name }) else { usage("no configuration \(name): choose a, b, c or d") }
        chosen.append(name)
    case "--python": python = value()
    case "--torch-script": script = value()
    case "--no-torch": useTorch = false
    case "--gemm": gemmOnly = true
    case "--skip-peak": skipPeak = true   // for profilers: MFU is then relative to 1 GFLOP/s
    default: usage("unknown argument \(arg)")
    }
}
if gemmOnly { runGemmBench(rounds: rounds, seconds: seconds); exit(0) }
let selected = configs.filter { chosen.isEmpty || chosen.contains($0.name) }

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
func spread(_ xs: [Double], _ format: String) -> String {
    "\(String(format: format, median(xs))) (\(String(format: format, xs.min() ?? 0))–\(String(format: format, xs.max() ?? 0)))"
}

var torch: TorchReference?
var torchNote = "PyTorch: not compared (--no-torch)"
if useTorch {
    do {
        torch = try TorchReference(python: python, script: script, threads: Parallel.threads)
        torchNote = "PyTorch \(torch!.version) eager (\(torch!.blas), \(torch!.threads) threads, OMP_WAIT_POLICY=PASSIVE) via \(python)"
    } catch { torchNote = "PyTorch: not compared: \(error)" }
}
BLAS.configure()
print("ours: matrix products by \(GemmKernel.path), BLAS threads \(BLAS.threads), our threads \(Parallel.threads)")
print(torchNote)
print("\(rounds) interleaved rounds of \(seconds) s a side per configuration; medians over rounds (range)")

var peaks: [Double] = []
var results: [(Config, ours: [Double], theirs: [Double], ratios: [Double])] = []
for c in selected {
    let ours = OurStep(c)
    var mine: [Double] = [], theirs: [Double] = [], ratios: [Double] = []
    _ = torch?.time(c, seconds: 0.5)   // PyTorch's warm-up (model build and 3 steps) before its first timed round
    for round in 0..<rounds {
        if !skipPeak { peaks.append(BLAS.measurePeakGFLOPS()) }
        var t: Double?, o = 0.0
        if round % 2 == 0 { o = ours.time(seconds: seconds); t = torch?.time(c, seconds: seconds) }
        else { t = torch?.time(c, seconds: seconds); o = ours.time(seconds: seconds) }
        mine.append(o)
        if let t { theirs.append(t); ratios.append(o / t) }
    }
    results.append((c, mine, theirs, ratios))
    FileHandle.standardError.write(Data("config \(c.name) done\n".utf8))
}

let peak = skipPeak ? 1 : median(peaks)
if !skipPeak { print("SGEMM peak (1024³, best of 4, every round): \(spread(peaks, "%.0f")) GFLOP/s; MFU is over the median") }
print("")
print("| config | model | ours tok/s | ours MFU % | PyTorch tok/s | PyTorch MFU % | ours ÷ PyTorch |")
print("|---|---|---|---|---|---|---|")
for (c, mine, theirs, ratios) in results {
    let model = "\(c.layers)L \(c.heads)H w\(c.width) mlp×\(c.mlpRatio) ctx \(c.context) batch \(c.batch)"
    let mfu = mine.map { $0 * c.flopsPerToken / (peak * 1e9) * 100 }
    let torchMFU = theirs.map { $0 * c.flopsPerToken / (peak * 1e9) * 100 }
    print("| (\(c.name)) | \(model) | \(spread(mine, "%.0f")) | \(spread(mfu, "%.0f")) | " +
          (theirs.isEmpty ? "– | – | – |" : "\(spread(theirs, "%.0f")) | \(spread(torchMFU, "%.0f")) | \(spread(ratios, "%.2f")) |"))
}
print(String(format: "peak resident memory (ours): %.1f MB", Memory.peakResidentMB))
