import AutoResearchCore
import Foundation
import TOMLKit

/// What `autoresearch init` needs besides the target directory.
public struct WorkspaceOptions: Sendable {
    /// A template name under `<source root>/Templates/`, or a path to a directory holding `template.toml`.
    public var template: String = "gpt"
    /// Training seconds per experiment (time mode).
    public var timeBudget: Double = 60
    /// Training tokens per experiment; when set, the budget mode is `tokens`.
    public var tokenBudget: Int?
    /// The prepared corpus; nil for the default cache location of the Shakespeare corpus.
    public var dataDirectory: String?
    /// The AutoResearch source tree (templates, vendored sources); nil to locate it.
    public var sourceRoot: URL?
    /// The base Python interpreter of a Python subject's environment; nil for `$AUTORESEARCH_PYTHON` or `python3`.
    public var python: String?
    /// A tensor core adopted from a tensorcore workspace (`init --core FROM`): its kernel files replace the vendored
    /// ones before the baseline commit, and the new ledger records where they came from. Templates that vendor the core only.
    public var core: AdoptableCore?

    public init(template: String = "gpt", timeBudget: Double = 60, tokenBudget: Int? = nil,
                dataDirectory: String? = nil, sourceRoot: URL? = nil) {
        self.template = template; self.timeBudget = timeBudget; self.tokenBudget = tokenBudget
        self.dataDirectory = dataDirectory; self.sourceRoot = sourceRoot
    }
}

/// A template's `template.toml`.
struct Template {
    var directory: URL
    var name: String
    /// Directories copied from the AutoResearch source tree into the workspace.
    var vendor: [String]
    var editable: [String]
    var notes: [String]
    var build: String
    var run: String
    var metric: String
    var direction: Manifest.Direction
    var ideas: String?
    /// `scoring`: "harness" (the harness scores the model's logits) or "summary" (the subject's printed block).
    var scoring: EvaluationSettings.Scoring
    /// `python`: the pinned requirements of a Python subject; `init` makes the workspace's environment from them.
    var pythonRequirements: String?
    /// `sigma_prior`: a prior guess of one run's σ of the metric, measured for the template (see `NoiseSettings`).
    var sigmaPrior: Double?
    /// `sandbox`: the workspace's `[sandbox] mode` when not the default ("bwrap": a self-scored subject whose runs
    /// execute researched native code, the tensorcore subject, is confined all the same).
    var sandbox: SandboxSettings.Mode?
    /// `reference_module = [FROM, TO]` and `reference_copies = [[source path, workspace path], ...]`: copies made
    /// at init from the source tree with every whole word FROM renamed TO (the tensorcore template's second copy of
    /// the shipped core, which its benchmark times beside the candidate in one process).
    var referenceRename: (from: String, to: String)?
    var referenceCopies: [(from: String, to: String)] = []

    static func load(_ directory: URL) throws -> Template {
        let url = directory.appendingPathComponent("template.toml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw HarnessError.other("\(url.path) is not valid TOML: \(error.description)")
        }
        func string(_ key: String) throws -> String {
            guard let s = table[key]?.string, !s.isEmpty else {
                throw HarnessError.other("\(url.path): '\(key)' is missing or not a string")
            }
            return s
        }
        func strings(_ key: String) -> [String]? { table[key]?.array?.compactMap { $0.string } }
        let direction = table["direction"]?.string ?? "lower"
        guard let dir = Manifest.Direction(rawValue: direction) else {
            throw HarnessError.other("\(url.path): 'direction' is '\(direction)'; use \"lower\" or \"higher\"")
        }
        guard let editable = strings("editable"), !editable.isEmpty else {
            throw HarnessError.other("\(url.path): 'editable' must list at least one file")
        }
        let scoring = table["scoring"]?.string ?? "summary"
        guard let score = EvaluationSettings.Scoring(rawValue: scoring) else {
            throw HarnessError.other("\(url.path): 'scoring' is '\(scoring)'; use \"harness\" or \"summary\"")
        }
        var template = Template(directory: directory, name: try string("name"), vendor: strings("vendor") ?? [],
                                editable: editable, notes: strings("notes") ?? ["program.md"], build: try string("build"),
                                run: try string("run"), metric: table["metric"]?.string ?? "val_bpb", direction: dir,
                                ideas: table["ideas"]?.string, scoring: score, pythonRequirements: table["python"]?.string,
                                sigmaPrior: table["sigma_prior"]?.double ?? table["sigma_prior"]?.int.map(Double.init))
        if let mode = table["sandbox"]?.string {
            guard let parsed = SandboxSettings.Mode(rawValue: mode) else {
                throw HarnessError.other("\(url.path): 'sandbox' is '\(mode)'; use \"auto\", \"bwrap\" or \"none\"")
            }
            template.sandbox = parsed
        }
        if let rename = strings("reference_module") {
            guard rename.count == 2, rename.allSatisfy({ !$0.isEmpty }) else {
                throw HarnessError.other("\(url.path): 'reference_module' must be [\"FROM\", \"TO\"], two module names")
            }
            template.referenceRename = (rename[0], rename[1])
            for pair in table["reference_copies"]?.array ?? [] {
                let paths = pair.array?.compactMap { $0.string } ?? []
                guard paths.count == 2, paths.allSatisfy(Manifest.isSafeRelativePath) else {
                    throw HarnessError.other("\(url.path): each 'reference_copies' entry must be [\"source path\", \"workspace path\"], two relative paths")
                }
                template.referenceCopies.append((paths[0], paths[1]))
            }
        } else if table["reference_copies"] != nil {
            throw HarnessError.other("\(url.path): 'reference_copies' needs 'reference_module' = [\"FROM\", \"TO\"], the module the copies rename (without it nothing would be copied); add it, or remove 'reference_copies'")
        }
        return template
    }
}

extension Workspace {
    /// The AutoResearch source tree: `$AUTORESEARCH_HOME`, else the checkout this file was compiled from.
    public static func sourceRoot(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let home = environment["AUTORESEARCH_HOME"], !home.isEmpty {
            let url = URL(fileURLWithPath: (home as NSString).expandingTildeInPath)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("Templates").path) else {
                throw HarnessError.sourceRootNotFound(tried: "AUTORESEARCH_HOME=\(url.path), which has no Templates/")
            }
            return url
        }
        // .../Sources/Harness/Workspace/Workspace+Init.swift → the package root.
        let compiled = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: compiled.appendingPathComponent("Package.swift").path) else {
            throw HarnessError.sourceRootNotFound(tried: compiled.path)
        }
        return compiled
    }

    /// Creates a new workspace at `directory` from a template and commits the baseline.
    ///
    /// Copies the template's files (except template.toml) and its vendored source directories, writes
    /// `.gitignore` and `autoresearch.toml` (with the SHA-256 of every protected file), checks that each
    /// editable file has a hyperparameter block, then `git init` and commits everything as the baseline.
    @discardableResult
    public static func create(at directory: URL, options: WorkspaceOptions) throws -> Workspace {
        let fm = FileManager.default
        let root = directory.standardizedFileURL
        if let existing = try? fm.contentsOfDirectory(atPath: root.path), !existing.isEmpty {
            throw HarnessError.workspaceExists(dir: root.path)
        }
        let source = try options.sourceRoot ?? sourceRoot()
        let templateDir = try locateTemplate(options.template, sourceRoot: source)
        let template = try Template.load(templateDir)

        // Check before writing anything: a failed init leaves nothing behind. Editable files that come from a
        // vendored folder (the tensorcore template's kernels) are checked once they are copied, below.
        let vendored = template.editable.filter { path in template.vendor.contains { path.hasPrefix($0 + "/") } }
        try validateEditable(template.editable.filter { !vendored.contains($0) }, in: templateDir)

        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        do {
            try copyTree(from: templateDir, to: root, skipping: ["template.toml", "requirements.in"])
            for dir in template.vendor {
                guard Manifest.isSafeRelativePath(dir) else { throw HarnessError.other("template.toml: vendor entry '\(dir)' is not a relative path") }
                let from = source.appendingPathComponent(dir)
                guard fm.fileExists(atPath: from.path) else {
                    throw HarnessError.other("template '\(template.name)' vendors \(dir), which is not in \(source.path)")
                }
                try copyTree(from: from, to: root.appendingPathComponent(dir), skipping: [])
            }
            if let core = options.core {
                guard template.vendor.contains("Sources/TensorCore") else {
                    throw HarnessError.other("template '\(template.name)' does not vendor the tensor core, so --core does not apply to it; use --template gpt or tensorcore")
                }
                _ = try core.changes(inSourceTree: source)  // the rest of the core must be the one its kernels were tuned against
                for (path, data) in core.files { try data.write(to: root.appendingPathComponent(path)) }
            }
            try validateEditable(vendored, in: root)
            try copyReference(template, from: source, to: root)
            try ".build/\n.autoresearch/\n__pycache__/\n.venv/\n".write(to: root.appendingPathComponent(".gitignore"), atomically: true, encoding: .utf8)

            var manifest = Manifest(name: template.name, editable: template.editable, build: template.build,
                                    run: template.run, ideas: template.ideas, metric: template.metric,
                                    direction: template.direction)
            manifest.notes = template.notes
            manifest.evaluation.scoring = template.scoring
            if let mode = template.sandbox { manifest.sandbox.mode = mode }
            manifest.noise.sigmaPrior = template.sigmaPrior
            if let tokens = options.tokenBudget, tokens > 0 {
                manifest.budget.mode = .tokens
                manifest.budget.tokens = tokens
            }
            manifest.budget.seconds = options.timeBudget
            manifest.dataDir = options.dataDirectory ?? SubjectBridge.defaultDataDirectory()
            if let requirements = template.pythonRequirements {
                var python = PythonSettings()
                python.requirements = requirements
                manifest.python = try PythonEnvironment.create(in: root, settings: python, python: options.python)
            }

            let message = "baseline: \(template.name) template"
                + (options.core.map { " with the core of \($0.workspace.path) tag \($0.tag) commit \($0.commit.prefix(12))" } ?? "")
            let workspace = try commitBaseline(at: root, manifest: manifest, message: message)
            try recordTemplateCore(in: workspace)
            if let core = options.core {
                try Ledger(url: workspace.ledgerURL).insertCore(core.record(commit: try workspace.git.revParse("HEAD"), tag: nil), tag: nil)
            }
            return workspace
        } catch {
            try? fm.removeItem(at: root)
            throw error
        }
    }

    /// Makes `root` a git repository, hashes every file it holds that is neither editable nor a note into the
    /// manifest, writes the manifest (checked to read back), commits everything as the baseline and opens it.
    static func commitBaseline(at root: URL, manifest: Manifest, message: String) throws -> Workspace {
        var manifest = manifest
        let git = Git(root)
        try git.initialize()
        try git.run(["add", "-A"])
        manifest.fixed = try fixedHashes(of: try git.run(["ls-files", "-z", "--cached"]).split(separator: "\0").map(String.init),
                                         in: root, manifest: manifest)
        try manifest.render().write(to: root.appendingPathComponent(Manifest.fileName), atomically: true, encoding: .utf8)
        _ = try Manifest.parse(manifest.render()) // what we write must read back
        try git.run(["add", "-A"])
        try git.commit(message)
        return try open(root)
    }

    /// A template by name (`<source>/Templates/<name>`) or by path.
    static func locateTemplate(_ nameOrPath: String, sourceRoot: URL) throws -> URL {
        let fm = FileManager.default
        let asPath = URL(fileURLWithPath: (nameOrPath as NSString).expandingTildeInPath)
        if nameOrPath.contains("/"), fm.fileExists(atPath: asPath.appendingPathComponent("template.toml").path) {
            return asPath
        }
        let named = sourceRoot.appendingPathComponent("Templates").appendingPathComponent(nameOrPath)
        guard fm.fileExists(atPath: named.appendingPathComponent("template.toml").path) else {
            throw HarnessError.templateNotFound(name: nameOrPath, searched: nameOrPath.contains("/") ? asPath.path : named.path)
        }
        return named
    }

    /// Copies a directory's regular files recursively, skipping build output, git data and the names in `skipping`.
    static func copyTree(from source: URL, to destination: URL, skipping: Set<String>) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: source.path).sorted() {
            if skipping.contains(name) || [".build", ".git", ".autoresearch", "__pycache__", ".venv", ".DS_Store"].contains(name) || name.hasPrefix(".build-") {
                continue
            }
            let from = source.appendingPathComponent(name), to = destination.appendingPathComponent(name)
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: from.path, isDirectory: &isDir)
            if isDir.boolValue {
                try copyTree(from: from, to: to, skipping: [])
            } else {
                try fm.copyItem(at: from, to: to)
            }
        }
    }
}
