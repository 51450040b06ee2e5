import AutoResearchCore
import Foundation
import SearchResearcher
import Testing
@testable import Harness

/// The tensorcore template: the tensor core's kernels as the research subject, its fixed correctness gate and
/// benchmark. Builds the workspace in release mode (about 20 s on 2 cores) and runs the gate (under a second).
@Suite(.serialized) struct TensorCoreTemplateTests {
    let cli = CLITests()

    func makeWorkspace(budget: Double = 2) throws -> (Workspace, URL) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("tensorcore-\(UUID().uuidString.prefix(8))")
        let ws = try Workspace.create(at: base.appendingPathComponent("ws"), options: WorkspaceOptions(template: "tensorcore", timeBudget: budget))
        return (ws, base)
    }

    func buildAndRunGate(_ root: URL) async throws -> (Termination, String) {
        try await cli.run("swift build -c release --product corebench 2>&1 | tail -5 && .build/release/corebench --gate",
                          in: root, timeout: 600)
    }

    @Test(.timeLimit(.minutes(10)))
    func tunablesParseAndTheGatePassesAndExercisesEveryOne() async throws {
        let (ws, base) = try makeWorkspace()
        defer { try? FileManager.default.removeItem(at: base) }
        #expect(ws.manifest.metric == "tokens_per_second" && ws.manifest.direction == .higher)
        #expect(ws.manifest.evaluation.scoring == .summary)
        #expect(ws.manifest.noise.sigmaPrior == 1000)  // tok/s, a prior until the workspace's own runs measure σ
        // The non-editable core and the benchmark are protected; the kernels are not.
        #expect(ws.manifest.fixed["Sources/corebench/main.swift"] != nil && ws.manifest.fixed["Sources/TensorCore/Tensor.swift"] != nil)
        #expect(ws.manifest.fixed["Sources/TensorCore/Ops/MatMul.swift"] == nil)
        var names: [String: String] = [:]
        for path in ws.manifest.editable {
            let source = try String(contentsOf: ws.root.appendingPathComponent(path), encoding: .utf8)
            let block = try HyperparameterBlock.parse(source, path: path)
            #expect(!block.parameters.isEmpty, "\(path)")
            for p in block.parameters {
                // Every tunable gives the search researcher a move: a range, or choices.
                #expect(p.range != nil || !(p.choices ?? []).isEmpty, "\(path): \(p.name) has neither a range nor choices")
                names[p.name] = p.literal.replacingOccurrences(of: "_", with: "")
            }
        }
        #expect(names.count == 12, "\(names.keys.sorted())")
        let (status, output) = try await buildAndRunGate(ws.root)
        #expect(status == .exited(0), "\(output.suffix(3000))")
        #expect(output.contains("gate passed: 35 checks"), "\(output.suffix(2000))")
        for (name, value) in names {
            #expect(output.contains("tunable \(name) = \(value): exercised by '"), "\(name) is not exercised by the gate")
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func aSignErrorInOneBackwardIsStoppedByTheGateNamingTheCheck() async throws {
        let (ws, base) = try makeWorkspace()
        defer { try? FileManager.default.removeItem(at: base) }
        let file = ws.root.appendingPathComponent("Sources/TensorCore/Ops/Elementwise.swift")
        let source = try String(contentsOf: file, encoding: .utf8)
        let correct = "else { for i in r { gx[i] = g[i] * s } }"
        #expect(source.contains(correct))
        try source.replacingOccurrences(of: correct, with: "else { for i in r { gx[i] = -g[i] * s } }")
            .write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = try await buildAndRunGate(ws.root)
        #expect(status == .exited(1), "\(output.suffix(2000))")
        #expect(output.contains("FAIL: gate: scale gradient: input 0 element 0: analytic gradient"), "\(output.suffix(2000))")
        #expect(!output.contains("gate passed"))
    }

    @Test(.timeLimit(.minutes(15)))
    func aFasterButWrongKernelIsACrashNeverAKeep() async throws {
        let (ws, base) = try makeWorkspace(budget: 2)
        defer { try? FileManager.default.removeItem(at: base) }
        // AdamW that updates only the first half of each parameter: less work per step, and wrong.
        let path = "Sources/TensorCore/Optim/AdamW.swift"
        let source = try String(contentsOf: ws.root.appendingPathComponent(path), encoding: .utf8)
        let full = "Parallel.forEachChunk(p.count, grain: ADAMW_GRAIN)"
        #expect(source.contains(full))
        let lazy = source.replacingOccurrences(of: full, with: "Parallel.forEachChunk(p.count / 2, grain: ADAMW_GRAIN)")
        let researcher = ScriptedResearcher([.files([path: lazy], "AdamW: update half the parameters (faster)")])
        let (_, records) = try await runLoop(ws, researcher, experiments: 1, baselineRuns: 1)
        let baseline = try #require(records.first { $0.number == 0 })
        #expect(baseline.status == "baseline", "\(baseline.error ?? "")")
        #expect((baseline.metric ?? 0) > 0)
        let candidate = try #require(records.first { $0.number == 1 })
        #expect(candidate.status == "crash", "\(candidate.status): \(candidate.error ?? "")")
        #expect(candidate.error?.contains("FAIL: gate: AdamW") == true, "\(candidate.error ?? "")")
    }
}
