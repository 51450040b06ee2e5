import AutoResearchCore
import Foundation
import Testing
@testable import Reporting
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct ReportTests {
    static let outcomes: [ExperimentOutcome] = [
        ExperimentOutcome(number: 1, commit: "aaaaaaa111", description: "baseline", status: .baseline, metric: 1.000, memoryGB: 40),
        ExperimentOutcome(number: 2, commit: "bbbbbbb222", description: "LEARNING_RATE 0.003 → 0.0045", status: .keep, metric: 0.990, memoryGB: 40),
        ExperimentOutcome(number: 3, commit: "ccccccc333", description: "DEPTH 4 → 5", status: .discard, metric: 0.995, memoryGB: 41),
        ExperimentOutcome(number: 4, commit: "ddddddd444", description: "WIDTH 256 → 512", status: .crash, memoryGB: nil),
        ExperimentOutcome(number: 5, commit: "eeeeeee555", description: "idea: GELU <instead> of ReLU² & \"more\"", status: .keep, metric: 0.960, memoryGB: 40),
        ExperimentOutcome(number: 6, commit: "fffffff666", description: "BATCH_SIZE 32 → 64", status: .discard, metric: 1.2, memoryGB: 42),
        ExperimentOutcome(number: 7, commit: "0000000777", description: "USE_ROPE true → false", status: .keep, metric: 0.955, memoryGB: 40),
        ExperimentOutcome(number: 8, description: "failed", status: .researcherError),
        ExperimentOutcome(number: 9, description: "HEADS 4 → 8", status: .running),
    ]

    @Test func summaryComputesTheHeadlineNumbers() throws {
        let s = ReportSummary(outcomes: Self.outcomes.shuffled(), noiseSigma: 0.002)
        #expect(s.experiments == 7)
        #expect((s.baselineRuns, s.keeps, s.discards, s.crashes, s.researcherErrors) == (1, 3, 2, 1, 1))
        #expect(s.baseline == 1.0)
        #expect(s.best == 0.955)
        #expect(s.bestOutcome?.number == 7)
        #expect(abs(try #require(s.improvementPercent) - 4.5) < 1e-9)
        #expect(s.keepRate == 0.5)
        // Top improvements by the delta they brought: #5 (0.030), #2 (0.010), #7 (0.005).
        #expect(s.improvements.map(\.outcome.number) == [5, 2, 7])
        #expect(abs(s.improvements[0].delta - 0.03) < 1e-12)
        #expect(s.improvements[0].previousBest == 0.99)
    }

    @Test func severalBaselineRunsAverage() {
        let runs = [ExperimentOutcome(number: 1, description: "baseline", status: .baseline, metric: 1.0),
                    ExperimentOutcome(number: 2, description: "baseline", status: .baseline, metric: 1.002),
                    ExperimentOutcome(number: 3, description: "x", status: .keep, metric: 0.98)]
        let s = ReportSummary(outcomes: runs, noiseSigma: nil)
        #expect(abs((s.baseline ?? 0) - 1.001) < 1e-12)
        #expect(s.improvements.count == 1)
        #expect(abs((s.improvements.first?.delta ?? 0) - 0.021) < 1e-12)
    }

    @Test func aHigherIsBetterMetricIsReportedTheRightWayUp() throws {
        // The tensorcore subject: tokens_per_second, higher is better.
        let runs = [ExperimentOutcome(number: 0, description: "baseline", status: .baseline, metric: 40_000),
                    ExperimentOutcome(number: 1, commit: "aaaaaaa111", description: "GEMM_THREAD_GRAIN 16 → 32", status: .keep, metric: 44_000),
                    ExperimentOutcome(number: 2, description: "slower", status: .discard, metric: 30_000),
                    ExperimentOutcome(number: 3, commit: "bbbbbbb222", description: "ADAMW_GRAIN 16384 → 32768", status: .keep, metric: 46_000)]
        let scale = MetricScale(name: "tokens_per_second", lowerIsBetter: false)
        let s = ReportSummary(outcomes: runs, noiseSigma: 1000, scale: scale)
        #expect(s.best == 46_000)
        #expect(s.bestOutcome?.number == 3)
        #expect(s.improvements.map(\.outcome.number) == [1, 3])
        #expect(s.improvements.map(\.delta) == [4_000, 2_000])
        #expect(abs(try #require(s.improvementPercent) - 15) < 1e-9)
        let md = Report.markdown(outcomes: runs, title: "engine", noiseSigma: 1000, scale: scale)
        #expect(md.contains("| Baseline tokens_per_second | 40000.000000 |"))
        #expect(md.contains("| Best tokens_per_second | 46000.000000 (#3, `bbbbbbb`: ADAMW_GRAIN 16384 → 32768) |"))
        #expect(md.contains("| Improvement | 15.00 % (6000.000000 higher) |"))
        #expect(md.contains("| Noise σ | 1000.000000 (the improvement is 6.0 σ) |"))
        #expect(md.contains("| 1 | 1 | `aaaaaaa` | 44000.000000 | +4000.000000 | GEMM_THREAD_GRAIN 16 → 32 |"))
        let svg = ProgressChart.svg(runs, scale: scale)
        #expect(svg.contains(">tokens_per_second (higher is better)</text>"))
        #expect(svg.contains("class=\"running-best\""))
        #expect(svg.components(separatedBy: " V ").count == 3)   // the running best steps up twice
    }

    @Test func writesTheMarkdownAndTheChart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-tests-\(UUID().uuidString)")
        let (markdown, chart) = try Report.write(outcomes: Self.outcomes, title: "mar5 | gpt", noiseSigma: 0.002, to: dir)
        #expect(markdown.lastPathComponent == "report.md")
        #expect(chart.lastPathComponent == "progress.svg")
        let md = try String(contentsOf: markdown, encoding: .utf8)
        #expect(md.hasPrefix("# mar5 \\| gpt\n\n![progress](progress.svg)\n"))
        #expect(md.contains("| Baseline val_bpb | 1.000000 |"))
        #expect(md.contains("| Best val_bpb | 0.955000 (#7, `0000000`: USE_ROPE true → false) |"))
        #expect(md.contains("| Improvement | 4.50 % (0.045000 lower) |"))
        #expect(md.contains("| Experiments | 7: 3 keep, 2 discard, 1 crash, 1 baseline (and 1 researcher errors) |"))
        #expect(md.contains("| Keep rate | 50.00 % |"))
        #expect(md.contains("| Noise σ | 0.002000 (the improvement is 22.5 σ) |"))
        let rows = md.components(separatedBy: "\n").filter { $0.hasPrefix("| 1 |") || $0.hasPrefix("| 2 |") || $0.hasPrefix("| 3 |") }
        #expect(rows == [
            "| 1 | 5 | `eeeeeee` | 0.960000 | -0.030000 | idea: GELU <instead> of ReLU² & \"more\" |",
            "| 2 | 2 | `bbbbbbb` | 0.990000 | -0.010000 | LEARNING_RATE 0.003 → 0.0045 |",
            "| 3 | 7 | `0000000` | 0.955000 | -0.005000 | USE_ROPE true → false |",
        ])
        let svg = try Data(contentsOf: chart)
        let counter = CircleCounter()
        let parser = XMLParser(data: svg)
        parser.delegate = counter
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(counter.circles["kept"] == 4)       // baseline + 3 keeps
        #expect(counter.circles["discarded"] == 2)  // crashes are not plotted
        #expect(counter.texts.contains("7 experiments, 3 kept improvements"))
        #expect(counter.texts.contains("idea: GELU <instead> of ReLU² & \"more\""))
        #expect(counter.paths.contains("running-best"))
    }

    @Test func anEmptyChartIsStillValid() {
        let parser = XMLParser(data: Data(ProgressChart.svg([]).utf8))
        let counter = CircleCounter()
        parser.delegate = counter
        #expect(parser.parse())
        #expect(counter.circles.isEmpty)
        #expect(counter.texts.contains("0 experiments, 0 kept improvements"))
    }

    @Test func labelsAreTruncatedAndTicksAreNice() {
        #expect(ProgressChart.truncate(String(repeating: "x", count: 60), to: 40) == String(repeating: "x", count: 39) + "…")
        #expect(ProgressChart.ticks(0.95, 1.005).map(\.label) == ["0.95", "0.96", "0.97", "0.98", "0.99", "1.00"])
        #expect(ProgressChart.ticks(0.99, 1.004).map(\.label) == ["0.9900", "0.9925", "0.9950", "0.9975", "1.0000", "1.0025"])
        #expect(ProgressChart.ticks(0, 100, integers: true).map(\.label) == ["0", "20", "40", "60", "80", "100"])
        #expect(ProgressChart.escape("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;")
    }
}

/// Counts the chart's circles by class and collects its texts.
final class CircleCounter: NSObject, XMLParserDelegate {
    var circles: [String: Int] = [:]
    var texts: [String] = []
    var paths: [String] = []
    private var text: String?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        if elementName == "circle", let c = attributeDict["class"], c != "legend" { circles[c, default: 0] += 1 }
        if elementName == "path", let c = attributeDict["class"] { paths.append(c) }
        if elementName == "text" { text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if elementName == "text", let t = text { texts.append(t); text = nil }
    }
}

@Suite struct ProgramChartTests {
    @Test func oneStepLineAndOneDotPerKeepForEachProgram() {
        let svg = ProgramChart.svg([
            ProgramChart.Series(label: "program 1: the original", points: [(0.0, 3.0), (0.5, 2.5), (1.0, 2.6)]),
            ProgramChart.Series(label: "program 2: stepSize 1 → 2", points: [(0.25, 2.8), (0.75, 2.2)]),
        ])
        #expect(svg.components(separatedBy: "<path class=\"program\"").count - 1 == 2)
        #expect(svg.components(separatedBy: "<circle class=\"keep\"").count - 1 == 5)
        #expect(svg.contains(">program 2: stepSize 1 → 2</text>"))
        // The running best of program 1 steps down once (3.0 → 2.5) and ignores the later, worse keep (2.6).
        let first = svg.components(separatedBy: "<path class=\"program\" d=\"")[1].prefix { $0 != "\"" }
        #expect(first.components(separatedBy: " H ").count - 1 == 1, "\(first)")
        #expect(svg.contains("val_bpb (lower is better)"))
    }

    @Test func anEmptyChartSaysSo() {
        #expect(ProgramChart.svg([]).contains("no windows finished yet"))
    }
}
