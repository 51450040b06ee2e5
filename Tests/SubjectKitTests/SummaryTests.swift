import Testing
@testable import SubjectKit

@Suite("Summary block")
struct SummaryTests {
    let example = Summary(
        valBpb: 2.612345, trainingSeconds: 60.0, totalSeconds: 71.9, peakMemoryMB: 412.3, mfuPercent: 31.2,
        totalTokensM: 1.6, numSteps: 2051, numParamsM: 0.8, depth: 4)

    @Test func rendersTheExactBlock() {
        #expect(example.render() == """
            ---
            val_bpb:          2.612345
            training_seconds: 60.0
            total_seconds:    71.9
            peak_memory_mb:   412.3
            mfu_percent:      31.20
            total_tokens_M:   1.6
            num_steps:        2051
            num_params_M:     0.8
            depth:            4
            """)
    }

    @Test func roundTrip() throws {
        #expect(try Summary.parse(example.render()) == example)
        var withTest = example
        withTest.testBpb = 2.7
        #expect(withTest.render().contains("\ntest_bpb:         2.700000\n"))
        #expect(try Summary.parse(withTest.render()) == withTest)
    }

    @Test func parsesTheLastBlockInNoisyOutput() throws {
        var earlier = example
        earlier.valBpb = 9.9
        let log = """
            compiling...
            step 00010 | loss 3.2100 | 0.5s
            ---
            a separator that is not a summary
            \(earlier.render())
            step 02051 | loss 1.8000
            \(example.render())
            """
        #expect(try Summary.parse(log) == example)
    }

    @Test func errors() {
        #expect(errorMessage { _ = try Summary.parse("step 1 | loss 3.2\nTraceback: boom\n") }
            == "no summary block (a line `---` followed by `val_bpb: ...`) in the output; the run crashed or "
            + "was stopped before it finished — read the end of its log")
        let noDepth = example.render().replacingOccurrences(of: "\ndepth:            4", with: "")
        #expect(errorMessage { _ = try Summary.parse(noDepth) }
            == "the summary block has no 'depth:' line; the training file must print the whole block with Summary.render()")
        let nan = example.render().replacingOccurrences(of: "2.612345", with: "nan")
        #expect(errorMessage { _ = try Summary.parse(nan) }
            == "the summary's val_bpb is 'nan', not a finite number; the run failed or diverged")
        let text = example.render().replacingOccurrences(of: "2051", with: "many")
        #expect(errorMessage { _ = try Summary.parse(text) }
            == "the summary's num_steps is 'many', not a finite number; the run failed or diverged")
    }

    @Test func nonFiniteLoss() throws {
        try ensureFinite(3.2, step: 1)
        #expect(errorMessage { try ensureFinite(.nan, step: 12) }
            == "loss is NaN at step 12; training diverged — lower the learning rate or check the initialisation")
        #expect(errorMessage { try ensureFinite(.infinity, step: 3) }
            == "loss is inf at step 3; training diverged — lower the learning rate or check the initialisation")
    }
}
