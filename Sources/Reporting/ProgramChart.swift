import Foundation

/// Research progress per program over time, as hand-written SVG (the meta-loop's chart in report.md):
/// x = hours since the first experiment of the chart, y = the metric; one coloured step line per program
/// (`<path class="program">`) through the running best of the experiments it steered, with a dot
/// (`<circle class="keep">`) for each of its keeps; a legend names each program.
public enum ProgramChart {
    /// One program's keeps.
    public struct Series: Sendable, Equatable {
        /// "program 3: stepSize 1 → 2"
        public var label: String
        /// (hours since the chart's start, metric) of each keep, in time order; the first point may be the base it started from.
        public var points: [(hours: Double, metric: Double)]

        public init(label: String, points: [(hours: Double, metric: Double)]) { self.label = label; self.points = points }

        public static func == (a: Series, b: Series) -> Bool {
            a.label == b.label && a.points.map(\.hours) == b.points.map(\.hours) && a.points.map(\.metric) == b.points.map(\.metric)
        }
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    static let width = 1000.0, height = 520.0, left = 80.0, right = 250.0, top = 50.0, bottom = 60.0

    /// The chart as a standalone SVG document; `lowerIsBetter` orients the running best.
    public static func svg(_ series: [Series], metricName: String = "val_bpb", lowerIsBetter: Bool = true) -> String {
        let f = { (v: Double) in String(format: "%.1f", v) }
        let plotW = width - left - right, plotH = height - top - bottom
        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif">
        <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="#ffffff"/>
        <text x="\(f(left + plotW / 2))" y="28" text-anchor="middle" font-size="18" font-weight="bold">Research progress per program</text>
        <rect x="\(f(left))" y="\(f(top))" width="\(f(plotW))" height="\(f(plotH))" fill="none" stroke="#333333" stroke-width="1"/>

        """
        let all = series.flatMap(\.points)
        guard let tMax = all.map(\.hours).max(), let yMin = all.map(\.metric).min(), let yMax = all.map(\.metric).max() else {
            return svg + "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"14\" fill=\"#666666\">no windows finished yet</text>\n</svg>\n"
        }
        let x1 = max(tMax, 1e-3) * 1.02
        let pad = max((yMax - yMin) * 0.08, abs(yMax) * 1e-4, 1e-6)
        let (y0, y1) = (yMin - pad, yMax + pad)
        func px(_ t: Double) -> Double { left + t / x1 * plotW }
        func py(_ m: Double) -> Double { top + (y1 - m) / (y1 - y0) * plotH }
        for tick in ProgressChart.ticks(y0, y1) {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(tick.value)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(tick.value)))\" stroke=\"#eeeeee\"/>\n"
            svg += "<text x=\"\(f(left - 8))\" y=\"\(f(py(tick.value) + 4))\" text-anchor=\"end\" font-size=\"11\">\(tick.label)</text>\n"
        }
        for tick in ProgressChart.ticks(0, x1) {
            svg += "<text x=\"\(f(px(tick.value)))\" y=\"\(f(top + plotH + 19))\" text-anchor=\"middle\" font-size=\"11\">\(tick.label)</text>\n"
        }
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\" font-size=\"13\">Hours</text>\n"
        svg += "<text x=\"18\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 \(f(top + plotH / 2)))\">\(ProgressChart.escape(metricName)) (\(lowerIsBetter ? "lower" : "higher") is better)</text>\n"
        for (i, s) in series.enumerated() where !s.points.isEmpty {
            let color = palette[i % palette.count]
            var best = s.points[0].metric
            var d = "M \(f(px(s.points[0].hours))) \(f(py(best)))"
            for p in s.points.dropFirst() where lowerIsBetter ? p.metric < best : p.metric > best {
                best = p.metric
                d += " H \(f(px(p.hours))) V \(f(py(best)))"
            }
            svg += "<path class=\"program\" d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for p in s.points {
                svg += "<circle class=\"keep\" cx=\"\(f(px(p.hours)))\" cy=\"\(f(py(p.metric)))\" r=\"3.5\" fill=\"\(color)\"/>\n"
            }
            let ly = top + 12 + Double(i) * 18
            svg += "<line x1=\"\(f(width - right + 12))\" y1=\"\(f(ly))\" x2=\"\(f(width - right + 28))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"3\"/>"
            svg += "<text x=\"\(f(width - right + 34))\" y=\"\(f(ly + 4))\" font-size=\"11\">\(ProgressChart.escape(ProgressChart.truncate(s.label, to: 34)))</text>\n"
        }
        return svg + "</svg>\n"
    }
}
