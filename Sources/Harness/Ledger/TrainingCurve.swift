import Foundation

/// The training curve a run's log shows: `step N | loss X | … | T tok/s` lines, as the GPT subjects print them
/// every 100 steps (the first run of the log; later runs of the same experiment repeat the steps and are left out).
public enum TrainingCurve {
    public struct Point: Sendable, Equatable {
        public var step: Int
        public var loss: Double
        public var tokensPerSecond: Double?
    }

    /// The latest point of a log's tail (the run now training), whatever run it belongs to.
    public static func last(_ text: String) -> Point? {
        for line in text.split(separator: "\n").reversed() where line.hasPrefix("step ") {
            if let point = point(line) { return point }
        }
        return nil
    }

    static func point(_ line: Substring) -> Point? {
        let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count >= 2, let step = Int(fields[0].dropFirst(5).trimmingCharacters(in: .whitespaces)),
              fields[1].hasPrefix("loss "), let loss = Double(fields[1].dropFirst(5)) else { return nil }
        let tps = fields.first { $0.hasSuffix(" tok/s") }.flatMap { Double($0.dropLast(6).trimmingCharacters(in: .whitespaces)) }
        return Point(step: step, loss: loss, tokensPerSecond: tps)
    }

    public static func parse(_ log: String) -> [Point] {
        var points: [Point] = []
        for line in log.split(separator: "\n") where line.hasPrefix("step ") {
            guard let point = point(line) else { continue }
            if let last = points.last, point.step <= last.step { break }
            points.append(point)
        }
        return points
    }
}
