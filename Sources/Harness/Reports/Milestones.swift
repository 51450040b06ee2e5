import AutoResearchCore
import Foundation

/// Cotra's milestones for automated research, stated as measured facts about one tag (Ajeya Cotra's framing of
/// AI R&D automation: adequacy, parity, supremacy; see the README's "Milestones").
///
/// - Adequacy: the loop, with no human, made a keep that also improved the hidden test split beyond noise: a keep
///   by a researcher (not a proposal a person queued, not a reference) whose test bpb is below the baseline's by more
///   than max(min_delta, z·σ·√2) (two single test measurements, each with the runs' σ; z from `[noise]`).
/// - Parity: the loop's best (the best keep, else the baseline) matches a human reference configuration
///   (`run --reference COMMIT`) measured with the same protocol: its val mean is no worse than the reference's by
///   more than z·σ·√(1/n+1/m), and its test bpb no worse by more than z·σ·√2.
/// - Supremacy: needs a human+AI reference, which is not measured here.
public struct Milestone: Sendable, Equatable, Codable {
    public enum Name: String, Sendable, Codable { case adequacy, parity, supremacy }
    public var name: Name
    /// true: reached; false: not (yet); nil: not measurable here (what is missing is in `evidence`).
    public var reached: Bool?
    /// The numbers behind it, in words.
    public var evidence: String

    /// The milestones of a tag's records (lower metric is better unless `lowerIsBetter` is false).
    public static func measure(_ records: [ExperimentRecord], sigma: Double?, settings: NoiseSettings, lowerIsBetter: Bool = true) -> [Milestone] {
        func better(_ a: Double, _ b: Double) -> Bool { lowerIsBetter ? a < b : a > b }
        func f(_ v: Double) -> String { String(format: "%.4f", v) }
        let sigmaText = sigma.map { "σ \(String(format: "%.4f", $0))" } ?? "no σ yet"
        let single = max(settings.minDelta, settings.z * (sigma ?? 0) * 2.0.squareRoot())
        let baseline = records.first { $0.experimentStatus == .baseline }
        let keeps = records.filter { $0.experimentStatus == .keep && $0.metric != nil }
        var result: [Milestone] = []

        // Adequacy
        let unaided = keeps.filter { !$0.researcher.hasSuffix("(queued)") }
        if let baseTest = baseline?.testBPB {
            let improving = unaided.filter { $0.testBPB.map { better($0, baseTest) && abs($0 - baseTest) > single } ?? false }
            if let first = improving.min(by: { $0.number < $1.number }), let test = first.testBPB {
                result.append(Milestone(name: .adequacy, reached: true,
                    evidence: "keep #\(first.number) by \(first.researcher) (\(first.description)): test \(f(test)) vs baseline \(f(baseTest)), beyond the noise margin \(f(single)) (\(sigmaText), z \(settings.z))"))
            } else {
                result.append(Milestone(name: .adequacy, reached: false,
                    evidence: "\(unaided.count) keep(s) by researchers; none improved the test split (baseline \(f(baseTest))) by more than \(f(single)) (\(sigmaText), z \(settings.z))"))
            }
        } else {
            result.append(Milestone(name: .adequacy, reached: nil, evidence: "the baseline has no test score (a self-scored subject, or no baseline yet)"))
        }

        // Parity
        let best = keeps.min { better($0.metric!, $1.metric!) } ?? baseline
        if let reference = records.last(where: { $0.experimentStatus == .reference && $0.metric != nil }), let refVal = reference.metric,
           let best, let bestVal = best.metric {
            let n = max(1, best.decisionEvidence?.runs.count ?? 1), m = max(1, reference.decisionEvidence?.runs.count ?? 1)
            let valMargin = max(settings.minDelta, settings.z * (sigma ?? 0) * (1.0 / Double(n) + 1.0 / Double(m)).squareRoot())
            let valOK = !better(refVal, bestVal) || abs(bestVal - refVal) <= valMargin
            var words = "best #\(best.number) val \(f(bestVal)) (\(n) run(s)) vs reference \(reference.commit.map { String($0.prefix(7)) } ?? "?") val \(f(refVal)) (\(m) run(s)), margin \(f(valMargin))"
            var testOK: Bool? = nil
            if let bestTest = best.testBPB, let refTest = reference.testBPB {
                testOK = !better(refTest, bestTest) || abs(bestTest - refTest) <= single
                words += "; test \(f(bestTest)) vs \(f(refTest)), margin \(f(single))"
            } else {
                words += "; no test score to compare"
            }
            result.append(Milestone(name: .parity, reached: testOK.map { $0 && valOK } ?? false, evidence: words + " (\(sigmaText))"))
        } else {
            result.append(Milestone(name: .parity, reached: nil, evidence: "no human reference measured: run with --reference COMMIT (a configuration a person tuned)"))
        }

        result.append(Milestone(name: .supremacy, reached: nil,
                                evidence: "needs a human+AI reference (a configuration people tuned with AI help), measured the same way; not measured here"))
        return result
    }

    /// One line: "adequacy: reached — …".
    public var line: String {
        let state = reached.map { $0 ? "reached" : "not yet" } ?? "not measured"
        return "\(name.rawValue): \(state) — \(evidence)"
    }
}
