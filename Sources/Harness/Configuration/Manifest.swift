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
        var manifest = Manifest(
            name: try reader.string("name"),
            editable: try reader.strings("editable"),
            build: try reader.string("build"),
            run: try reader.string("run"),
            ideas: try reader.optionalString("ideas"),
            metric: "val_bpb")
        guard !manifest.editable.isEmpty else {
            throw HarnessError.manifestKey(key: "editable", problem: "is empty; list at least one file the researchers may change.")
        }
        for file in manifest.editable where !isSafeRelativePath(file) {
            throw HarnessError.manifestKey(key: "editable", problem: "names '\(file)', which is not a path inside the workspace.")
        }
        manifest.notes = try reader.optionalStrings("notes") ?? manifest.notes
        manifest.dataDir = try reader.optionalString("data_dir") ?? ""

        let metric = try reader.section("metric")
        manifest.metric = try metric.string("name")
        let direction = try metric.optionalString("direction") ?? "lower"
        guard let dir = Direction(rawValue: direction) else {
            throw HarnessError.manifestKey(key: "metric.direction", problem: "is '\(direction)'; use \"lower\" or \"higher\".")
        }
        manifest.direction = dir

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
            r.partition = try t.optionalString("partition")
            r.cpusPerTask = try t.optionalInt("cpus_per_task") ?? 1
            r.gpus = try t.optionalInt("gpus") ?? 0
            r.memoryMB = try t.optionalInt("memory_mb")
            r.pollSeconds = try t.optionalNumber("poll_seconds") ?? 2
            let jobs = try t.optionalInt("jobs") ?? 1
            guard jobs >= 1 else { throw HarnessError.manifestKey(key: "slurm.jobs", problem: "must be at least 1 (the Slurm jobs that may run at once).") }
            guard r.cpusPerTask >= 1 else { throw HarnessError.manifestKey(key: "slurm.cpus_per_task", problem: "must be at least 1.") }
            guard r.gpus >= 0 else { throw HarnessError.manifestKey(key: "slurm.gpus", problem: "must be 0 or more.") }
            if let memory = r.memoryMB, memory < 1 { throw HarnessError.manifestKey(key: "slurm.memory_mb", problem: "must be at least 1.") }
            guard r.pollSeconds > 0 else { throw HarnessError.manifestKey(key: "slurm.poll_seconds", problem: "must be positive.") }
            if let partition = r.partition, partition.isEmpty || partition.contains(where: { $0.isWhitespace || $0 == "," }) {
                throw HarnessError.manifestKey(key: "slurm.partition", problem: "is '\(partition)', not a partition name.")
            }
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
        section.kind = try r.optionalString("kind") ?? "search"
        guard ResearcherSection.kinds.contains(section.kind) else {
            throw HarnessError.manifestKey(key: "researcher.kind", problem: "is '\(section.kind)'; use one of \(ResearcherSection.kinds.joined(separator: ", ")).")
        }
        section.model = try r.optionalString("model")
        section.baseURL = try r.optionalString("base_url")
        if let url = section.baseURL, URL(string: url)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw HarnessError.manifestKey(key: "researcher.base_url", problem: "is '\(url)', which is not an http(s) URL; e.g. \"http://localhost:11434/v1\".")
        }
        section.apiKeyVariable = try r.optionalString("api_key_env")
        section.maxTokensField = try r.optionalString("max_tokens_field")
        if let field = section.maxTokensField, !["max_tokens", "max_completion_tokens"].contains(field) {
            throw HarnessError.manifestKey(key: "researcher.max_tokens_field", problem: "is '\(field)'; use \"max_tokens\" or \"max_completion_tokens\".")
        }
        section.command = try r.optionalString("command")
        section.commandTimeout = try r.optionalNumber("command_timeout_seconds")
        section.access = AgentAccess(readOnly: try r.optionalStrings("agent_read_only") ?? [], writable: try r.optionalStrings("agent_writable") ?? [],
                                     environment: try r.optionalStrings("agent_environment") ?? [])
        for path in section.access.readOnly + section.access.writable where !path.hasPrefix("/") {
            throw HarnessError.manifestKey(key: "researcher.agent_read_only", problem: "names '\(path)'; the folders an agent may reach are absolute paths, e.g. \"/opt/agent\".")
        }
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
        lines.append("name = \(tomlString(name))")
        lines.append("# The only files a proposal may change. Each must start with a hyperparameter block.")
        lines.append("editable = \(tomlArray(editable))")
        lines.append("# Files that are neither editable nor protected (the researchers' brief and notes).")
        lines.append("notes = \(tomlArray(notes))")
        lines.append("# Shell commands, run in the experiment's worktree.")
        lines.append("build = \(tomlString(build))")
        lines.append("run = \(tomlString(run))")
        if let ideas { lines.append("ideas = \(tomlString(ideas))") }
        lines.append("# The prepared corpus (`autoresearch prepare`), passed as AUTORESEARCH_DATA_DIR.")
        lines.append("data_dir = \(tomlString(dataDir))")
        lines.append("")
        lines.append("[metric]")
        lines.append("# A key of the subject's `---` summary block, and which way is better.")
        lines.append("name = \(tomlString(metric))")
        lines.append("direction = \(tomlString(direction.rawValue))")
        lines.append("")
        lines += ManifestSchema.render("budget", Budget.keys, budget)
        lines.append("")
        lines += renderNoise()
        lines.append("")
        lines += renderEvaluation()
        if let python { lines += python.render() }
        let slurmSlots = slots.filter { $0.slurm != nil }
        if let r = slurmSlots.first?.slurm {
            lines.append("# Every build and run is a Slurm batch job; `jobs` of them run at once (the Slurm slots).")
            lines.append("[slurm]")
            if let partition = r.partition { lines.append("partition = \(tomlString(partition))") }
            lines.append("jobs = \(slurmSlots.count)")
            lines.append("cpus_per_task = \(r.cpusPerTask)")
            lines.append("gpus = \(r.gpus)")
            if let memory = r.memoryMB { lines.append("memory_mb = \(memory)") }
            lines.append("poll_seconds = \(tomlNumber(r.pollSeconds))")
            lines.append("")
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
        lines.append("[researcher]")
        lines.append("# Who proposes the changes: \"search\" (built in, no LLM), \"anthropic\", \"openai\" (any OpenAI-compatible")
        lines.append("# server: set base_url, e.g. \"http://localhost:11434/v1\" for Ollama) or \"command\" (an external agent,")
        lines.append("# e.g. command = \"claude -p\"). Not part of the evaluation: changing it resumes the same tag. See README.md.")
        lines.append("kind = \(tomlString(researcher.kind))")
        if let v = researcher.model { lines.append("model = \(tomlString(v))") }
        if let v = researcher.baseURL { lines.append("base_url = \(tomlString(v))") }
        if let v = researcher.apiKeyVariable { lines.append("api_key_env = \(tomlString(v))") }
        if let v = researcher.maxTokensField { lines.append("max_tokens_field = \(tomlString(v))") }
        if let v = researcher.command { lines.append("command = \(tomlString(v))") }
        if let v = researcher.commandTimeout { lines.append("command_timeout_seconds = \(tomlNumber(v))") }
        if !researcher.access.readOnly.isEmpty { lines.append("agent_read_only = \(tomlArray(researcher.access.readOnly))") }
        if !researcher.access.writable.isEmpty { lines.append("agent_writable = \(tomlArray(researcher.access.writable))") }
        if !researcher.access.environment.isEmpty { lines.append("agent_environment = \(tomlArray(researcher.access.environment))") }
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
