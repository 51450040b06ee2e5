import AutoResearchCore
import Foundation

/// Who did what in a swarm, and how busy the slots were: per worker (researcher, experiments, keeps), per slot
/// (experiments, compute hours), slot utilisation and experiments per hour.
public struct SwarmSummary: Sendable, Equatable {
    public struct WorkerRow: Sendable, Equatable {
        public var worker: Int
        public var researcher: String
        public var experiments: Int
        public var keeps: Int
    }
    public struct SlotRow: Sendable, Equatable {
        public var slot: String
        public var experiments: Int
        public var computeHours: Double
    }

    public var workers: [WorkerRow]
    public var slots: [SlotRow]
    /// Σ seconds experiments held a slot / (slots × seconds from the first experiment's start to the last one's end).
    public var utilisation: Double?
    /// Experiments that ran (keep, discard, crash, stale) per hour over the same span.
    public var experimentsPerHour: Double?

    /// - Parameters:
    ///   - slotCount: the slots of the run (default: the slots that appear in `outcomes`).
    ///   - now: the end of the span while experiments still run.
    public init(outcomes: [ExperimentOutcome], slotCount: Int? = nil, now: Date = Date()) {
        let ran = outcomes.filter { $0.status != .baseline && $0.status != .reference }
        var byWorker: [Int: WorkerRow] = [:]
        for o in ran {
            let w = o.worker ?? 0
            var row = byWorker[w] ?? WorkerRow(worker: w, researcher: o.researcher, experiments: 0, keeps: 0)
            row.experiments += 1
            if o.status == .keep { row.keeps += 1 }
            byWorker[w] = row
        }
        workers = byWorker.values.sorted { $0.worker < $1.worker }
        var bySlot: [String: SlotRow] = [:]
        for o in outcomes {
            guard let slot = o.slot else { continue }
            var row = bySlot[slot] ?? SlotRow(slot: slot, experiments: 0, computeHours: 0)
            row.experiments += 1
            row.computeHours += (o.computeSeconds ?? 0) / 3600
            bySlot[slot] = row
        }
        slots = bySlot.values.sorted { $0.slot < $1.slot }
        let starts = outcomes.compactMap(\.startedAt)
        let ends = outcomes.map { $0.finishedAt ?? now }
        guard let first = starts.min(), let last = ends.max(), last > first else {
            utilisation = nil; experimentsPerHour = nil
            return
        }
        let span = last.timeIntervalSince(first)
        let n = Double(max(1, slotCount ?? slots.count))
        utilisation = outcomes.compactMap(\.computeSeconds).reduce(0, +) / (n * span)
        let decided = ran.filter { [.keep, .discard, .crash, .stale].contains($0.status) }.count
        experimentsPerHour = Double(decided) / (span / 3600)
    }

    /// Whether there is anything swarm-like to show (more than one worker or slot).
    public var isSwarm: Bool { workers.count > 1 || slots.count > 1 }

    /// The section of report.md.
    public var markdown: String {
        var md = "## Workers and slots\n\n"
        if let u = utilisation, let rate = experimentsPerHour {
            md += String(format: "Slot utilisation %.1f %%, %.1f experiments per hour.\n\n", u * 100, rate)
        }
        md += "| Worker | Researcher | Experiments | Keeps |\n|---:|---|---:|---:|\n"
        for w in workers { md += "| \(w.worker) | \(w.researcher) | \(w.experiments) | \(w.keeps) |\n" }
        md += "\n| Slot | Experiments | Compute hours |\n|---|---:|---:|\n"
        for s in slots { md += "| \(s.slot) | \(s.experiments) | " + String(format: "%.2f", s.computeHours) + " |\n" }
        return md
    }
}
