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
        #expect(ws.manifest.metric == "speedup" && ws.manifest.direction == .higher)
        #expect(ws.manifest.evaluation.scoring == .summary)
        #expect(ws.manifest.noise.sigmaPrior == 0.01)  // a ratio, a prior until the workspace's own runs measure σ
        // The non-editable core, the benchmark and the reference are protected; the kernels are not.
        #expect(ws.manifest.fixed["Sources/corebench/main.swift"] != nil && ws.manifest.fixed["Sources/TensorCore/Tensor.swift"] != nil)
        #expect(ws.manifest.fixed["Sources/TensorCore/Ops/MatMul.swift"] == nil)
        #expect(ws.manifest.fixed["Sources/ReferenceCore/Ops/MatMul.swift"] != nil && ws.manifest.fixed["Sources/ReferenceModel/Model.swift"] != nil)
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
        #expect(names.count == 16, "\(names.keys.sorted())")
        let (status, output) = try await buildAndRunGate(ws.root)
        #expect(status == .exited(0), "\(output.suffix(3000))")
        #expect(output.contains("gate passed: 36 checks"), "\(output.suffix(2000))")
        for (name, value) in names {
            #expect(output.contains("tunable \(name) = \(value): exercised by '"), "\(name) is not exercised by the gate")
        }
    }

    @Test func theReferenceIsTheShippedCoreAndTheBenchmarksModelRenamed() throws {
        let (ws, base) = try makeWorkspace()
        defer { try? FileManager.default.removeItem(at: base) }
        let source = try Workspace.sourceRoot()
        func read(_ root: URL, _ path: String) throws -> String { try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }
        // Every file of the shipped core is there, with the module's name (and only it) changed.
        let files = try FileManager.default.subpathsOfDirectory(atPath: source.appendingPathComponent("Sources/TensorCore").path)
            .filter { $0.hasSuffix(".swift") }
        #expect(files.count > 20)
        for file in files {
            let shipped = try read(source, "Sources/TensorCore/" + file), copy = try read(ws.root, "Sources/ReferenceCore/" + file)
            #expect(copy == shipped.replacingOccurrences(of: "TensorCore", with: "ReferenceCore"), "\(file)")
        }
        #expect(try read(ws.root, "Sources/ReferenceCore/Ops/MatMul.swift").contains("serial ? gemmSerial : ReferenceCore.gemm"))
        let model = try read(ws.root, "Sources/corebench/Model.swift")
        #expect(model.contains("\nimport TensorCore\n"))
        #expect(try read(ws.root, "Sources/ReferenceModel/Model.swift") == model.replacingOccurrences(of: "import TensorCore", with: "import ReferenceCore"))
    }

    @Test(.timeLimit(.minutes(15)))
    func theShippedCoreScoresAboutOneAndASlowerKernelBelowItInTheSameRun() async throws {
        let (ws, base) = try makeWorkspace(budget: 4)
        defer { try? FileManager.default.removeItem(at: base) }
        // Correct but slower: every matrix product on the candidate core sleeps 1 ms first (about 75 ms a step, more
        // than the step itself takes on 2 idle cores, so even a machine slowed 3 times leaves it clearly slower).
        let path = "Sources/TensorCore/Ops/MatMul.swift"
        let source = try String(contentsOf: ws.root.appendingPathComponent(path), encoding: .utf8)
        let entry = "    let block = max(16, GEMM_ROW_BLOCK_FLOATS"
        #expect(source.contains(entry))
        let slow = "import Foundation\n" + source.replacingOccurrences(of: entry, with: "    usleep(1000)\n" + entry)
        let researcher = ScriptedResearcher([.files([path: slow], "MatMul: sleep 1 ms before every product")])
        let (_, records) = try await runLoop(ws, researcher, experiments: 1, baselineRuns: 2)
        let baseline = try #require(records.first { $0.number == 0 })
        #expect(baseline.status == "baseline", "\(baseline.error ?? "")")
        // The shipped core against its renamed copy, timed in alternating rounds: about 1 whatever the machine does.
        let ratio = try #require(baseline.metric)
        #expect(ratio > 0.8 && ratio < 1.25, "baseline speedup \(ratio)")
        let candidate = try #require(records.first { $0.number == 1 })
        #expect(candidate.status == "discard", "\(candidate.status): \(candidate.error ?? "")")
        #expect((candidate.metric ?? 1) < 0.8 * ratio, "slower candidate's speedup \(candidate.metric ?? .nan) against \(ratio)")
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
