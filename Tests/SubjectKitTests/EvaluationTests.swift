import Foundation
import Testing
@testable import SubjectKit

@Suite("val_bpb")
struct EvaluationTests {
    @Test func uniformModelIsEightBitsPerByte() {
        let split = Array(sampleText(1000, seed: 5).utf8)
        let bpb = bitsPerByte(split, batchSize: 3) { _, targets, batch, seqLen in
            #expect(targets.count == batch * seqLen)
            return Double(targets.count) * log(256.0)
        }
        #expect(abs(bpb - 8.0) < 1e-12)
    }

    @Test func bigramCountModelByHand() {
        // "abracadabra": 10 targets. The bigram model fitted to the text itself gives
        // p(b|a) = 2/4, p(c|a) = p(d|a) = 1/4 and probability 1 to every other transition:
        // a→b twice costs 1 bit each, a→c and a→d 2 bits each, the rest 0. 6 bits / 10 bytes.
        let split = Array("abracadabra".utf8)
        func p(_ prev: Int32, _ next: Int32) -> Double {
            let a = Int32(UInt8(ascii: "a"))
            if prev == a { return next == Int32(UInt8(ascii: "b")) ? 0.5 : 0.25 }
            return 1
        }
        var calls: [(Int, Int)] = []
        var pairs: [String] = []
        let bpb = bitsPerByte(split, maxSeqLen: 3, batchSize: 2) { inputs, targets, batch, seqLen in
            calls.append((batch, seqLen))
            var sum = 0.0
            for i in 0..<inputs.count {
                sum -= log(p(inputs[i], targets[i]))
                pairs.append(String(decoding: [UInt8(inputs[i]), UInt8(targets[i])], as: UTF8.self))
            }
            return sum
        }
        #expect(abs(bpb - 0.6) < 1e-12)
        // 10 targets = 3 windows of 3 (batches of 2 and 1) + a last window of 1.
        #expect(calls.map(\.0) == [2, 1, 1])
        #expect(calls.map(\.1) == [3, 3, 1])
        // Every byte after the first is a target exactly once, in order.
        #expect(pairs == ["ab", "br", "ra", "ac", "ca", "ad", "da", "ab", "br", "ra"])
    }

    @Test func windowsDoNotOverlapAndAreDeterministic() {
        let split = Array(sampleText(2 * 256 + 1, seed: 2).utf8)  // exactly 2 full windows, no tail
        var seqLens: [Int] = []
        let model = { (inputs: [Int32], targets: [Int32], batch: Int, seqLen: Int) -> Double in
            // Some deterministic, context-dependent "model".
            zip(inputs, targets).reduce(0.0) { $0 + 1 + Double(($1.0 ^ $1.1) & 7) / 8 }
        }
        let a = bitsPerByte(split, batchSize: 1) { i, t, b, s in seqLens.append(s); return model(i, t, b, s) }
        let b = bitsPerByte(split, batchSize: 2, nll: model)
        #expect(seqLens == [256, 256])
        #expect(a == b)
    }

    @Test func errorsFromTheModelPassThrough() {
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            _ = try bitsPerByte([1, 2, 3], batchSize: 1) { _, _, _, _ in throw Boom() }
        }
    }
}
