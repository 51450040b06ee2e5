import Foundation
import Testing
@testable import SubjectKit

/// The red team's finding 7: one printed line (`num_steps: 1e19`) trapped the harness in a number conversion. The
/// readers of what a subject prints are fuzzed here with values built to trap: any input may be refused (nil or an
/// error), none may crash the process (a trap ends the test run).
@Suite("Summary fuzz")
struct SummaryFuzzTests {
    static let values = ["1e19", "-1e19", "1e308", "1e309", "-1e309", "nan", "NaN", "inf", "-inf", "infinity", "-0", "0",
                         "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999",
                         "0x7fffffffffffffff", "1_000", "", " ", "4.5e-324", "2.0", "60.0", "1e-400", "١٢", "3 4", "--1", "+7"]
    static let keys = ["val_bpb", "training_seconds", "total_seconds", "peak_memory_mb", "mfu_percent", "total_tokens_M",
                       "num_steps", "num_params_M", "depth", "test_bpb", "garbage"]

    @Test func noSummaryOrReportTrapsTheReader() {
        var rng = SplitMix64(seed: 7)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        var parsed = 0, reports = 0
        for _ in 0..<5_000 {
            var lines = ["noise before", "---"]
            for _ in 0..<Int(rng.next() % 14) {
                let value = rng.next() % 4 == 0 ? String(Double(bitPattern: rng.next())) : pick(Self.values)
                lines.append("\(pick(Self.keys)):\(String(repeating: " ", count: Int(rng.next() % 4)))\(value)")
            }
            if rng.next() % 5 == 0 { lines.append(String(decoding: (0..<40).map { _ in UInt8(rng.next() % 256) }, as: UTF8.self)) }
            let text = lines.joined(separator: "\n")
            if let summary = try? Summary.parse(text) { parsed += 1; #expect(summary.valBpb.isFinite) }
            if let report = TrainingReport.parse(text) { reports += 1; #expect(report.numSteps.magnitude < UInt(Int.max)) }
        }
        // The honest block is read, the one with num_steps 1e19 is not (and nothing trapped on the way).
        let honest = "---\ntraining_seconds: 1.0\npeak_memory_mb: 1\nmfu_percent: 1\ntotal_tokens_M: 1\nnum_steps: 12\nnum_params_M: 1\ndepth: 2"
        #expect(TrainingReport.parse(honest)?.numSteps == 12)
        #expect(TrainingReport.parse(honest.replacingOccurrences(of: "num_steps: 12", with: "num_steps: 1e19")) == nil)
        #expect(TrainingReport.parse(honest.replacingOccurrences(of: "depth: 2", with: "depth: -9.0e18")) != nil)
        #expect(Int(checking: 1e19) == nil && Int(checking: .nan) == nil && Int(checking: -2.6) == -3 && Int(checking: 9.2e18) == 9_200_000_000_000_000_000)
        _ = (parsed, reports)
    }
}
