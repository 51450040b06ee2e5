import Foundation
import Testing
@testable import Harness

/// The manifest's schema is data (`ManifestKey` lists beside each settings struct): the parser, the commented
/// rendering and the README's table of keys all come from it.
@Suite struct ManifestSchemaTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")

    @Test func theReadmesTableOfKeysIsTheSchemas() throws {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        let table = ManifestSchema.referenceTable
        // On a mismatch, the expected table is in the message: paste it between the README's markers.
        #expect(text.contains("<!-- manifest-keys -->\n" + table + "\n<!-- /manifest-keys -->"), "README.md's table of keys is not the schema's:\n\(table)")
    }

    @Test func everyKeyIsWrittenWithItsMeaningAndReadBack() throws {
        var manifest = Manifest(name: "t", editable: ["train.py"], build: "true", run: "true")
        manifest.noise.minDelta = 0.01; manifest.noise.sigmaPrior = 0.02; manifest.noise.maxDisturbed = 5
        manifest.evaluation.timeFactor = 4; manifest.sandbox.homeReadOnly = [".cache/x"]; manifest.sandbox.tmpMB = 512
        manifest.budget.mode = .tokens; manifest.budget.tokens = 4096
        manifest.swarm.base = .islands; manifest.meta.window = 7; manifest.meta.researcher = "mutation"
        manifest.researcher.limits.maxTurns = 9
        let text = manifest.render()
        #expect(try Manifest.parse(text) == manifest)
        // Each key's meaning is the comment above it.
        let lines = text.split(separator: "\n").map(String.init)
        for key in NoiseSettings.keys where key.value(manifest.noise) != nil {
            let index = try #require(lines.firstIndex { $0.hasPrefix(key.name + " = ") }, "noise.\(key.name) is not written")
            #expect(lines[index - 1].hasPrefix("# "), "noise.\(key.name) has no comment")
        }
        #expect(text.contains("# The smallest improvement ever kept, whatever σ is.\nmin_delta = 0.01\n"))
    }

    @Test func aBadValueNamesItsKeyAndTheFix() {
        let base = Manifest(name: "t", editable: ["train.py"], build: "true", run: "true").render()
        func problem(_ from: String, _ to: String) -> String {
            do { _ = try Manifest.parse(base.replacingOccurrences(of: from, with: to)); return "parsed" } catch { return "\(error)" }
        }
        #expect(problem("time_factor = 3.0", "time_factor = 0.5") == "\(HarnessError.manifestKey(key: "evaluation.time_factor", problem: "must be at least 1 (a multiple of the baseline's evaluation time), e.g. 3."))")
        #expect(problem("mode = \"auto\"", "mode = \"docker\"") == "\(HarnessError.manifestKey(key: "sandbox.mode", problem: "is 'docker'; use \"auto\", \"bwrap\" or \"none\"."))")
        #expect(problem("memory_mb = 0", "memory_mb = -1") == "\(HarnessError.manifestKey(key: "sandbox.memory_mb", problem: "must be 0 (three quarters of the machine's memory) or more."))")
        #expect(problem("max_turns = 30", "max_turns = \"many\"") == "\(HarnessError.manifestKey(key: "researcher.limits.max_turns", problem: "must be an integer."))")
        #expect(problem("confirmation_runs = 2", "confirmation_runs = 4") == "\(HarnessError.manifestKey(key: "noise.max_reruns", problem: "must allow the confirmation runs: at least confirmation_runs − 1 (3)."))")
    }
}
