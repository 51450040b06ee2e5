import Foundation

/// How far a run's numbers can be trusted, decided once when the loop starts.
///
/// Trusted: the harness scores the run itself (`evaluation.scoring = "harness"`) and every build and run is
/// sandboxed. Otherwise LLM and command researchers — which edit code, and could make it print any score, read
/// the validation split or the API keys — are refused unless the user passes `--allow-untrusted`; the search
/// researcher, which only moves hyperparameter values, runs with a warning. `status` and the report say which.
public struct Trust: Sendable, Equatable {
    /// Empty when trusted; otherwise why not, one reason each.
    public var gaps: [String]
    public var trusted: Bool { gaps.isEmpty }

    /// One line for `status` and the report.
    public var summary: String {
        trusted ? "trusted: the harness scores every run from its logits; builds, runs and agent commands are sandboxed (bubblewrap)"
            : "NOT TRUSTED: " + gaps.joined(separator: "; ")
    }

    /// The sandbox to use and the trust it gives.
    /// - Throws: `HarnessError.other` when `sandbox.mode` is "bwrap" and bubblewrap cannot run, or when a researcher
    ///   that edits code would run untrusted without `allowUntrusted`.
    public static func establish(manifest: Manifest, researchers: [String], allowUntrusted: Bool,
                                 detect: () -> Result<String, SandboxUnavailable> = Sandbox.detect) throws -> (Sandbox?, Trust) {
        var gaps: [String] = []
        var sandbox: Sandbox?
        let wanted = manifest.sandbox.mode == .bwrap || (manifest.sandbox.mode == .auto && manifest.evaluation.scoring == .harness)
        if wanted {
            switch detect() {
            case .success(let bwrap): sandbox = Sandbox(bwrap: bwrap, settings: manifest.sandbox)
            case .failure(let why):
                if manifest.sandbox.mode == .bwrap {
                    throw HarnessError.other("autoresearch.toml asks for a sandbox ([sandbox] mode = \"bwrap\"), but \(why.reason); install it, or set mode = \"auto\" to run unsandboxed")
                }
                gaps.append("runs are not sandboxed (\(why.reason))")
            }
        } else {
            gaps.append("runs are not sandboxed ([sandbox] mode = \"\(manifest.sandbox.mode.rawValue)\", evaluation.scoring = \"\(manifest.evaluation.scoring.rawValue)\")")
        }
        if manifest.evaluation.scoring == .summary {
            gaps.append("the subject reports its own score (evaluation.scoring = \"summary\")")
        }
        let trust = Trust(gaps: gaps)
        let editors = Set(researchers.filter { !["search", "optuna"].contains($0) }).sorted()  // these two only set values and apply ideas
        if !trust.trusted, !editors.isEmpty, !allowUntrusted {
            throw HarnessError.other("the \(editors.joined(separator: ", ")) researcher edits code, and in this workspace \(gaps.joined(separator: " and ")): "
                                     + "its results could be faked. Install bubblewrap (apt-get install bubblewrap) for a workspace made by `autoresearch init`, "
                                     + "use the search researcher, or pass --allow-untrusted to run it anyway.")
        }
        return (sandbox, trust)
    }
}
