import Foundation

/// `run --mlflow URI`: after the baseline and after every experiment, the finished experiments this session has not
/// logged yet go to MLflow (`MLflowExport`: one run each, skipped when already there). MLflow being down never stops
/// the research: the failure is shown once (until logging works again), and the next experiment tries again; `autoresearch export` catches up.
extension ResearchLoop {
    func logToMLflow() async {
        guard let mlflow else { return }
        do {
            let pending = try ledger.experiments(tag: tag).filter {
                $0.finishedAt != nil && $0.experimentStatus != .running && !mlflowLogged.contains($0.number)
            }
            guard !pending.isEmpty else { return }
            let outcome = try await mlflow.exportAll(pending)
            mlflowLogged.formUnion(outcome.exported + outcome.skipped)
            mlflowFailure = nil
        } catch {
            // Shown when logging starts failing, not again until it has worked (the messages differ in details such as timings).
            if mlflowFailure == nil { await note("MLflow logging failed (research goes on; `autoresearch export --mlflow` catches up): \(error)") }
            mlflowFailure = "\(error)"
        }
    }
}
