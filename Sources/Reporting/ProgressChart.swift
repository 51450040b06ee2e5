import AutoResearchCore
import Foundation

/// The progress chart autoresearch users know from its analysis notebook, as hand-written SVG:
/// x = experiment number; discarded runs as small light-grey dots (`<circle class="discarded">`);
/// baseline and kept runs as larger green dots (`<circle class="kept">`) labelled with their
/// descriptions (truncated to 40 characters); the running best as a step line; the y axis from just
/// below the best to just above the baseline (points outside are clipped; crashes are not plotted);
/// title "N experiments, K kept improvements" (N = finished experiments, K = kept, baseline aside).
public enum ProgressChart {
    static let width = 1000.0, height = 560.0
    static let left = 80.0, right = 30.0, top = 50.0, bottom = 60.0

    /// The chart as a standalone SVG document.
    /// - Parameter test: the hidden test split's bits per byte by experiment number (the baseline and keeps),
    ///   drawn as a second, dashed line; empty for none.
    ///   - scale: the metric's name and direction (the axis title, which runs are improvements).
    public static func svg(_ outcomes: [ExperimentOutcome], test: [Int: Double] = [:], scale: MetricScale = .valBPB) -> String {
        let summary = ReportSummary(outcomes: outcomes, noiseSigma: nil, scale: scale)
        let sorted = outcomes.sorted { $0.number < $1.number }
        let plotted = sorted.filter { [.baseline, .keep, .discard].contains($0.status) && $0.metric?.isFinite == true }
        let title = "\(summary.experiments) experiments, \(summary.keeps) kept improvements"
        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="Helvetica, Arial, sans-serif">
        <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="#ffffff"/>
        <text x="\(f(width / 2))" y="28" text-anchor="middle" font-size="18" font-weight="bold">\(escape(title))</text>

        """
        let plotW = width - left - right, plotH = height - top - bottom
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n"
        guard !plotted.isEmpty else {
            svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"14\" fill=\"#666666\">no finished experiments yet</text>\n</svg>\n"
            return svg
        }
        // Domains.
        let xMin = Double(min(sorted.first?.number ?? 0, plotted.first?.number ?? 0))
        let xMax = Double(max(sorted.last?.number ?? 0, plotted.last?.number ?? 0))
        let xPad = max(1, (xMax - xMin) * 0.02)
        let x0 = xMin - xPad, x1 = xMax + xPad
        let testPoints = plotted.filter { $0.status == .keep || $0.status == .baseline }
            .compactMap { o in test[o.number].map { (number: o.number, value: $0) } }.filter { $0.value.isFinite }
        let metrics = plotted.compactMap(\.metric) + testPoints.map(\.value)
        // From the best to the baseline (either way up), the test line included.
        let worstEnd = summary.baseline ?? (scale.lowerIsBetter ? metrics.max() : metrics.min()) ?? 1
        let bestEnd = summary.best ?? (scale.lowerIsBetter ? metrics.min() : metrics.max()) ?? 0
        var yLow = min(min(bestEnd, worstEnd), testPoints.map(\.value).min() ?? .infinity)
        var yHigh = max(max(bestEnd, worstEnd), testPoints.map(\.value).max() ?? -.infinity)
        if yHigh <= yLow { yHigh = max(yHigh, metrics.max() ?? yHigh) }
        if yHigh <= yLow { let pad = max(abs(yLow) * 0.01, 1e-6); yLow -= pad; yHigh += pad }
        let span = yHigh - yLow
        yLow -= span * 0.1; yHigh += span * 0.1
        func px(_ n: Double) -> Double { left + (n - x0) / (x1 - x0) * plotW }
        func py(_ m: Double) -> Double { top + (yHigh - m) / (yHigh - yLow) * plotH }

        // Axes: ticks, grid and labels.
        for tick in ticks(yLow, yHigh) {
            let y = py(tick.value)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#eeeeee\" stroke-width=\"1\"/>\n"
            svg += "<line x1=\"\(f(left - 5))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#333333\"/>\n"
            svg += "<text x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"11\">\(tick.label)</text>\n"
        }
        for tick in ticks(max(0, x0), x1, integers: true) {
            let x = px(tick.value)
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH + 5))\" stroke=\"#333333\"/>\n"
            svg += "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 19))\" text-anchor=\"middle\" font-size=\"11\">\(tick.label)</text>\n"
        }
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\" font-size=\"13\">Experiment #</text>\n"
        svg += "<text x=\"18\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 \(f(top + plotH / 2)))\">\(escape(scale.axisTitle))</text>\n"

        // Data, clipped to the plot area.
        svg += "<defs><clipPath id=\"plot-area\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></clipPath></defs>\n"
        svg += "<g clip-path=\"url(#plot-area)\">\n"
        for o in plotted where o.status == .discard {
            guard let m = o.metric else { continue }
            svg += "<circle class=\"discarded\" cx=\"\(f(px(Double(o.number))))\" cy=\"\(f(py(m)))\" r=\"3\" fill=\"#cccccc\" fill-opacity=\"0.6\"><title>\(escape("#\(o.number) \(o.description)"))</title></circle>\n"
        }
        let kept = plotted.filter { $0.status == .keep || $0.status == .baseline }
        if let first = kept.first, let start = summary.baseline ?? first.metric {
            var best = start
            var d = "M \(f(px(Double(first.number)))) \(f(py(best)))"
            for o in kept where o.status == .keep {
                guard let m = o.metric, scale.better(m, than: best) else { continue }
                best = m
                d += " H \(f(px(Double(o.number)))) V \(f(py(best)))"
            }
            d += " H \(f(px(xMax)))"
            svg += "<path class=\"running-best\" d=\"\(d)\" fill=\"none\" stroke=\"#27ae60\" stroke-width=\"2\" stroke-opacity=\"0.7\"/>\n"
        }
        for o in kept {
            guard let m = o.metric else { continue }
            svg += "<circle class=\"kept\" cx=\"\(f(px(Double(o.number))))\" cy=\"\(f(py(m)))\" r=\"6\" fill=\"#2ecc71\" stroke=\"#000000\" stroke-width=\"0.5\"><title>\(escape("#\(o.number) \(o.description)"))</title></circle>\n"
        }
        if !testPoints.isEmpty {
            let d = testPoints.enumerated().map { i, p in (i == 0 ? "M " : "L ") + "\(f(px(Double(p.number)))) \(f(py(p.value)))" }.joined(separator: " ")
            svg += "<path class=\"test\" d=\"\(d)\" fill=\"none\" stroke=\"#8e44ad\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n"
            for p in testPoints {
                svg += "<circle class=\"test\" cx=\"\(f(px(Double(p.number))))\" cy=\"\(f(py(p.value)))\" r=\"3\" fill=\"#8e44ad\"><title>\(escape(String(format: "#%d test_bpb %.6f", p.number, p.value)))</title></circle>\n"
            }
        }
        svg += "</g>\n"
        for o in kept {
            guard let m = o.metric else { continue }
            let x = px(Double(o.number)) + 7, y = py(m) - 7
            let label = o.status == .baseline ? "baseline" : truncate(o.description, to: 40)
            svg += "<text class=\"label\" x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"10\" fill=\"#1a7a3a\" transform=\"rotate(-30 \(f(x)) \(f(y)))\">\(escape(label))</text>\n"
        }
        // Legend.
        let lx = left + plotW - 150, ly = top + 14
        svg += "<rect x=\"\(f(lx - 10))\" y=\"\(f(ly - 12))\" width=\"150\" height=\"\(testPoints.isEmpty ? 62 : 80)\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n"
        svg += "<circle class=\"legend\" cx=\"\(f(lx))\" cy=\"\(f(ly))\" r=\"3\" fill=\"#cccccc\"/><text x=\"\(f(lx + 12))\" y=\"\(f(ly + 4))\" font-size=\"11\">Discarded</text>\n"
        svg += "<circle class=\"legend\" cx=\"\(f(lx))\" cy=\"\(f(ly + 18))\" r=\"6\" fill=\"#2ecc71\" stroke=\"#000000\" stroke-width=\"0.5\"/><text x=\"\(f(lx + 12))\" y=\"\(f(ly + 22))\" font-size=\"11\">Kept</text>\n"
        svg += "<line x1=\"\(f(lx - 6))\" y1=\"\(f(ly + 36))\" x2=\"\(f(lx + 6))\" y2=\"\(f(ly + 36))\" stroke=\"#27ae60\" stroke-width=\"2\"/><text x=\"\(f(lx + 12))\" y=\"\(f(ly + 40))\" font-size=\"11\">Running best</text>\n"
        if !testPoints.isEmpty {
            svg += "<line x1=\"\(f(lx - 6))\" y1=\"\(f(ly + 54))\" x2=\"\(f(lx + 6))\" y2=\"\(f(ly + 54))\" stroke=\"#8e44ad\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/><text x=\"\(f(lx + 12))\" y=\"\(f(ly + 58))\" font-size=\"11\">Hidden test (keeps)</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// "Nice" ticks (1, 2, 2.5 or 5 × 10^k) covering lo...hi, about six of them.
    static func ticks(_ lo: Double, _ hi: Double, integers: Bool = false) -> [(value: Double, label: String)] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [] }
        let raw = (hi - lo) / 6
        let magnitude = pow(10, floor(log10(raw)))
        let step0 = [1.0, 2.0, 2.5, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let step = integers ? max(1, step0.rounded(.up)) : step0
        var decimals = max(0, Int(-floor(log10(step))))
        if abs(step / pow(10, floor(log10(step))) - 2.5) < 1e-9 { decimals += 1 }
        if integers { decimals = 0 }
        var out: [(Double, String)] = []
        var i = (lo / step - 1e-9).rounded(.up)
        while i * step <= hi + step * 1e-9, out.count < 50 {
            let v = i * step == 0 ? 0 : i * step  // no "-0"
            out.append((v, String(format: "%.\(decimals)f", v)))
            i += 1
        }
        return out
    }

    static func truncate(_ text: String, to limit: Int) -> String {
        let line = ResultsTSV.clean(text)
        return line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
    }

    /// `text` safe inside XML character data and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += " "
            default:
                // Control characters are not allowed in XML 1.0 at all.
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
