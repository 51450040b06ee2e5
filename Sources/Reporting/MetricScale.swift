/// The metric a report is about: its name (a column of results.tsv, e.g. `val_bpb` or `tokens_per_second`) and
/// which way is better, as the workspace's `[metric]` section says. Reports and charts default to val_bpb, lower.
public struct MetricScale: Sendable, Equatable {
    public var name: String
    public var lowerIsBetter: Bool

    public init(name: String, lowerIsBetter: Bool) { self.name = name; self.lowerIsBetter = lowerIsBetter }

    /// autoresearch's metric: validation bits per byte, lower is better.
    public static let valBPB = MetricScale(name: "val_bpb", lowerIsBetter: true)

    /// Whether `a` is strictly better than `b`.
    public func better(_ a: Double, than b: Double) -> Bool { lowerIsBetter ? a < b : a > b }
    /// How much better `a` is than `b` (positive = better), in metric units.
    public func gain(_ a: Double, over b: Double) -> Double { lowerIsBetter ? b - a : a - b }
    /// "lower" or "higher": the better direction, in words.
    public var betterWord: String { lowerIsBetter ? "lower" : "higher" }
    /// The chart's axis title: "Validation BPB (lower is better)" for val_bpb, else the metric's name.
    public var axisTitle: String { (self == .valBPB ? "Validation BPB" : name) + " (\(betterWord) is better)" }
}
