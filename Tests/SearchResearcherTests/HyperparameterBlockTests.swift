import Foundation
import Testing
@testable import SearchResearcher

@Suite struct HyperparameterBlockTests {
    @Test func parsesASwiftBlock() throws {
        let block = try HyperparameterBlock.parse(Fixtures.swiftTrain, path: "train.swift")
        #expect(block.parameters.map(\.name) == ["LEARNING_RATE", "WEIGHT_DECAY", "DEPTH", "WIDTH", "HEADS", "BATCH_SIZE", "ACTIVATION", "USE_ROPE"])
        let lr = try #require(block.parameter(named: "LEARNING_RATE"))
        #expect(lr.value == .double(0.003))
        #expect(lr.literal == "3e-3")
        #expect(lr.range == 1e-4...1e-2)
        #expect(lr.line == 4)
        #expect(lr.comment == "range: 1e-4..1e-2")
        #expect(block.parameter(named: "WEIGHT_DECAY")?.range == 0...0.5)
        #expect(block.parameter(named: "DEPTH")?.value == .int(4))
        #expect(block.parameter(named: "DEPTH")?.range == 1...12)
        #expect(block.parameter(named: "HEADS")?.range == nil)
        #expect(block.parameter(named: "ACTIVATION")?.value == .string("relu2"))
        #expect(block.parameter(named: "ACTIVATION")?.choices == [.string("relu2"), .string("gelu"), .string("silu")])
        #expect(block.parameter(named: "USE_ROPE")?.value == .bool(true))
        // After the first code line the block is over.
        #expect(block.parameter(named: "NOT_A_PARAMETER") == nil)
    }

    @Test func parsesAPythonBlock() throws {
        let block = try HyperparameterBlock.parse(Fixtures.pythonTrain, path: "train.py")
        #expect(block.parameters.map(\.name) == ["LEARNING_RATE", "DROPOUT", "N_LAYER", "ACTIVATION", "USE_BIAS", "WARMUP_TOKENS"])
        #expect(block.parameter(named: "LEARNING_RATE")?.range == 1e-4...1e-2)
        #expect(block.parameter(named: "LEARNING_RATE")?.line == 6)
        #expect(block.parameter(named: "DROPOUT")?.value == .double(0))
        #expect(block.parameter(named: "DROPOUT")?.range == 0...0.5)
        #expect(block.parameter(named: "ACTIVATION")?.choices == [.string("relu2"), .string("gelu"), .string("silu")])
        #expect(block.parameter(named: "ACTIVATION")?.literal == "'relu2'")
        #expect(block.parameter(named: "USE_BIAS")?.value == .bool(false))
        #expect(block.parameter(named: "WARMUP_TOKENS")?.value == .int(524_288))
    }

    @Test func readsTypeAnnotationsModifiersAndNumberForms() throws {
        let source = """
        public let BETA2: Double = 0.95
        let SCALE: Float = 2   // range: 1...4
        var STEPS = 1_000
        let EPS = 1E-8
        let OFFSET = -3        // range: -5 to 5
        let MODE = "fast"      // choices: "fast", "slow"
        let HEADS = 8          // choices: 2|4|8|16
        """
        let block = try HyperparameterBlock.parse(source, path: "Sources/train/train.swift")
        #expect(block.parameter(named: "BETA2")?.value == .double(0.95))
        #expect(block.parameter(named: "SCALE")?.value == .double(2))
        #expect(block.parameter(named: "SCALE")?.range == 1...4)
        #expect(block.parameter(named: "STEPS")?.value == .int(1000))
        #expect(block.parameter(named: "EPS")?.value == .double(1e-8))
        #expect(block.parameter(named: "OFFSET")?.range == -5...5)
        #expect(block.parameter(named: "MODE")?.choices == [.string("fast"), .string("slow")])
        #expect(block.parameter(named: "HEADS")?.choices == [.int(2), .int(4), .int(8), .int(16)])
    }

    @Test func aFileWithoutABlockGivesTheExactMessage() throws {
        let source = "import Foundation\n\nfunc main() {\n    let learningRate = 0.003\n}\n"
        #expect(throws: SearchError.noHyperparameterBlock(path: "Sources/train/train.swift")) {
            try HyperparameterBlock.parse(source, path: "Sources/train/train.swift")
        }
        do {
            _ = try HyperparameterBlock.parse(source, path: "Sources/train/train.swift")
            Issue.record("expected an error")
        } catch let error as SearchError {
            #expect(error.description == "Sources/train/train.swift has no hyperparameter block: put ALL_CAPS constants with literal values at the top of the file, one per line, e.g. `let LEARNING_RATE = 0.003  // range: 1e-4..1e-2`")
        }
        // Only non-literal assignments is no block either.
        #expect(throws: SearchError.noHyperparameterBlock(path: "t.py")) {
            try HyperparameterBlock.parse("TOTAL = 2**19\nX = foo(1)\n", path: "t.py")
        }
    }

    @Test func badAnnotationsAreClearErrors() throws {
        #expect(throws: SearchError.invalidAnnotation(path: "t.swift", line: 2, reason: "LR: range 0.01..0.0001 has its lower bound above its upper bound; write the range as `range: lo..hi`, e.g. `range: 1e-4..1e-2`")) {
            try HyperparameterBlock.parse("// hp\nlet LR = 0.001 // range: 1e-2..1e-4\n", path: "t.swift")
        }
        #expect(throws: SearchError.invalidAnnotation(path: "t.swift", line: 1, reason: "ACT: `range:` applies only to numbers; use `choices: a|b|c` for \"gelu\"")) {
            try HyperparameterBlock.parse("let ACT = \"gelu\" // range: 1..2\n", path: "t.swift")
        }
        #expect(throws: SearchError.invalidAnnotation(path: "t.py", line: 1, reason: "N: choice 'big' is not an integer like 4")) {
            try HyperparameterBlock.parse("N = 4  # choices: 2|4|big\n", path: "t.py")
        }
    }

    @Test func rewritingChangesExactlyOneValue() throws {
        let block = try HyperparameterBlock.parse(Fixtures.swiftTrain, path: "train.swift")
        let updated = block.replacing("LEARNING_RATE", with: .double(0.0045), in: Fixtures.swiftTrain)
        let before = Fixtures.swiftTrain.components(separatedBy: "\n"), after = updated.components(separatedBy: "\n")
        #expect(before.count == after.count)
        let changed = zip(before, after).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(changed.count == 1)
        #expect(changed.first?.offset == 3)
        #expect(after[3] == "let LEARNING_RATE = 4.5e-3      // range: 1e-4..1e-2")
        // Python: plain decimals stay plain, quotes and True/False keep their style.
        let py = try HyperparameterBlock.parse(Fixtures.pythonTrain, path: "train.py")
        var text = py.replacing("LEARNING_RATE", with: .double(0.0045), in: Fixtures.pythonTrain)
        text = py.replacing("ACTIVATION", with: .string("gelu"), in: text)
        text = py.replacing("USE_BIAS", with: .bool(true), in: text)
        text = py.replacing("WARMUP_TOKENS", with: .int(1_048_576), in: text)
        let lines = text.components(separatedBy: "\n")
        #expect(lines[5] == "LEARNING_RATE = 0.0045  # range: 1e-4-1e-2")
        #expect(lines[10] == "ACTIVATION = 'gelu'   # choices: relu2, gelu, silu")
        #expect(lines[11] == "USE_BIAS = True")
        #expect(lines[12] == "WARMUP_TOKENS = 1_048_576")
        #expect(zip(Fixtures.pythonTrain.components(separatedBy: "\n"), lines).filter { $0 != $1 }.count == 4)
        // An unknown name leaves the source alone.
        #expect(block.replacing("NO_SUCH", with: .int(1), in: Fixtures.swiftTrain) == Fixtures.swiftTrain)
    }

    @Test func rewritingKeepsCRLFLineEndings() throws {
        let source = "let LR = 0.001\r\nlet DEPTH = 4\r\n"
        let block = try HyperparameterBlock.parse(source, path: "t.swift")
        #expect(block.parameter(named: "LR")?.value == .double(0.001))
        #expect(block.replacing("DEPTH", with: .int(5), in: source) == "let LR = 0.001\r\nlet DEPTH = 5\r\n")
    }

    @Test func literalsKeepTheirStyle() {
        #expect(LiteralFormat.render(.double(0.0045), likeLiteral: "3e-3") == "4.5e-3")
        #expect(LiteralFormat.render(.double(0.006), likeLiteral: "3e-3") == "6e-3")
        #expect(LiteralFormat.render(.double(0.006), likeLiteral: "3.0e-3") == "6.0e-3")
        #expect(LiteralFormat.render(.double(1e-8), likeLiteral: "1E-07") == "1E-08")
        #expect(LiteralFormat.render(.double(0.00001), likeLiteral: "0.003") == "0.00001")
        #expect(LiteralFormat.render(.double(2), likeLiteral: "1.5") == "2.0")
        #expect(LiteralFormat.render(.double(1234.5), likeLiteral: "1.5") == "1234.5")
        #expect(LiteralFormat.render(.double(-0.25), likeLiteral: "0.5") == "-0.25")
        #expect(LiteralFormat.render(.int(524_288), likeLiteral: "1_000") == "524_288")
        #expect(LiteralFormat.render(.int(-1000), likeLiteral: "1_000") == "-1_000")
        #expect(LiteralFormat.render(.bool(false), likeLiteral: "True") == "False")
        #expect(LiteralFormat.render(.string("gelu"), likeLiteral: "'relu2'") == "'gelu'")
    }
}

/// The red team's finding 7 on the editable side: hyperparameter values at the ends of their types never trap the
/// parser or the move generator (SEED = Int.max aborted the harness once).
@Suite struct HyperparameterBlockFuzzTests {
    @Test func extremeValuesNeverTrap() throws {
        let extremes = ["9223372036854775807", "-9223372036854775808", "9223372036854775808", "1e308", "-1e308", "5e-324",
                        "0", "-0", "1", "-1", "64", "4096", "1e19", "0.0", "3"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        var parsed = 0, moved = 0
        for _ in 0..<400 {
            var lines = ["// MARK: - Hyperparameters (the search researcher moves these)", ""]
            for name in ["SEED", "DEPTH", "WIDTH", "HEADS", "LEARNING_RATE", "SEQ_LEN", "BATCH_SIZE", "WARMUP_STEPS"] {
                let value = extremes[Int(next() % UInt64(extremes.count))]
                lines.append("let \(name) = \(value)")
            }
            lines.append("")
            let source = lines.joined(separator: "\n")
            guard let block = try? HyperparameterBlock.parse(source, path: "train.swift") else { continue }
            parsed += 1
            for move in MoveGenerator.moves(in: block).prefix(20) {
                // Every move is written and reads back as the value it names.
                let changed = block.replacing(move.parameter, with: move.to, in: source)
                #expect(try HyperparameterBlock.parse(changed, path: "train.swift").parameter(named: move.parameter)?.value == move.to)
                moved += 1
            }
        }
        #expect(parsed > 100 && moved > 100, "\(parsed) blocks, \(moved) moves")
    }
}
