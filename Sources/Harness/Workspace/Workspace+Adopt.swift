import AutoResearchCore
import Foundation

/// `autoresearch init DIR --adopt PATH`: a workspace around an existing repository in karpathy/autoresearch's
/// layout — a fixed `prepare.py` (constants such as `TIME_BUDGET`, the data, the evaluation), an editable
/// `train.py` that ends by printing a `---` summary block with `val_bpb:`, and `program.md`, the researchers' brief.
///
/// The repository's files are copied unchanged into a new git repository at DIR; `train.py` is editable, every
/// other file is protected by its SHA-256. The run command is `uv run train.py` when the repository declares a uv
/// project (`pyproject.toml` or `uv.lock`) and uv is installed, else the workspace's environment's `python train.py`
/// (made from the repository's `requirements.txt`). Its evaluation runs inside its editable file, so the harness
/// cannot vouch for the score: the workspace is `evaluation.scoring = "summary"`, and every report labels its
/// scores "self-reported". The sandbox still confines every build and run (no network, nothing writable but the
/// run's own folders); the repository's data cache in the home folder (`~/.cache/autoresearch`) is visible read-only.
public struct AdoptOptions: Sendable {
    /// The repository to adopt.
    public var repository: URL
    /// Training seconds, when prepare.py's `TIME_BUDGET` cannot be read.
    public var timeBudget: Double?
    /// The base Python interpreter of the environment.
    public var python: String?
    /// Where to look for uv; the process's PATH by default.
    public var path: String? = ProcessInfo.processInfo.environment["PATH"]

    public init(repository: URL, timeBudget: Double? = nil, python: String? = nil) {
        self.repository = repository; self.timeBudget = timeBudget; self.python = python
    }
}

extension Workspace {
    /// Folders of the home directory an adopted repository reads (upstream's `CACHE_DIR`), visible read-only in the sandbox.
    static let adoptedHomeFolders = [".cache/autoresearch"]

    /// What the repository lacks of autoresearch's layout; empty when it has it.
    static func missingLayout(_ repo: URL) -> [String] {
        let fm = FileManager.default
        var missing: [String] = []
        for file in ["train.py", "prepare.py", "program.md"] where !fm.fileExists(atPath: repo.appendingPathComponent(file).path) {
            missing.append(file)
        }
        let train = try? String(contentsOf: repo.appendingPathComponent("train.py"), encoding: .utf8)
        if let train, !(train.contains("val_bpb:") && train.contains("---")) {
            missing.append("a summary block in train.py (a `---` line, then `val_bpb: <number>`, printed at the end of a run)")
        }
        if let train, (try? SubjectBridge.checkHyperparameterBlock(train, path: "train.py")) == nil {
            missing.append("a hyperparameter block in train.py (top-level ALL_CAPS assignments such as `DEPTH = 8`)")
        }
        let hasEnvironment = ["requirements.txt", "pyproject.toml", "uv.lock"].contains { fm.fileExists(atPath: repo.appendingPathComponent($0).path) }
        if !missing.contains("train.py"), !hasEnvironment {
            missing.append("requirements.txt or pyproject.toml (the Python packages train.py needs)")
        }
        return missing
    }

    static func seconds(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : String(d) }

    /// `TIME_BUDGET = <seconds>` at the top level of prepare.py: a number, or a product of numbers (`5 * 60`).
    static func timeBudget(inPrepare text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix("TIME_BUDGET") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "TIME_BUDGET" else { continue }
            let expression = parts[1].split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let factors = expression.split(separator: "*").map { Double($0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")) }
            guard !factors.isEmpty, factors.allSatisfy({ $0 != nil }) else { return nil }
            let value = factors.reduce(1.0) { $0 * $1! }
            return value > 0 ? value : nil
        }
        return nil
    }

    /// Creates a workspace at `directory` around the repository in `options` and commits it as the baseline.
    /// - Throws: `HarnessError.other` naming what the repository lacks, or asking for `--time-budget` when
    ///   prepare.py's `TIME_BUDGET` cannot be read; `.workspaceExists`; the environment's errors. A failed adoption
    ///   leaves nothing behind and never touches the repository.
    @discardableResult
    public static func adopt(at directory: URL, options: AdoptOptions) throws -> Workspace {
        let fm = FileManager.default
        let repo = options.repository.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: repo.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw HarnessError.other("--adopt \(repo.path): no such directory")
        }
        let missing = missingLayout(repo)
        guard missing.isEmpty else {
            throw HarnessError.other("\(repo.path) is not in autoresearch's layout; missing: \(missing.joined(separator: "; ")). "
                                     + "--adopt needs an editable train.py that prints the summary block, a fixed prepare.py and program.md.")
        }
        let prepare = (try? String(contentsOf: repo.appendingPathComponent("prepare.py"), encoding: .utf8)) ?? ""
        let found = timeBudget(inPrepare: prepare)
        if let found, let asked = options.timeBudget, asked != found {
            throw HarnessError.other("prepare.py fixes TIME_BUDGET = \(seconds(found)) s, and the adopted train.py trains for it whatever the harness asks; leave out --time-budget \(seconds(asked)) (or change prepare.py in the repository)")
        }
        guard let seconds = found ?? options.timeBudget else {
            throw HarnessError.other("cannot read TIME_BUDGET from \(repo.path)/prepare.py (expected a line like `TIME_BUDGET = 300`); pass the training seconds with --time-budget SECONDS")
        }
        let root = directory.standardizedFileURL
        if let existing = try? fm.contentsOfDirectory(atPath: root.path), !existing.isEmpty { throw HarnessError.workspaceExists(dir: root.path) }
        guard root.path != repo.path, !root.path.hasPrefix(repo.path + "/") else {
            throw HarnessError.other("the workspace must be outside the repository it adopts (\(repo.path)); name another directory")
        }

        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        do {
            try copyTree(from: repo, to: root, skipping: [])
            let ignore = root.appendingPathComponent(".gitignore")
            let ignored = (try? String(contentsOf: ignore, encoding: .utf8)) ?? ""
            let needed = [".autoresearch/", ".venv/", "__pycache__/"].filter { entry in !ignored.split(separator: "\n").contains { $0 == entry } }
            if !needed.isEmpty {
                // .gitignore is the workspace's own file (git's, not the subject's): the repository's copy stays as it was otherwise.
                try (ignored + (ignored.isEmpty || ignored.hasSuffix("\n") ? "" : "\n") + needed.joined(separator: "\n") + "\n")
                    .write(to: ignore, atomically: true, encoding: .utf8)
            }
            let uvProject = ["pyproject.toml", "uv.lock"].contains { fm.fileExists(atPath: root.appendingPathComponent($0).path) }
            let uv = uvProject ? PythonEnvironment.findExecutable("uv", path: options.path) : nil
            var manifest = Manifest(name: repo.lastPathComponent, editable: ["train.py"], build: "python -m py_compile train.py",
                                    run: uv != nil ? "uv run --no-sync train.py" : "python train.py", metric: "val_bpb", direction: .lower)
            manifest.notes = ["program.md"]
            manifest.evaluation.scoring = .summary
            manifest.sandbox.mode = .bwrap
            manifest.sandbox.homeReadOnly = adoptedHomeFolders
            manifest.budget.seconds = seconds
            manifest.dataDir = ""
            var python = PythonSettings()
            if let uv {
                python.requirements = fm.fileExists(atPath: root.appendingPathComponent("uv.lock").path) ? "uv.lock" : "pyproject.toml"
                manifest.python = try PythonEnvironment.createUVProject(in: root, settings: python, uv: uv, python: options.python)
            } else if fm.fileExists(atPath: root.appendingPathComponent("requirements.txt").path) {
                manifest.python = try PythonEnvironment.create(in: root, settings: python, python: options.python)
            } else {
                throw HarnessError.other("\(repo.path) declares its packages in pyproject.toml for uv, and uv is not installed: install it (pip install uv) and adopt again, or add a requirements.txt")
            }
            return try commitBaseline(at: root, manifest: manifest, message: "baseline: adopted \(repo.lastPathComponent)")
        } catch {
            try? fm.removeItem(at: root)
            throw error
        }
    }
}
