import Foundation
import Testing
@testable import SearchResearcher

@Suite struct MoveGeneratorTests {
    func moves(_ source: String, _ name: String, path: String = "t.swift", settings: SearchSettings = .default) throws -> [HyperparameterMove] {
        let block = try HyperparameterBlock.parse(source, path: path)
        let parameter = try #require(block.parameter(named: name))
        return MoveGenerator.moves(for: parameter, in: block, settings: settings)
    }

    @Test func theSeedIsNeverMoved() throws {
        let block = try HyperparameterBlock.parse("let SEED = 1337  // range: 0..1000000\nlet DEPTH = 4\n", path: "train.swift")
        #expect(MoveGenerator.moves(for: try #require(block.parameter(named: "SEED")), in: block).isEmpty)
        #expect(MoveGenerator.moves(in: block).allSatisfy { $0.parameter == "DEPTH" })
        #expect(!MoveGenerator.moves(in: block).isEmpty)
    }

    @Test func realsStepMultiplicativelyAndRespectTheirRange() throws {
        let m = try moves("let LEARNING_RATE = 0.004 // range: 1e-4..1e-2\n", "LEARNING_RATE")
        #expect(m.filter { $0.direction == "up" }.map(\.to) == [.double(0.006), .double(0.009), .double(0.0049), .double(0.01), .double(0.00443)])
        #expect(m.filter { $0.direction == "down" }.map(\.to) == [.double(0.00267), .double(0.00178), .double(0.00327), .double(0.00119), .double(0.00361)])
        // Near the top the bigger step is clamped to the bound, and at the bound there is no step up.
        let near = try moves("let LEARNING_RATE = 0.008 // range: 1e-4..1e-2\n", "LEARNING_RATE")
        #expect(near.filter { $0.direction == "up" }.map(\.to) == [.double(0.01), .double(0.0098), .double(0.00885)])
        let top = try moves("let LEARNING_RATE = 0.01 // range: 1e-4..1e-2\n", "LEARNING_RATE")
        #expect(top.allSatisfy { $0.direction == "down" })
        // A range from 0 lets a value step down to 0; a 0 steps up into its range.
        let dropout = try moves("DROPOUT = 0.1  # range: 0..0.5\n", "DROPOUT", path: "t.py")
        #expect(dropout.last?.to == .double(0))
        let zero = try moves("DROPOUT = 0.0  # range: 0..0.5\n", "DROPOUT", path: "t.py")
        #expect(zero.map(\.to) == [.double(0.05), .double(0.15), .double(0.015)])
    }

    @Test func stepSizeScalesTheSteps() throws {
        let m = try moves("let LR = 0.004\n", "LR", settings: SearchSettings(stepSize: 2))
        #expect(m.first?.to == .double(0.009))  // × 1.5²
    }

    @Test func integersStepByKind() throws {
        let source = """
        let DEPTH = 4        // range: 1..12
        let WIDTH = 96
        let HEADS = 4
        let BATCH_SIZE = 32
        let MIN_DEPTH = 1
        let STEPS = 1000
        """
        #expect(try moves(source, "DEPTH").map(\.to) == [.int(5), .int(6), .int(7), .int(3), .int(2), .int(1)])
        // The width doubles and halves, staying a multiple of the heads.
        #expect(try moves(source, "WIDTH").map(\.to) == [.int(192), .int(384), .int(768), .int(48), .int(24), .int(12)])
        // Heads step to the neighbouring divisors of the width.
        #expect(try moves(source, "HEADS").map(\.to) == [.int(6), .int(8), .int(12), .int(3), .int(2), .int(1)])
        #expect(try moves(source, "BATCH_SIZE").map(\.to) == [.int(64), .int(128), .int(256), .int(16), .int(8), .int(4)])
        // Counts stay at 1 or more.
        #expect(try moves(source, "MIN_DEPTH").map(\.to) == [.int(2), .int(3), .int(4)])
        #expect(try moves(source, "STEPS").map(\.to) == [.int(1500), .int(2250), .int(1225), .int(667), .int(444), .int(816)])
        // A depth is a whole word of the name: N_LAYER is one, an engine's block of K (GEMM_SIMD_DEPTH_BLOCK) is a size.
        let engine = "let N_LAYER = 6\nlet GEMM_SIMD_DEPTH_BLOCK = 512  // range: 32..8192\n"
        #expect(try moves(engine, "N_LAYER").map(\.to) == [.int(7), .int(8), .int(9), .int(5), .int(4), .int(3)])
        #expect(try moves(engine, "GEMM_SIMD_DEPTH_BLOCK").map(\.to) == [.int(1024), .int(2048), .int(4096), .int(256), .int(128), .int(64)])
    }

    @Test func hypothesesOfAnEnginesTunablesAreAboutThreadsAndCaches() {
        let speedup = Goal(metric: "speedup", maximize: true)
        func says(_ name: String, _ direction: String, _ from: String, _ to: String) -> String {
            Hypotheses.forMove(HyperparameterMove(parameter: name, direction: direction, from: .int(Int(from)!), to: .int(Int(to)!)),
                               from: from, to: to, goal: speedup)
        }
        #expect(says("GEMM_SIMD_DEPTH_BLOCK", "up", "512", "1024")
                == "A bigger GEMM_SIMD_DEPTH_BLOCK (1024) makes fewer passes over the data with more in each, which should raise speedup if the working set still fits its cache.")
        #expect(says("ADAMW_GRAIN", "down", "16384", "8192").hasPrefix("A finer ADAMW_GRAIN (8192) hands the threads more, smaller pieces"))
        #expect(says("GEMM_THREAD_GRAIN", "up", "16", "32").hasPrefix("A coarser GEMM_THREAD_GRAIN (32)"))
        // More chunks per thread are smaller pieces.
        #expect(says("PARALLEL_CHUNKS_PER_THREAD", "up", "4", "5").hasPrefix("A finer PARALLEL_CHUNKS_PER_THREAD (5)"))
        #expect(says("PARALLEL_SPIN_LIMIT", "down", "100000", "66667").hasPrefix("Idle workers sleeping sooner"))
        // A model's depth is still a model's.
        #expect(says("DEPTH", "up", "4", "5").hasPrefix("A bigger model (DEPTH = 5)"))
    }

    @Test func widthRoundsToAMultipleOfHeads() throws {
        let m = try moves("let WIDTH = 100\nlet N_HEAD = 6\n", "WIDTH")
        #expect(m.compactMap { $0.to.number }.allSatisfy { Int($0) % 6 == 0 })
        #expect(m.map(\.to) == [.int(198), .int(402), .int(798), .int(48), .int(24), .int(12)])
    }

    @Test func booleansFlipAndChoicesSwitch() throws {
        let source = "let USE_ROPE = true\nlet ACTIVATION = \"relu2\" // choices: relu2|gelu|silu\nlet HEADS = 4 // choices: 2|4|8\nlet NAME = \"x\"\n"
        #expect(try moves(source, "USE_ROPE") == [HyperparameterMove(parameter: "USE_ROPE", direction: "off", from: .bool(true), to: .bool(false))])
        #expect(try moves(source, "ACTIVATION").map(\.key) == ["hp:ACTIVATION:gelu", "hp:ACTIVATION:silu"])
        #expect(try moves(source, "HEADS").map { "\($0.direction) \($0.to)" } == ["up 8", "down 2"])
        #expect(try moves(source, "NAME").isEmpty)
    }

    @Test func everyMoveOfTheFixturesIsInRange() throws {
        for (source, path) in [(Fixtures.swiftTrain, "train.swift"), (Fixtures.pythonTrain, "train.py")] {
            let block = try HyperparameterBlock.parse(source, path: path)
            let all = MoveGenerator.moves(in: block)
            #expect(all.count > 10)
            for move in all {
                let parameter = try #require(block.parameter(named: move.parameter))
                #expect(move.to != move.from)
                if let range = parameter.range, let v = move.to.number { #expect(range.contains(v), "\(move.key) → \(move.to)") }
                if let choices = parameter.choices { #expect(choices.contains(move.to)) }
            }
        }
    }
}

@Suite struct MoveGeneratorEdgeTests {
    @Test func hugeValuesAndRangesDoNotOverflow() throws {
        let source = "let BATCH_SIZE = 4611686018427387904\nlet STEPS = 9000000000000000000 // range: 1e30..1e40\nlet DEPTH = 3 // range: 3.5..3.7\n"
        let block = try HyperparameterBlock.parse(source, path: "t.swift")
        let all = MoveGenerator.moves(in: block, settings: SearchSettings(stepSize: 1e300))
        #expect(all.allSatisfy { $0.parameter == "BATCH_SIZE" && $0.direction == "down" })
        #expect(all.first?.to == .int(4611686018427387904 >> 16))
    }
}
