import AutoResearchCore
import SubjectKit
import Foundation

/// A tensor core taken from a tensorcore workspace (`autoresearch init DIR --template tensorcore`): its editable
/// kernel files at one commit — the head of a research branch, i.e. its tag's latest keep — and where they came from.
public struct AdoptableCore: Sendable {
    /// The tensorcore workspace, its tag and the commit whose files were taken.
    public var workspace: URL
    public var tag: String
    public var commit: String
    /// True for a keep (it passed the correctness gate and beat the noise); false for the tag's baseline.
    public var kept: Bool
    /// The source's metric name, its baseline's value and the taken commit's value.
    public var metric: String
    public var baseline: Double?
    public var best: Double?
    /// The kernel files (the source's editable files, all under `Sources/TensorCore/`): path → contents.
    public var files: [String: Data]
    /// The source's fixed TensorCore files (path → SHA-256): the rest of the core the kernels were tuned against.
    public var coreFixed: [String: String]
    /// The researchers whose keeps built this core (the tag's keeps up to the taken commit): "search", "optuna", or
    /// researchers that write code ("anthropic", "command", …).
    public var researchers: [String] = []

    /// SHA-256 of each kernel file.
    public var hashes: [String: String] { files.mapValues { sha256Hex($0) } }

    /// The provenance row for the workspace commit `commit` the core landed in.
    public func record(commit landed: String, tag newTag: String?) -> CoreRecord {
        let json = (try? JSONEncoder.sorted.encode(hashes)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return CoreRecord(id: nil, commit: landed, tag: newTag, sourceWorkspace: workspace.path, sourceTag: tag, sourceCommit: commit,
                          sourceMetric: metric, sourceBaseline: baseline, sourceBest: best, sourceKept: kept, files: json,
                          adoptedAt: Date())
    }

    /// The names of fixed core files whose hashes differ from `fixed` (a target's `[fixed]` table or a source tree's).
    func coreMismatches(_ fixed: [String: String]) -> [String] {
        coreFixed.keys.sorted().filter { fixed[$0] != coreFixed[$0] }
    }
}

extension JSONEncoder {
    /// Keys sorted, so the same hashes always encode the same way.
    static var sorted: JSONEncoder { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]; return e }
}

/// What `adopt-core --workspace` did to a GPT workspace.
public struct CoreAdoptionResult: Sendable {
    /// The workspace after the adoption (its manifest hashes the new core).
    public var workspace: Workspace
    /// The new tag, whose baseline is the adoption commit: `autoresearch run --tag <tag>` measures a new baseline.
    public var tag: TagRecord
    public var record: CoreRecord
    /// The kernel files that changed.
    public var changed: [String]
}

extension Workspace {
    /// True for a workspace of the tensorcore template: its editable files are kernels of `Sources/TensorCore/`.
    public var isTensorCoreWorkspace: Bool {
        manifest.name == "tensorcore" && !manifest.editable.isEmpty && manifest.editable.allSatisfy { $0.hasPrefix("Sources/TensorCore/") }
    }

    /// The best kept core of this tensorcore workspace: the latest keep of `tag`, or, without a tag, of the tag whose
    /// latest keep has the best metric. With `allowBaseline`, a tag without keeps gives its measured baseline.
    /// - Throws: `HarnessError.other` when this is not a tensorcore workspace, has no research, no keep (and no
    ///   `allowBaseline`), or the chosen commit never passed the gate; `.unknownTag` for an unknown `tag`.
    /// Researchers that only move values; a core any other researcher wrote is refused by `bestCore` unless
    /// `allowCodeEditors` (the tensorcore subject runs unsandboxed: code an agent wrote there is unreviewed native code
    /// that every later GPT workspace would run — the red team's finding 11).
    public static let valueResearchers: Set<String> = ["search", "optuna", "harness", "human"]

    public func bestCore(tag: String? = nil, allowBaseline: Bool = false, allowCodeEditors: Bool = false) throws -> AdoptableCore {
        let core = try bestCoreUnchecked(tag: tag, allowBaseline: allowBaseline)
        let editors = core.researchers.filter { !Self.valueResearchers.contains($0) }
        guard editors.isEmpty || allowCodeEditors else {
            throw HarnessError.other("the core of tag \(core.tag) (commit \(core.commit.prefix(12))) has keeps by researchers that write code (\(editors.joined(separator: ", "))), in a subject that runs unsandboxed; read its diff, then pass --allow-code-editors to adopt it")
        }
        return core
    }

    func bestCoreUnchecked(tag: String?, allowBaseline: Bool) throws -> AdoptableCore {
        guard isTensorCoreWorkspace else {
            throw HarnessError.other("\(root.path) is not a tensorcore workspace (its template is '\(manifest.name)'); adopt-core takes the kernels from a workspace made by `autoresearch init DIR --template tensorcore` and researched with `autoresearch run`")
        }
        guard FileManager.default.fileExists(atPath: ledgerURL.path) else {
            throw HarnessError.other("the tensorcore workspace \(root.path) has no research yet (no ledger): run `autoresearch run` in it first")
        }
        let ledger = try Ledger(url: ledgerURL)
        let all = try ledger.tags()
        var tags = all
        if let tag {
            guard let one = all.first(where: { $0.tag == tag }) else { throw HarnessError.unknownTag(tag: tag, known: all.map(\.tag)) }
            tags = [one]
        }
        guard !tags.isEmpty else {
            throw HarnessError.other("the tensorcore workspace \(root.path) has no tags yet: run `autoresearch run` in it first")
        }
        let better: (Double, Double) -> Bool = manifest.direction == .lower ? { $0 < $1 } : { $0 > $1 }
        var chosen: (tag: TagRecord, keep: ExperimentRecord, baseline: ExperimentRecord?)?
        for t in tags {
            let records = try ledger.experiments(tag: t.tag)
            let keeps = records.filter { $0.experimentStatus == .keep && $0.commit != nil && $0.metric != nil }
            guard let head = keeps.max(by: { ($0.finishedAt ?? .distantPast, $0.number) < ($1.finishedAt ?? .distantPast, $1.number) })
            else { continue }
            if let current = chosen, !better(head.metric!, current.keep.metric!) { continue }
            chosen = (t, head, records.first { $0.experimentStatus == .baseline })
        }
        if let chosen {
            var found = try core(tag: chosen.tag.tag, commit: chosen.keep.commit!, kept: true, baseline: chosen.baseline?.metric, best: chosen.keep.metric)
            let keeps = try ledger.experiments(tag: chosen.tag.tag).filter { $0.experimentStatus == .keep && $0.number <= chosen.keep.number }
            found.researchers = Array(Set(keeps.map(\.researcher))).sorted()
            return found
        }
        let scope = tag.map { "tag \($0)" } ?? "any tag (\(all.map(\.tag).joined(separator: ", ")))"
        guard allowBaseline else {
            throw HarnessError.other("the tensorcore workspace \(root.path) has no keep in \(scope): nothing faster than its baseline passed the gate. Research longer, or pass --allow-baseline to adopt a baseline core")
        }
        let last = tags.last!
        let records = try ledger.experiments(tag: last.tag)
        guard let baseline = records.first(where: { $0.experimentStatus == .baseline && $0.metric != nil }) else {
            throw HarnessError.other("the baseline of tag \(last.tag) in \(root.path) was never measured, so its gate never passed: run `autoresearch run --tag \(last.tag)` there first")
        }
        return try core(tag: last.tag, commit: last.baselineCommit, kept: false, baseline: baseline.metric, best: baseline.metric)
    }

    /// The kernel files at `commit`, with the source's fixed core hashes.
    private func core(tag: String, commit: String, kept: Bool, baseline: Double?, best: Double?) throws -> AdoptableCore {
        guard git.resolve(commit) != nil else {
            throw HarnessError.other("commit \(commit.prefix(12)) of tag \(tag) is not in \(root.path)'s repository")
        }
        var files: [String: Data] = [:]
        for path in manifest.editable {
            files[path] = Data(try git.run(["show", "\(commit):\(path)"]).utf8)
        }
        let coreFixed = manifest.fixed.filter { $0.key.hasPrefix("Sources/TensorCore/") }
        return AdoptableCore(workspace: root, tag: tag, commit: commit, kept: kept, metric: manifest.metric,
                             baseline: baseline, best: best, files: files, coreFixed: coreFixed)
    }

    /// Adopts `core` into this GPT workspace: writes the kernel files into its vendored `Sources/TensorCore`, updates
    /// their hashes in autoresearch.toml's `[fixed]`, commits on `main`, and starts a new tag (branch at that commit)
    /// whose first `autoresearch run --tag` measures a new baseline; the ledger records where the core came from.
    /// Old tags keep their manifest hash, so they stay comparable to themselves and their noise is not pooled with the new.
    /// - Throws: `HarnessError.other` when this is not a GPT workspace, the rest of the core differs, a run is active,
    ///   HEAD is not `main`, the tag exists or nothing would change; `.dirtyWorkTree`; `.invalidTag`.
    public func adoptCore(_ core: AdoptableCore, tag newTag: String? = nil) throws -> CoreAdoptionResult {
        guard !isTensorCoreWorkspace, root.path != core.workspace.path else {
            throw HarnessError.other("\(root.path) is a tensorcore workspace; adopt-core carries a core into a GPT workspace (`autoresearch init DIR --template gpt`)")
        }
        let missing = core.files.keys.sorted().filter { manifest.fixed[$0] == nil }
        guard missing.isEmpty else {
            throw HarnessError.other("\(root.path) does not vendor the tensor core as fixed files (\(missing.prefix(3).joined(separator: ", ")) not in its [fixed] table); adopt-core targets GPT workspaces (`autoresearch init DIR --template gpt`)")
        }
        let mismatched = core.coreMismatches(manifest.fixed)
        guard mismatched.isEmpty else {
            throw HarnessError.other("the rest of the tensor core differs between \(core.workspace.path) and \(root.path) (\(mismatched.prefix(3).joined(separator: ", "))\(mismatched.count > 3 ? ", ..." : "")): its kernels were tuned against another version of the core. Make both workspaces from the same AutoResearch source tree")
        }
        let lock = try RunLock(stateDirectory.appendingPathComponent("run.lock"))
        defer { lock.release() }
        try ensureClean()
        let branchName = (git.attempt(["symbolic-ref", "--short", "-q", "HEAD"]) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard branchName == "main" else {
            throw HarnessError.other("\(root.path) is not on its main branch (HEAD is \(branchName.isEmpty ? "detached" : branchName)); adopt-core commits on main: `git checkout main` there first")
        }
        let hashes = core.hashes
        let changed = hashes.keys.sorted().filter { manifest.fixed[$0] != hashes[$0] }
        guard !changed.isEmpty else {
            throw HarnessError.other("\(root.path) already has this core (the kernels of \(core.workspace.path) at \(core.commit.prefix(12)) hash as its own): nothing to adopt")
        }
        let ledger = try Ledger(url: ledgerURL)
        let tag = try newTag ?? defaultCoreTag(ledger)
        guard TagRecord.isValidName(tag) else { throw HarnessError.invalidTag(tag) }
        guard try ledger.tag(tag) == nil else {
            throw HarnessError.other("tag \(tag) already exists in \(root.path); a new core starts a new tag: name another with --tag")
        }
        let branchRef = "refs/heads/autoresearch/\(tag)"
        if git.resolve(branchRef) != nil { throw HarnessError.branchWithoutLedger(tag: tag, branch: "autoresearch/\(tag)") }

        let manifestURL = root.appendingPathComponent(Manifest.fileName)
        let touched = changed + [Manifest.fileName]
        let commit: String
        do {
            var text = try String(contentsOf: manifestURL, encoding: .utf8)
            for path in changed {
                text = try Workspace.replacingFixedHash(in: text, path: path, old: manifest.fixed[path]!, new: hashes[path]!)
                try core.files[path]!.write(to: root.appendingPathComponent(path))
            }
            try text.write(to: manifestURL, atomically: true, encoding: .utf8)
            let reopened = try Workspace.open(root)
            try reopened.verifyFixed(in: root)
            try git.run(["add", "--"] + touched)
            commit = try git.commit("adopt core from \(core.workspace.path) tag \(core.tag) commit \(core.commit.prefix(12))")
        } catch {
            _ = git.attempt(["reset", "-q", "--"] + touched)
            _ = git.attempt(["checkout", "-q", "HEAD", "--"] + touched)
            throw error
        }
        let adopted = try Workspace.open(root)
        try git.updateRef(branchRef, to: commit, from: nil)
        let tagRecord = TagRecord(tag: tag, branch: "autoresearch/\(tag)", manifestHash: adopted.manifestHash, createdAt: Date(),
                                  baselineCommit: commit, noiseSigma: nil)
        let record = core.record(commit: commit, tag: tag)
        try ledger.insertCore(record, tag: tagRecord)
        return CoreAdoptionResult(workspace: adopted, tag: tagRecord, record: record, changed: changed)
    }

    /// `<latest tag>-core<N>` (N: one more than the cores adopted into this workspace so far, and free), or `core<N>`
    /// before any tag. The core the template brought at init (recorded without a tag) does not count.
    func defaultCoreTag(_ ledger: Ledger) throws -> String {
        let tags = try ledger.tags().map(\.tag)
        var base = tags.last ?? ""
        if let range = base.range(of: #"-core[0-9]+$"#, options: .regularExpression) { base.removeSubrange(range) }
        var n = try ledger.cores().filter { $0.tag != nil }.count + 1
        func name(_ n: Int) -> String { base.isEmpty ? "core\(n)" : "\(base)-core\(n)" }
        while tags.contains(name(n)) || git.resolve("refs/heads/autoresearch/\(name(n))") != nil { n += 1 }
        return name(n)
    }

    /// autoresearch.toml's text with the `[fixed]` hash of `path` changed from `old` to `new` (the rest as it was).
    static func replacingFixedHash(in text: String, path: String, old: String, new: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        guard let i = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(tomlString(path)) && $0.contains(old) }) else {
            throw HarnessError.other("cannot find the [fixed] line of \(path) in autoresearch.toml (expected `\(tomlString(path)) = \"\(old.prefix(12))...\"`)")
        }
        lines[i] = lines[i].replacingOccurrences(of: old, with: new)
        return lines.joined(separator: "\n")
    }
}
