import AgentResearcher
import AutoResearchCore
import Foundation

extension TagReports {
    /// `autoresearch show N`: one experiment's description, hypothesis, status and decision, metrics, what its
    /// researcher spent, its diff and its transcript. Throws a clear error for a number the tag does not have.
    public func show(number: Int, transcript: Bool = true) throws -> String {
        let records = try experiments()
        guard let r = records.first(where: { $0.number == number }) else {
            let range = records.isEmpty ? "none yet" : "0–\(records.map(\.number).max()!)"
            throw HarnessError.other("tag \(tag) has no experiment \(number) (experiments: \(range)); `autoresearch results` lists them.")
        }
        var lines = ["experiment \(r.number) of tag \(tag): \(r.description)"]
        lines.append("status:      \(r.status)" + (r.error.map { " — \($0)" } ?? ""))
        lines.append("researcher:  \(r.researcher)" + (r.move.map { " (move \($0))" } ?? ""))
        if !r.hypothesis.isEmpty { lines.append("hypothesis:  \(r.hypothesis)") }
        lines.append("commit:      \(r.commit ?? "—") (parent \(r.parentCommit.map { String($0.prefix(12)) } ?? "—"))")
        if r.experimentStatus == .baseline, let t = try ledger.tag(tag), let core = try workspace.core(for: t, in: ledger) {
            lines.append("core:        " + core.summary.dropFirst("tensor core: ".count))
        }
        if let metric = r.metric {
            lines.append(String(format: "%@: %.6f", workspace.manifest.metric.padding(toLength: 12, withPad: " ", startingAt: 0), metric)
                         + (workspace.manifest.selfReported ? " (self-reported: the subject's own summary block)" : " (computed by the harness)"))
        }
        if let evidence = r.decisionEvidence {
            lines.append("decision:    \(evidence.reason)")
            lines.append("runs:        " + evidence.runs.map { String(format: "%.6f", $0) }.joined(separator: ", "))
            var noise: [String] = []
            if let s = evidence.sigma { noise.append(String(format: "σ %.6f", s) + (evidence.sigmaRuns.map { String(format: " (%.1f weighted dof)", $0) } ?? "")) }
            noise.append(String(format: "threshold %.6f", evidence.threshold))
            if let best = evidence.best { noise.append(String(format: "best %.6f", best) + (evidence.bestRuns.map { " over \($0) run(s)" } ?? "")) }
            lines.append("noise:       " + noise.joined(separator: ", "))
            for (i, m) in (evidence.measurements ?? []).enumerated() {
                var parts = [String(format: "%.6f", m.metric)]
                if let sps = m.stepsPerSecond { parts.append(String(format: "%.2f steps/s", sps)) }
                if let tps = m.tokensPerSecond { parts.append(String(format: "%.0f tokens/s", tps)) }
                if let load = m.foreignLoad { parts.append(String(format: "other load %.2f cores", load)) }
                if let probe = m.probeMilliseconds { parts.append(String(format: "machine probe %.2f ms", probe)) }
                if let why = m.disturbed { parts.append("DISTURBED, left out: \(why)") }
                lines.append("  run \(i + 1):     " + parts.joined(separator: ", "))
            }
        }
        var metrics: [String] = []
        if let v = r.valBPB { metrics.append(String(format: "val_bpb %.6f", v)) }
        if let v = r.testBPB { metrics.append(String(format: "test_bpb %.6f (hidden test split, the harness only)", v)) }
        if let v = r.trainingSeconds { metrics.append(String(format: "training %.1f s", v)) }
        if let v = r.numSteps { metrics.append("steps \(v)") }
        if let v = r.totalTokensM { metrics.append(String(format: "tokens %.2fM", v)) }
        if let v = r.mfuPercent { metrics.append(String(format: "MFU %.1f%%", v)) }
        if let v = r.peakMemoryMB { metrics.append(String(format: "peak memory %.0f MB", v)) }
        if let v = r.numParamsM { metrics.append(String(format: "params %.2fM", v)) }
        if let v = r.buildSeconds { metrics.append(String(format: "build %.1f s", v)) }
        if let v = r.runSeconds { metrics.append(String(format: "runs %.1f s", v)) }
        if !metrics.isEmpty { lines.append("metrics:     " + metrics.joined(separator: ", ")) }
        if (r.inputTokens ?? 0) > 0 || (r.costUSD ?? 0) > 0 {
            var spend = String(format: "researcher spend: $%.4f (%d input tokens, %d output tokens", r.costUSD ?? 0, r.inputTokens ?? 0, r.outputTokens ?? 0)
            if (r.cacheWriteTokens ?? 0) + (r.cacheReadTokens ?? 0) > 0 {
                spend += String(format: "; prompt cache: %d written, %d read", r.cacheWriteTokens ?? 0, r.cacheReadTokens ?? 0)
            }
            lines.append(spend + ")")
        }
        if let fixes = r.buildFixes, fixes > 0 { lines.append("build fixes: \(fixes) (failed builds sent back to the researcher)") }
        if let log = r.logPath { lines.append("log:         \(log)") }
        lines.append("")
        lines.append("--- diff")
        lines.append((r.diff?.isEmpty == false) ? r.diff! : "(no diff)")
        if transcript {
            lines.append("--- transcript")
            lines.append(r.transcript.map { TranscriptLog.render(json: $0) } ?? "(none: the \(r.researcher) researcher keeps no transcript)")
        }
        return lines.joined(separator: "\n")
    }
}
