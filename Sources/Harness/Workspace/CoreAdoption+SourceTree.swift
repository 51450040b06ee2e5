import AutoResearchCore
import SubjectKit
import Foundation
import SearchResearcher

/// How one kernel file of an adopted core differs from the copy it replaces.
public struct CoreFileChange: Sendable, Equatable {
    public var path: String
    /// Tunables whose value changed, as `NAME old → new`.
    public var tunables: [String]
    /// Lines only in the new file and only in the old one (a multiset difference, not a minimal diff).
    public var added: Int
    public var removed: Int

    /// "Sources/TensorCore/Ops/MatMul.swift: MATMUL_GRAIN 64 → 128; +1 −1 lines".
    public var summary: String {
        "\(path): " + (tunables.isEmpty ? "" : tunables.joined(separator: ", ") + "; ") + "+\(added) −\(removed) lines"
    }

    /// The change from `old` to `new` contents of `path`.
    static func between(old: String, new: String, path: String) -> CoreFileChange {
        let before = (try? HyperparameterBlock.parse(old, path: path).parameters) ?? []
        let after = (try? HyperparameterBlock.parse(new, path: path).parameters) ?? []
        let tunables = after.compactMap { p -> String? in
            guard let o = before.first(where: { $0.name == p.name }) else { return "\(p.name) (new) = \(p.literal)" }
            return o.literal == p.literal ? nil : "\(p.name) \(o.literal) → \(p.literal)"
        }
        var counts: [Substring: Int] = [:]
        for line in old.split(separator: "\n", omittingEmptySubsequences: false) { counts[line, default: 0] += 1 }
        var added = 0
        for line in new.split(separator: "\n", omittingEmptySubsequences: false) {
            if let c = counts[line], c > 0 { counts[line] = c - 1 } else { added += 1 }
        }
        return CoreFileChange(path: path, tunables: tunables, added: added, removed: counts.values.reduce(0, +))
    }
}

extension AdoptableCore {
    /// The provenance file `adopt-core --into-source-tree` writes beside the GPT template; `init --template gpt`
    /// copies it into the new workspace and records it in the workspace's ledger.
    public static let provenanceFile = "core-source.json"

    /// How the source tree's `Sources/TensorCore` (what `init` vendors into new GPT and tensorcore workspaces)
    /// differs from this core; empty when it is this core already. Nothing is written.
    /// - Throws: `HarnessError.other` when the rest of the source tree's core differs from the one the kernels were tuned against.
    public func changes(inSourceTree sourceRoot: URL) throws -> [CoreFileChange] {
        var tree: [String: String] = [:]
        for path in coreFixed.keys {
            tree[path] = FileManager.default.contents(atPath: sourceRoot.appendingPathComponent(path).path).map { sha256Hex($0) } ?? "missing"
        }
        let mismatched = coreMismatches(tree)
        guard mismatched.isEmpty else {
            throw HarnessError.other("the rest of the tensor core differs between \(workspace.path) and the source tree \(sourceRoot.path) (\(mismatched.prefix(3).joined(separator: ", "))\(mismatched.count > 3 ? ", ..." : "")): its kernels were tuned against another version of the core")
        }
        return files.keys.sorted().compactMap { path in
            let old = FileManager.default.contents(atPath: sourceRoot.appendingPathComponent(path).path) ?? Data()
            guard old != files[path] else { return nil }
            return CoreFileChange.between(old: String(decoding: old, as: UTF8.self), new: String(decoding: files[path]!, as: UTF8.self), path: path)
        }
    }

    /// Writes this core's kernel files into the source tree's `Sources/TensorCore` — the product's own engine, and
    /// what `init` vendors into every new GPT and tensorcore workspace — and its provenance into
    /// `Templates/gpt/core-source.json`. Returns what changed (empty: the tree has this core already; nothing written).
    @discardableResult
    public func adoptIntoSourceTree(_ sourceRoot: URL) throws -> [CoreFileChange] {
        let changes = try changes(inSourceTree: sourceRoot)
        guard !changes.isEmpty else { return [] }
        let template = sourceRoot.appendingPathComponent("Templates/gpt")
        guard FileManager.default.fileExists(atPath: template.appendingPathComponent("template.toml").path) else {
            throw HarnessError.other("\(sourceRoot.path) has no Templates/gpt/template.toml: is it the AutoResearch source tree?")
        }
        for change in changes { try files[change.path]!.write(to: sourceRoot.appendingPathComponent(change.path)) }
        try AdoptableCore.encoder.encode(record(commit: "", tag: nil))
            .write(to: template.appendingPathComponent(AdoptableCore.provenanceFile))
        return changes
    }

    static var encoder: JSONEncoder {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .prettyPrinted]; e.dateEncodingStrategy = .iso8601; return e
    }
}

extension Workspace {
    /// After `init`: when the template brought a `core-source.json` (its core was adopted from a tensorcore
    /// workspace), records it in the new workspace's ledger against the baseline commit.
    static func recordTemplateCore(in workspace: Workspace) throws {
        let url = workspace.root.appendingPathComponent(AdoptableCore.provenanceFile)
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        let decoder = JSONDecoder(); decoder.dateDecodingStrategy = .iso8601
        guard var record = try? decoder.decode(CoreRecord.self, from: data) else {
            throw HarnessError.other("the template's \(AdoptableCore.provenanceFile) is not a core provenance record; restore it from git or remove it")
        }
        record.id = nil
        record.commit = try workspace.git.revParse("HEAD")
        try Ledger(url: workspace.ledgerURL).insertCore(record, tag: nil)
    }

    /// The core a tag runs on: the latest recorded core whose commit is the tag's baseline or an ancestor of it.
    public func core(for tag: TagRecord, in ledger: Ledger) throws -> CoreRecord? {
        for core in try ledger.cores().reversed() {
            if core.commit == tag.baselineCommit || git.attempt(["merge-base", "--is-ancestor", core.commit, tag.baselineCommit]) != nil {
                return core
            }
        }
        return nil
    }
}
