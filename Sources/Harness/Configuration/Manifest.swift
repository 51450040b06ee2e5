import AgentResearcher
import AutoResearchCore
import Foundation
import SearchResearcher
import TOMLKit

/// A workspace's `autoresearch.toml`: what the researchers may change, how to build and run the subject,
/// which metric decides, the budget, the noise settings of the decision, and the SHA-256 of every protected file.
///
/// The manifest is committed with the baseline; its SHA-256 is stored per tag, so one tag's results are
/// always measured under one manifest.
public struct Manifest: Sendable, Equatable {
    /// Which way the metric improves.
    public enum Direction: String, Sendable, CaseIterable { case lower, higher }

    /// How the training run is limited: wall-clock seconds (autoresearch's 5 minutes) or a number of tokens.
    public enum BudgetMode: String, Sendable, CaseIterable { case time, tokens }

    /// The training budget and the hard limit that protects the loop from a run that never ends.
    public struct Budget: Sendable, Equatable {
        public var mode: BudgetMode = .time
        /// Training seconds (time mode). In token mode, the expected training time, used only for the hard limit.
        public var seconds: Double = 60
        /// Training tokens (token mode).
        public var tokens: Int = 0
        /// The run is killed after `hardLimitFactor × seconds + hardLimitGraceSeconds` (startup, evaluation).
        public var hardLimitFactor: Double = 2
        public var hardLimitGraceSeconds: Double = 60
        /// The build is killed after this many seconds.
        public var buildTimeoutSeconds: Double = 1800

        public init() {}

        /// Seconds after which a training run is killed.
        public var hardLimitSeconds: Double { hardLimitFactor * seconds + hardLimitGraceSeconds }
    }

    /// The file name of the manifest at the root of a workspace.
    public static let fileName = "autoresearch.toml"

    public var name: String
    /// Paths (relative to the workspace) a proposal may change.
    public var editable: [String]
    /// Paths that are neither editable nor protected (the researchers' brief and notes, e.g. program.md).
    public var notes: [String] = ["program.md"]
    /// Shell command that builds the subject, run in the experiment's worktree.
    public var build: String
    /// Shell command that trains and evaluates, printing a `---` summary block.
    public var run: String
    /// The search researcher's ideas file, relative to the workspace; nil for none.
    public var ideas: String?
    /// The summary key that decides (e.g. `val_bpb`).
    public var metric: String
    public var direction: Direction = .lower
    public var budget = Budget()
    /// The prepared corpus, passed to the subject as AUTORESEARCH_DATA_DIR; empty for none.
    public var dataDir: String = ""
    public var noise = NoiseSettings()
    /// SHA-256 (hex) of every protected file, keyed by path.
    public var fixed: [String: String] = [:]
    /// Which researcher runs and its settings (not part of the evaluation; see `ResearcherSection`).
    public var researcher = ResearcherSection()
    /// The compute slots (`[[slot]]` tables, or `[slots] count = N` to split the cores); empty = one slot, the whole machine.
    public var slots: [Slot] = []
    /// What a swarm's researchers build on (`[swarm]`; not part of the evaluation, so not in the tag's hash).
    public var swarm = SwarmPolicy()
    /// The meta-loop's settings (`[meta]`; not part of the evaluation, so not in the tag's hash); used with `run --meta`.
    public var meta = MetaSettings()
    /// Who scores a run, and the causality probe (`[evaluation]`).
    public var evaluation = EvaluationSettings()
    /// How builds and runs are confined (`[sandbox]`).
    public var sandbox = SandboxSettings()
    /// The Python environment of a Python subject (`[python]`); nil for subjects that need none.
    public var python: PythonSettings?

    /// The subject reports its own score (`evaluation.scoring = "summary"`): reports label its numbers "self-reported".
    public var selfReported: Bool { evaluation.scoring == .summary }

    public init(name: String, editable: [String], build: String, run: String, ideas: String? = nil,
                metric: String = "val_bpb", direction: Direction = .lower) {
        self.name = name; self.editable = editable; self.build = build; self.run = run
        self.ideas = ideas; self.metric = metric; self.direction = direction
    }

    /// Reads `autoresearch.toml` of the workspace at `root`.
    public static func load(workspace root: URL) throws -> Manifest {
        let url = root.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { throw HarnessError.notAWorkspace(dir: root.path) }
        let text = try String(contentsOf: url, encoding: .utf8)
        return try parse(text, path: url.path)
    }

    /// Parses a manifest, naming the key when one is missing or wrong.
    public static func parse(_ text: String, path: String = fileName) throws -> Manifest {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw HarnessError.manifestUnreadable(path: path, reason: "\(error.description) at \(error.source.begin)")
        }
        let reader = TableReader(table: table, prefix: "")
        var manifest = Manifest.blank
        try ManifestSchema.read(topLevelKeys, from: reader, into: &manifest)
        try ManifestSchema.read(metricKeys, from: try reader.section("metric"), into: &manifest)

        try ManifestSchema.read(Budget.keys, from: try reader.section("budget"), into: &manifest.budget)
        if manifest.budget.mode == .tokens, manifest.budget.tokens <= 0 {
            throw HarnessError.manifestKey(key: "budget.tokens", problem: "must be a positive number of tokens when budget.mode is \"tokens\".")
        }

        if table.contains(key: "noise") { manifest.noise = try parseNoise(try reader.section("noise")) }

        manifest.slots = try parseSlots(table, reader)
        (manifest.evaluation, manifest.sandbox) = try parseEvaluation(table, reader)
        if table.contains(key: "python") { manifest.python = try PythonSettings.parse(try reader.section("python")) }
        if table.contains(key: "swarm") { try ManifestSchema.read(SwarmPolicy.keys, from: try reader.section("swarm"), into: &manifest.swarm) }
        if table.contains(key: "researcher") {
            manifest.researcher = try parseResearcher(try reader.section("researcher"))
        }
        if table.contains(key: "meta") {
            try ManifestSchema.read(MetaSettings.keys, from: try reader.section("meta"), into: &manifest.meta)
            try manifest.meta.validate()
        }

        let fixed = try reader.section("fixed")
        for key in fixed.table.keys {
            guard let hash = fixed.table[key]?.string, hash.count == 64 else {
                throw HarnessError.manifestKey(key: "fixed.\(key)", problem: "must be a SHA-256 as 64 hex digits.")
            }
            manifest.fixed[key] = hash
        }
        return manifest
    }

    /// `[[slot]]` tables (name, cpus, gpus) or `[slots] count = N`; checks every CPU exists on this machine.
    fileprivate static func parseSlots(_ table: TOMLTable, _ reader: TableReader, cores: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [Slot] {
        var slots: [Slot] = []
        if table.contains(key: "slots") {
            let section = try reader.section("slots")
            if let count = try section.optionalInt("count") {
                guard count >= 1 else { throw HarnessError.manifestKey(key: "slots.count", problem: "must be at least 1.") }
                guard count <= cores else {
                    throw HarnessError.manifestKey(key: "slots.count", problem: "is \(count), but this machine has \(cores) cores; use at most \(cores), or [[slot]] tables.")
                }
                slots = Slot.splitting(cores: cores, into: count)
            }
        }
        if table.contains(key: "slurm") {
            let t = try reader.section("slurm")
            var r = SlurmResources()
            try ManifestSchema.read(SlurmResources.keys, from: t, into: &r)
            // `jobs` is how many Slurm slots there are, not a setting of each job.
            let jobs = try t.optionalInt("jobs") ?? 1
            guard jobs >= 1 else { throw HarnessError.manifestKey(key: "slurm.jobs", problem: "must be at least 1 (the Slurm jobs that may run at once).") }
            slots += (0..<jobs).map { Slot(name: "slurm\($0)", slurm: r) }
        }
        if let value = table["slot"] {
            guard let array = value.array else {
                throw HarnessError.manifestKey(key: "slot", problem: "must be an array of tables ([[slot]]).")
            }
            for (i, item) in array.enumerated() {
                guard let t = item.table else { throw HarnessError.manifestKey(key: "slot", problem: "must be an array of tables ([[slot]]).") }
                let r = TableReader(table: t, prefix: "slot[\(i)]")
                let name = try r.optionalString("name") ?? "slot\(i)"
                let cpus = try r.optionalString("cpus")
                let gpus = try r.optionalString("gpus")
                if let cpus {
                    guard let list = Slot.cores(cpus) else {
                        throw HarnessError.manifestKey(key: "slot[\(i)].cpus", problem: "is '\(cpus)', not a CPU list; write e.g. \"0-3\" or \"0,2\".")
                    }
                    if let missing = list.first(where: { $0 >= cores }) {
                        throw HarnessError.manifestKey(key: "slot[\(i)].cpus", problem: "names CPU \(missing), which does not exist: this machine has CPUs 0–\(cores - 1).")
                    }
                }
                if let gpus, gpus.split(separator: ",").contains(where: { Int($0.trimmingCharacters(in: .whitespaces)) == nil }) {
                    throw HarnessError.manifestKey(key: "slot[\(i)].gpus", problem: "is '\(gpus)', not a list of GPU ids; write e.g. \"0\" or \"0,1\".")
                }
                guard !slots.contains(where: { $0.name == name }) else {
                    throw HarnessError.manifestKey(key: "slot[\(i)].name", problem: "'\(name)' names two slots; give each slot its own name.")
                }
                slots.append(Slot(name: name, cpus: cpus, gpus: gpus))
            }
        }
        return slots
    }

    /// The `[researcher.search]` table's lines for `section`'s search settings (none when it has none).
    static func searchTable(_ section: ResearcherSection) -> [String] {
        guard let search = section.search, let object = JSONValue.parse(search)?.object, !object.isEmpty else { return [] }
        var lines = ["[researcher.search]", "# The search researcher's settings (its research program; see README.md, the meta-loop)."]
        for key in object.keys.sorted() {
            let snake = key.reduce(into: "") { $0 += $1.isUppercase ? "_" + $1.lowercased() : String($1) }
            if case .bool(let flag)? = object[key] { lines.append("\(snake) = \(flag)") } else if let n = object[key]?.number { lines.append("\(snake) = \(tomlNumber(n))") }
        }
        return lines
    }

    /// `[researcher.search]`: snake_case names of `SearchSettings` (step_size, exploration, …) → a JSON object.
    private static func parseSearchSettings(_ t: TableReader) throws -> String {
        let known = SearchSettings.CodingKeys.allCases.map(\.rawValue)
        func snake(_ camel: String) -> String { camel.reduce(into: "") { $0 += $1.isUppercase ? "_" + $1.lowercased() : String($1) } }
        var object: [String: JSONValue] = [:]
        for key in t.table.keys.sorted() {
            guard let name = known.first(where: { snake($0) == key }) else {
                throw HarnessError.manifestKey(key: t.key(key), problem: "is not a search setting; use \(known.map(snake).joined(separator: ", ")).")
            }
            if let flag = t.table[key]?.bool { object[name] = .bool(flag) } else { object[name] = .number(try t.optionalNumber(key) ?? 0) }
        }
        let json = JSONValue.object(object).text
        do {
            try JSONDecoder().decode(SearchSettings.self, from: Data(json.utf8)).validate()
        } catch {
            throw HarnessError.manifestKey(key: t.key("").trimmingCharacters(in: CharacterSet(charactersIn: ".")), problem: "\(error)")
        }
        return json
    }

    private static func parseResearcher(_ r: TableReader) throws -> ResearcherSection {
        var section = ResearcherSection()
        try ManifestSchema.read(ResearcherSection.keys, from: r, into: &section)
        if r.table.contains(key: "limits") { try ManifestSchema.read(ResearcherSection.limitKeys, from: try r.section("limits"), into: &section.limits) }
        if r.table.contains(key: "prices") {
            let p = try r.section("prices")
            let prices = Prices(inputPerMillion: try p.optionalNumber("input_per_million") ?? 0,
                                outputPerMillion: try p.optionalNumber("output_per_million") ?? 0,
                                cacheWritePerMillion: try p.optionalNumber("cache_write_per_million"),
                                cacheReadPerMillion: try p.optionalNumber("cache_read_per_million"))
            guard prices.inputPerMillion >= 0, prices.outputPerMillion >= 0, prices.cacheWritePerMillion >= 0, prices.cacheReadPerMillion >= 0 else {
                throw HarnessError.manifestKey(key: "researcher.prices", problem: "prices must not be negative (USD per million tokens).")
            }
            section.prices = prices
        }
        if r.table.contains(key: "search") {
            section.search = try parseSearchSettings(try r.section("search"))
        }
        if r.table.contains(key: "retry") { try ManifestSchema.read(ResearcherSection.retryKeys, from: try r.section("retry"), into: &section.retry) }
        return section
    }

    /// The manifest as TOML, with comments. `parse(render())` gives back an equal manifest.
    public func render() -> String {
        var lines: [String] = []
        lines.append("# AutoResearch workspace manifest. The harness reads it; researchers never change it.")
        lines.append("# Editing it (and committing) starts a new comparison: a tag remembers the manifest it began with.")
        lines.append("")
        lines += ManifestSchema.render(nil, Self.topLevelKeys, self)
        lines.append("")
        lines += ManifestSchema.render("metric", Self.metricKeys, self)
        lines.append("")
        lines += ManifestSchema.render("budget", Budget.keys, budget)
        lines.append("")
        lines += renderNoise()
        lines.append("")
        lines += renderEvaluation()
        if let python { lines += python.render() }
        let slurmSlots = slots.filter { $0.slurm != nil }
        if let r = slurmSlots.first?.slurm {
            lines += ["[slurm]", "# Every build and run is a Slurm batch job; `jobs` of them run at once (the Slurm slots).",
                      "jobs = \(slurmSlots.count)"]
            lines += ManifestSchema.render(nil, SlurmResources.keys, r) + [""]
        }
        if slots.contains(where: { $0.slurm == nil }) {
            lines.append("# Compute slots: each experiment builds and trains alone in one (CPU sets pinned with taskset, or GPUs).")
            for slot in slots where slot.slurm == nil {
                lines.append("[[slot]]")
                lines.append("name = \(tomlString(slot.name))")
                if let cpus = slot.cpus { lines.append("cpus = \(tomlString(cpus))") }
                if let gpus = slot.gpus { lines.append("gpus = \(tomlString(gpus))") }
                lines.append("")
            }
        }
        if meta != MetaSettings() { lines += ManifestSchema.render("meta", MetaSettings.keys, meta) + [""] }
        if swarm != SwarmPolicy() { lines += ManifestSchema.render("swarm", SwarmPolicy.keys, swarm) + [""] }
        lines += ManifestSchema.render("researcher", comment: ["Not part of the evaluation: changing it resumes the same tag. See README.md, \"LLM researchers\"."],
                                       ResearcherSection.keys, researcher)
        lines.append("")
        let search = Self.searchTable(researcher)
        if !search.isEmpty { lines += search + [""] }
        lines += ManifestSchema.render("researcher.limits", ResearcherSection.limitKeys, researcher.limits)
        if let p = researcher.prices {
            lines.append("")
            lines.append("[researcher.prices]")
            lines.append("# USD per million tokens (0 for a local server).")
            lines.append("input_per_million = \(tomlNumber(p.inputPerMillion))")
            lines.append("output_per_million = \(tomlNumber(p.outputPerMillion))")
            lines.append("cache_write_per_million = \(tomlNumber(p.cacheWritePerMillion))")
            lines.append("cache_read_per_million = \(tomlNumber(p.cacheReadPerMillion))")
        }
        lines.append("")
        lines.append("[fixed]")
        lines.append("# SHA-256 of every protected file, checked before each run.")
        for path in fixed.keys.sorted() {
            lines.append("\(tomlString(path)) = \(tomlString(fixed[path]!))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// True for a relative path that stays inside the workspace (no `..`, not absolute, not `.git`).
    public static func isSafeRelativePath(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/") else { return false }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return !parts.contains { $0 == ".." || $0 == "." || $0.isEmpty || $0 == ".git" }
    }
}

extension Manifest {
    /// A manifest with nothing set yet, that parsing fills in (and the reference table's defaults).
    static var blank: Manifest { Manifest(name: "", editable: [], build: "", run: "", metric: "") }

    /// The top-level keys (`ManifestSchema`).
    static var topLevelKeys: [ManifestKey<Manifest>] {
        [.requiredString("name", \.name, "The workspace's name."),
         .requiredStrings("editable", \.editable, "The only files a proposal may change. Each must start with a hyperparameter block.", problem: { files in
             if files.isEmpty { return "is empty; list at least one file the researchers may change." }
             return files.first { !isSafeRelativePath($0) }.map { "names '\($0)', which is not a path inside the workspace." }
         }),
         .strings("notes", \.notes, "Files that are neither editable nor protected (the researchers' brief and notes).", writeEmpty: true),
         .requiredString("build", \.build, "Shell command that builds the subject, run in the experiment's worktree."),
         .requiredString("run", \.run, "Shell command that runs the subject in the worktree (for a harness-scored subject, each phase)."),
         .optionalString("ideas", \.ideas, "The search researcher's ideas file (named search-and-replace edits), relative to the workspace."),
         .string("data_dir", \.dataDir, "The prepared corpus (`autoresearch prepare`), passed as AUTORESEARCH_DATA_DIR; empty for none.")]
    }

    /// The `[metric]` table's keys.
    static var metricKeys: [ManifestKey<Manifest>] {
        [.requiredString("name", \.metric, "A key of the subject's `---` summary block (val_bpb for the GPT subjects)."),
         .choice("direction", \.direction, "Which way the metric improves.", problem: { "is '\($0)'; use \"lower\" or \"higher\"." })]
    }
}

extension Manifest.Budget {
    /// The `[budget]` table's keys (`ManifestSchema`).
    static var keys: [ManifestKey<Manifest.Budget>] {
        [.choice("mode", \.mode, "\"time\": train for `seconds` of wall clock (AUTORESEARCH_TIME_BUDGET). \"tokens\": train on `tokens` tokens (AUTORESEARCH_TOKEN_BUDGET); `seconds` is then the expected time.",
                 problem: { "is '\($0)'; use \"time\" or \"tokens\"." }),
         .number("seconds", \.seconds, "Training seconds (time mode), or the expected training time (token mode).",
                 check: { $0 > 0 }, problem: "must be a positive number of seconds."),
         .int("tokens", \.tokens, "Training tokens (token mode)."),
         .number("hard_limit_factor", \.hardLimitFactor, "A run is killed (its whole process group) after hard_limit_factor × seconds + hard_limit_grace_seconds."),
         .number("hard_limit_grace_seconds", \.hardLimitGraceSeconds, "The grace of the hard limit, seconds (start-up, evaluation)."),
         .number("build_timeout_seconds", \.buildTimeoutSeconds, "The build is killed after this many seconds.")]
    }
}
