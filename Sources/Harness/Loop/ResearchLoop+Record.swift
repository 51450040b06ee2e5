import AutoResearchCore
import Foundation
import SearchResearcher
import SubjectKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Recording an experiment's end in the ledger and showing the loop's progress.
extension ResearchLoop {
    func finish(_ experiment: inout Experiment, status: ExperimentStatus, evidence: DecisionEvidence?, reason: String) async throws {
        try record(&experiment, status: status, evidence: evidence, reason: reason)
        await announce(experiment, status: status, reason: reason)
    }

    /// Records the end of an experiment in one ledger transaction (no suspension point).
    func record(_ experiment: inout Experiment, status: ExperimentStatus, evidence: DecisionEvidence?, reason: String) throws {
        experiment.record.status = status.rawValue
        experiment.record.phase = nil
        experiment.record.pid = nil
        experiment.record.finishedAt = Date()
        experiment.record.logPath = experiment.log.path
        var evidence = evidence
        if !experiment.measurements.isEmpty { evidence?.measurements = experiment.measurements }
        evidence?.signature = experiment.signature
        if let evidence, let data = try? JSONEncoder().encode(evidence) {
            experiment.record.evidence = String(decoding: data, as: UTF8.self)
        }
        if [.crash, .invalid, .interrupted, .researcherError, .stale].contains(status) {
            experiment.record.error = reason
            experiment.record.metric = nil
        }
        if status != .keep && status != .baseline { experiment.run?.remove(); experiment.run = nil }
        try ledger.save(experiment.record)
        appendLog(experiment.log, "# \(status.rawValue): \(reason)\n")
    }

    func announce(_ experiment: Experiment, status: ExperimentStatus, reason: String) async {
        await display.show(.decided(number: experiment.record.number, status: status, metric: experiment.record.metric,
                                    description: experiment.record.description, reason: reason))
    }

    func setStage(_ experiment: inout Experiment, _ phase: ExperimentStage, limit: Double?) async throws {
        if Task.isCancelled { throw ExperimentStop(status: .interrupted, message: "interrupted before \(phase.rawValue)") }
        experiment.record.phase = phase.rawValue
        experiment.record.logPath = experiment.log.path
        try ledger.save(experiment.record)
        await display.show(.log(number: experiment.record.number, path: experiment.log.path))
        await display.show(.stage(number: experiment.record.number, phase, limit: limit))
    }

    func showStanding() async {
        guard let records = try? ledger.experiments(tag: tag) else { return }
        let baseline = records.first { $0.experimentStatus == .baseline }?.metric
        let best = (try? bestSoFar())?.metric
        await display.show(.standing(baseline: baseline, best: best,
                                     keeps: records.filter { $0.experimentStatus == .keep }.count,
                                     experiments: records.filter { $0.experimentStatus != .baseline }.count))
    }

    func note(_ text: String) async { await display.show(.note(text)) }
}
