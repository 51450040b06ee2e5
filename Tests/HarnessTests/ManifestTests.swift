import Foundation
import Testing
@testable import Harness

@Suite struct ManifestTests {
    func sample() -> Manifest {
        var m = Manifest(name: "gpt", editable: ["Sources/train/train.swift"], build: "swift build -c release --product train",
                         run: ".build/release/train", ideas: "ideas.toml")
        m.dataDir = "/data/shakespeare \"quoted\""
        m.budget.mode = .tokens
        m.budget.tokens = 2_000_000
        m.noise.minDelta = 0.001
        m.fixed = ["Package.swift": String(repeating: "a", count: 64), "Sources/TensorCore/BLAS.swift": String(repeating: "b", count: 64)]
        return m
    }

    @Test func renderedManifestReadsBackEqual() throws {
        let m = sample()
        let parsed = try Manifest.parse(m.render())
        #expect(parsed == m)
        #expect(parsed.budget.tokens == 2_000_000)
        #expect(parsed.dataDir == "/data/shakespeare \"quoted\"")
        #expect(parsed.budget.hardLimitSeconds == 2 * 60 + 60)
    }

    @Test func noiseSettingsReadBackAndBadValuesAreNamed() throws {
        var m = sample()
        m.noise.sigmaPrior = 0.01; m.noise.sigmaFloor = 0.003; m.noise.z = 2.5; m.noise.remeasureBest = false
        m.noise.disturbedRatio = 0.85; m.noise.maxDisturbed = 5
        #expect(try Manifest.parse(m.render()) == m)
        let text = m.render()
        func problem(_ from: String, _ to: String) -> String {
            do { _ = try Manifest.parse(text.replacingOccurrences(of: from, with: to)); return "parsed" } catch { return "\(error)" }
        }
        #expect(problem("z = 2.5", "z = 0").contains("'noise.z' must be positive"))
        #expect(problem("disturbed_ratio = 0.85", "disturbed_ratio = 1.5").contains("'noise.disturbed_ratio' must be in (0, 1]"))
        #expect(problem("remeasure_best = false", "remeasure_best = \"no\"").contains("'noise.remeasure_best' must be true or false"))
        #expect(problem("sigma_prior = 0.01", "sigma_prior = -1").contains("'noise.sigma_prior' must be positive"))
        #expect(problem("confirmation_runs = 2", "confirmation_runs = 4").contains("'noise.max_reruns' must allow the confirmation runs"))
        // A manifest written before z existed still opens: its sigma_multiplier is read and not used.
        let old = text.replacingOccurrences(of: "z = 2.5", with: "sigma_multiplier = 2.0")
        #expect(try Manifest.parse(old).noise.z == 3)
    }

    @Test func pythonAndHomeSettingsReadBackAndBadValuesAreNamed() throws {
        var m = sample()
        var python = PythonSettings()
        python.interpreter = "/usr/bin/python3.11"; python.home = "/usr"
        python.versions = ["python": "3.11.7", "torch": "2.13.0+cpu", "zope.interface": "7.0"]
        m.python = python
        m.sandbox.homeReadOnly = [".cache/autoresearch"]
        #expect(try Manifest.parse(m.render()) == m)
        let text = m.render()
        func problem(_ from: String, _ to: String) -> String {
            do { _ = try Manifest.parse(text.replacingOccurrences(of: from, with: to)); return "parsed" } catch { return "\(error)" }
        }
        #expect(problem("installer = \"pip\"", "installer = \"conda\"").contains("'python.installer' is 'conda'; use \"pip\" or \"uv\""))
        #expect(problem("venv = \".venv\"", "venv = \"../elsewhere\"").contains("'python.venv' is '../elsewhere', not a path inside the workspace"))
        #expect(problem("torch = \"2.13.0+cpu\"", "torch = 2").contains("'python.versions.torch' must be a version string"))
        #expect(problem("home_read_only = [\".cache/autoresearch\"]", "home_read_only = [\"/etc\"]")
                .contains("'sandbox.home_read_only' names '/etc', which is not a path inside the home directory"))
    }

    @Test func missingKeyIsNamed() throws {
        let text = sample().render().replacingOccurrences(of: "run = \".build/release/train\"\n", with: "")
        #expect(throws: HarnessError.manifestKey(key: "run", problem: "is missing; it must be a string.")) {
            try Manifest.parse(text)
        }
    }

    @Test func missingSectionKeyIsNamedWithItsTable() throws {
        let text = sample().render().replacingOccurrences(of: "name = \"val_bpb\"\n", with: "")
        do {
            _ = try Manifest.parse(text)
            Issue.record("a manifest without metric.name parsed")
        } catch let error as HarnessError {
            #expect(error.description.contains("'metric.name' is missing"))
        }
    }

    @Test func wrongTypesAndValuesAreNamed() throws {
        let badDirection = sample().render().replacingOccurrences(of: "direction = \"lower\"", with: "direction = \"down\"")
        #expect(throws: HarnessError.manifestKey(key: "metric.direction", problem: "is 'down'; use \"lower\" or \"higher\".")) {
            try Manifest.parse(badDirection)
        }
        let badSeconds = sample().render().replacingOccurrences(of: "seconds = 60.0", with: "seconds = \"five minutes\"")
        #expect(throws: HarnessError.manifestKey(key: "budget.seconds", problem: "must be a number.")) {
            try Manifest.parse(badSeconds)
        }
        let outside = sample().render().replacingOccurrences(of: "editable = [\"Sources/train/train.swift\"]", with: "editable = [\"../x.swift\"]")
        #expect(throws: HarnessError.manifestKey(key: "editable", problem: "names '../x.swift', which is not a path inside the workspace.")) {
            try Manifest.parse(outside)
        }
        let noTokens = sample().render().replacingOccurrences(of: "tokens = 2000000", with: "tokens = 0")
        #expect(throws: HarnessError.manifestKey(key: "budget.tokens", problem: "must be a positive number of tokens when budget.mode is \"tokens\".")) {
            try Manifest.parse(noTokens)
        }
    }

    @Test func malformedTomlSaysSoAndWhere() throws {
        do {
            _ = try Manifest.parse("name = \"x\"\neditable = [\n", path: "/ws/autoresearch.toml")
            Issue.record("malformed TOML parsed")
        } catch let error as HarnessError {
            guard case .manifestUnreadable(let path, let reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(path == "/ws/autoresearch.toml")
            #expect(reason.contains("line"))
        }
    }

    @Test func fixedMustBeHashes() throws {
        let text = sample().render() + "\"extra.txt\" = \"not-a-hash\"\n"
        #expect(throws: HarnessError.manifestKey(key: "fixed.extra.txt", problem: "must be a SHA-256 as 64 hex digits.")) {
            try Manifest.parse(text)
        }
    }

    @Test func safePaths() {
        #expect(Manifest.isSafeRelativePath("Sources/train/train.swift"))
        #expect(!Manifest.isSafeRelativePath("/etc/passwd"))
        #expect(!Manifest.isSafeRelativePath("a/../b"))
        #expect(!Manifest.isSafeRelativePath(".git/config"))
        #expect(!Manifest.isSafeRelativePath(""))
    }
}
