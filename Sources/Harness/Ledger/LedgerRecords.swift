import AutoResearchCore
import Foundation

/// The ledger of one tag as researchers may see it (`ResearchRecords`): experiments by number, and the notes.
struct LedgerRecords: ResearchRecords {
    let ledger: Ledger
    let tag: String

    func experiment(number: Int) throws -> ExperimentDetail? {
        // A human reference is not for researchers to read (the loop must get where it gets with no human).
        guard let record = try ledger.experiments(tag: tag).first(where: { $0.number == number }),
              record.experimentStatus != .reference else { return nil }
        var metrics: [String: Double] = [:]
        let pairs: [(String, Double?)] = [("val_bpb", record.valBPB), ("peak_memory_mb", record.peakMemoryMB),
                                          ("mfu_percent", record.mfuPercent), ("total_tokens_M", record.totalTokensM),
                                          ("num_steps", record.numSteps.map(Double.init)), ("num_params_M", record.numParamsM),
                                          ("depth", record.depth.map(Double.init)), ("training_seconds", record.trainingSeconds)]
        for (key, value) in pairs { if let value { metrics[key] = value } }
        return ExperimentDetail(outcome: record.outcome, diff: record.diff ?? "", error: record.error,
                                decision: record.decisionEvidence?.reason, metrics: metrics)
    }

    func notes() throws -> [ResearchNote] { try ledger.notes(tag: tag) }

    func appendNote(_ note: ResearchNote) throws { try ledger.appendNote(note, tag: tag) }
}
