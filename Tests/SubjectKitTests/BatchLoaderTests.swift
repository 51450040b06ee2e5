import Testing
@testable import SubjectKit

@Suite("Byte tokenizer and batch loader")
struct BatchLoaderTests {
    @Test func splitMix64MatchesTheReference() {
        // Vigna's splitmix64.c with seed 1234567.
        var random = SplitMix64(seed: 1_234_567)
        #expect(random.next() == 6_457_827_717_110_365_317)
        #expect(random.next() == 3_203_168_211_198_807_973)
        #expect(random.next() == 9_817_491_932_198_370_423)
    }

    @Test func boundedDrawsStayInRange() {
        var random = SplitMix64(seed: 7)
        var seen = Set<UInt64>()
        for _ in 0..<1000 {
            let x = random.next(below: 5)
            #expect(x < 5)
            seen.insert(x)
        }
        #expect(seen == [0, 1, 2, 3, 4])
    }

    @Test func targetsAreInputsShiftedByOne() {
        // data[i] = i, so a window is identified by its first byte.
        let data = (0..<200).map { UInt8($0) }
        var loader = BatchLoader(data: data, batchSize: 4, seqLen: 16, seed: 42)
        let (inputs, targets) = loader.next()
        #expect(inputs.count == 4 * 16 && targets.count == 4 * 16)
        for row in 0..<4 {
            let start = inputs[row * 16]
            #expect(start + 16 <= 199)  // the target window stays inside the data
            for t in 0..<16 {
                #expect(inputs[row * 16 + t] == start + Int32(t))
                #expect(targets[row * 16 + t] == start + Int32(t) + 1)
            }
        }
        #expect(loader.tokensPerBatch == 64)
    }

    @Test func sameSeedSameBatches() {
        let data = Array(sampleText(5000, seed: 3).utf8)
        var a = BatchLoader(data: data, batchSize: 3, seqLen: 32, seed: 1337)
        var b = BatchLoader(data: data, batchSize: 3, seqLen: 32, seed: 1337)
        var c = BatchLoader(data: data, batchSize: 3, seqLen: 32, seed: 1338)
        for _ in 0..<5 {
            let x = a.next(), y = b.next(), z = c.next()
            #expect(x.inputs == y.inputs && x.targets == y.targets)
            #expect(x.inputs != z.inputs)
        }
    }

    @Test func fixedSeedGivesFixedOffsets() {
        // Pins the batches across platforms and versions (offsets computed independently with a
        // Python transcription of SplitMix64 + Lemire): data[i] = i / 4, so row r starts at byte
        // offset[r] / 4.
        let data = (0..<1000).map { UInt8($0 / 4) }
        var loader = BatchLoader(data: data, batchSize: 4, seqLen: 8, seed: 1)
        let batch = loader.next()
        let firsts: [Int32] = (0..<4).map { batch.inputs[$0 * 8] }
        let offsets: [Int32] = [562, 739, 963, 440]
        #expect(firsts == offsets.map { $0 / 4 })
    }

    @Test func tokenizerRoundTrip() {
        #expect(vocabSize == 256)
        #expect(maxSeqLen == 256)
        #expect(ByteTokenizer.encode("hé") == [104, 195, 169])
        #expect(ByteTokenizer.decode([104, 195, 169]) == "hé")
    }
}
