import Foundation

/// One key of a manifest table, as data: its TOML name and type, what it means, its default, how it is read (its
/// type and its check, with the error that names the key) and how it is written. A section's keys are one list
/// beside its struct (`NoiseSettings.keys`, `EvaluationSettings.keys`, …); `Manifest.parse`, the commented
/// `Manifest.render` and the README's table of keys (`ManifestSchema.referenceTable`, checked by a test) are all
/// made from those lists, so a key is declared once.
struct ManifestKey<Section> {
    /// The TOML key (`min_delta`).
    let name: String
    /// Its TOML type, as the reference table shows it (`number`, `integer`, `string`, `boolean`, `array of strings`,
    /// `"a" | "b"`).
    let type: String
    /// What it means, one sentence or two; the rendered manifest's comment above it.
    let doc: String
    /// Reads the key into `section` when the table has it: type-checked, then checked.
    /// - Throws: `HarnessError.manifestKey` naming the key (`noise.min_delta`) and what is wrong.
    let read: (TableReader, inout Section) throws -> Void
    /// The TOML value to write for `section`, or nil to leave the key out.
    let value: (Section) -> String?
}

extension ManifestKey {
    /// An integer key; `check` (with `problem` as the error) runs on the value read.
    static func int(_ name: String, _ path: WritableKeyPath<Section, Int>, _ doc: String,
                    check: @escaping (Int) -> Bool = { _ in true }, problem: String = "") -> ManifestKey {
        ManifestKey(name: name, type: "integer", doc: doc, read: { reader, section in
            guard let v = try reader.optionalInt(name) else { return }
            guard check(v) else { throw HarnessError.manifestKey(key: reader.key(name), problem: problem) }
            section[keyPath: path] = v
        }, value: { String($0[keyPath: path]) })
    }

    /// An optional integer key, left out when nil.
    static func optionalInt(_ name: String, _ path: WritableKeyPath<Section, Int?>, _ doc: String,
                            check: @escaping (Int) -> Bool = { _ in true }, problem: String = "") -> ManifestKey {
        ManifestKey(name: name, type: "integer", doc: doc, read: { reader, section in
            guard let v = try reader.optionalInt(name) else { return }
            guard check(v) else { throw HarnessError.manifestKey(key: reader.key(name), problem: problem) }
            section[keyPath: path] = v
        }, value: { $0[keyPath: path].map(String.init) })
    }

    /// A number key (an integer is read as a number).
    static func number(_ name: String, _ path: WritableKeyPath<Section, Double>, _ doc: String,
                       check: @escaping (Double) -> Bool = { _ in true }, problem: String = "") -> ManifestKey {
        ManifestKey(name: name, type: "number", doc: doc, read: { reader, section in
            guard let v = try reader.optionalNumber(name) else { return }
            guard check(v) else { throw HarnessError.manifestKey(key: reader.key(name), problem: problem) }
            section[keyPath: path] = v
        }, value: { tomlNumber($0[keyPath: path]) })
    }

    /// An optional number key, left out when nil.
    static func optionalNumber(_ name: String, _ path: WritableKeyPath<Section, Double?>, _ doc: String,
                               check: @escaping (Double) -> Bool = { _ in true }, problem: String = "") -> ManifestKey {
        ManifestKey(name: name, type: "number", doc: doc, read: { reader, section in
            guard let v = try reader.optionalNumber(name) else { return }
            guard check(v) else { throw HarnessError.manifestKey(key: reader.key(name), problem: problem) }
            section[keyPath: path] = v
        }, value: { $0[keyPath: path].map(tomlNumber) })
    }

    /// A boolean key.
    static func bool(_ name: String, _ path: WritableKeyPath<Section, Bool>, _ doc: String) -> ManifestKey {
        ManifestKey(name: name, type: "boolean", doc: doc, read: { reader, section in
            if let v = try reader.optionalBool(name) { section[keyPath: path] = v }
        }, value: { String($0[keyPath: path]) })
    }

    /// A string key; `problem` gets the value and returns what is wrong with it, or nil.
    static func string(_ name: String, _ path: WritableKeyPath<Section, String>, _ doc: String,
                       problem: @escaping (String) -> String? = { _ in nil }) -> ManifestKey {
        ManifestKey(name: name, type: "string", doc: doc, read: { reader, section in
            guard let v = try reader.optionalString(name) else { return }
            if let problem = problem(v) { throw HarnessError.manifestKey(key: reader.key(name), problem: problem) }
            section[keyPath: path] = v
        }, value: { tomlString($0[keyPath: path]) })
    }

    /// An optional string key, left out when nil; `check` gets the value and returns the problem, or nil.
    static func optionalString(_ name: String, _ path: WritableKeyPath<Section, String?>, _ doc: String,
                               problem: @escaping (String) -> String? = { _ in nil }) -> ManifestKey {
        ManifestKey(name: name, type: "string", doc: doc, read: { reader, section in
            guard let v = try reader.optionalString(name) else { return }
            if let problem = problem(v) { throw HarnessError.manifestKey(key: reader.key(name), problem: problem) }
            section[keyPath: path] = v
        }, value: { $0[keyPath: path].map(tomlString) })
    }

    /// An array of strings, left out when empty (unless `writeEmpty`); `problem` gets each item and returns what is
    /// wrong with it, or nil.
    static func strings(_ name: String, _ path: WritableKeyPath<Section, [String]>, _ doc: String, writeEmpty: Bool = false,
                        problem: @escaping (String) -> String? = { _ in nil }) -> ManifestKey {
        ManifestKey(name: name, type: "array of strings", doc: doc, read: { reader, section in
            guard let v = try reader.optionalStrings(name) else { return }
            if let bad = v.lazy.compactMap(problem).first { throw HarnessError.manifestKey(key: reader.key(name), problem: bad) }
            section[keyPath: path] = v
        }, value: { $0[keyPath: path].isEmpty && !writeEmpty ? nil : tomlArray($0[keyPath: path]) })
    }

    /// One of an enumeration's raw values; `problem` gets the value read and says what to use instead.
    static func choice<E: RawRepresentable & CaseIterable>(_ name: String, _ path: WritableKeyPath<Section, E>, _ doc: String,
                                                           problem: @escaping (String) -> String) -> ManifestKey where E.RawValue == String {
        ManifestKey(name: name, type: E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " \\| "), doc: doc, read: { reader, section in
            guard let v = try reader.optionalString(name) else { return }
            guard let chosen = E(rawValue: v) else { throw HarnessError.manifestKey(key: reader.key(name), problem: problem(v)) }
            section[keyPath: path] = chosen
        }, value: { tomlString($0[keyPath: path].rawValue) })
    }

    /// A string the table must have, not empty; `problem` gets the value and returns what is wrong with it, or nil.
    static func requiredString(_ name: String, _ path: WritableKeyPath<Section, String>, _ doc: String,
                               problem: @escaping (String) -> String? = { _ in nil }) -> ManifestKey {
        ManifestKey(name: name, type: "string (required)", doc: doc, read: { reader, section in
            let v = try reader.string(name)
            if let problem = problem(v) { throw HarnessError.manifestKey(key: reader.key(name), problem: problem) }
            section[keyPath: path] = v
        }, value: { tomlString($0[keyPath: path]) })
    }

    /// An array of strings the table must have; `problem` gets the whole array and returns what is wrong, or nil.
    static func requiredStrings(_ name: String, _ path: WritableKeyPath<Section, [String]>, _ doc: String,
                                problem: @escaping ([String]) -> String? = { _ in nil }) -> ManifestKey {
        ManifestKey(name: name, type: "array of strings (required)", doc: doc, read: { reader, section in
            let v = try reader.strings(name)
            if let problem = problem(v) { throw HarnessError.manifestKey(key: reader.key(name), problem: problem) }
            section[keyPath: path] = v
        }, value: { tomlArray($0[keyPath: path]) })
    }

    /// A string that must be one of `choices`; `problem` gets the value read and says what to use instead.
    static func oneOf(_ name: String, _ path: WritableKeyPath<Section, String>, _ choices: [String], _ doc: String,
                      problem: @escaping (String) -> String) -> ManifestKey {
        ManifestKey(name: name, type: choices.map { "\"\($0)\"" }.joined(separator: " \\| "), doc: doc, read: { reader, section in
            guard let v = try reader.optionalString(name) else { return }
            guard choices.contains(v) else { throw HarnessError.manifestKey(key: reader.key(name), problem: problem(v)) }
            section[keyPath: path] = v
        }, value: { tomlString($0[keyPath: path]) })
    }

    /// A key the harness reads (type-checked) and no longer uses: accepted in older manifests, never written.
    static func retired(_ name: String, type: String, _ doc: String) -> ManifestKey {
        ManifestKey(name: name, type: type, doc: doc, read: { reader, _ in _ = try reader.optionalNumber(name) }, value: { _ in nil })
    }
}

/// Reading, writing and documenting a section from its keys.
enum ManifestSchema {
    /// Reads every key of `keys` that `reader`'s table has into `section`.
    static func read<Section>(_ keys: [ManifestKey<Section>], from reader: TableReader, into section: inout Section) throws {
        for key in keys { try key.read(reader, &section) }
    }

    /// The section's lines: `[header]` (none for the top level, nil), an optional comment, then each written key with
    /// its doc as a comment.
    static func render<Section>(_ header: String?, comment: [String] = [], _ keys: [ManifestKey<Section>], _ section: Section) -> [String] {
        var lines = (header.map { ["[\($0)]"] } ?? []) + comment.map { "# " + $0 }
        for key in keys {
            guard let value = key.value(section) else { continue }
            lines += wrap(key.doc).map { "# " + $0 }
            lines.append("\(key.name) = \(value)")
        }
        return lines
    }

    /// `text` in lines of at most 110 characters.
    static func wrap(_ text: String, width: Int = 110) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// One section of the reference: its table name, a sentence, and its keys' rows (key, type, default, meaning).
    struct Table {
        var name: String
        var about: String
        var rows: [(key: String, type: String, value: String, doc: String)]
    }

    static func table<Section>(_ name: String, _ about: String, _ keys: [ManifestKey<Section>], defaults: Section) -> Table {
        Table(name: name, about: about, rows: keys.map { ($0.name, $0.type, $0.type.hasSuffix("(required)") ? "—" : $0.value(defaults) ?? "—", $0.doc) })
    }

    /// Every section the schema declares, in the order a manifest has them.
    static var tables: [Table] {
        [table("metric", "The metric that decides.", Manifest.metricKeys, defaults: Manifest.blank),
         table("budget", "How long a training run may take.", Manifest.Budget.keys, defaults: .init()),
         table("noise", "How a real improvement is told from noise (`Decision`).", NoiseSettings.keys, defaults: .init()),
         table("evaluation", "Who scores a run, and the limits of the evaluation processes.", EvaluationSettings.keys, defaults: .init()),
         table("sandbox", "How builds and runs are confined.", SandboxSettings.keys, defaults: .init()),
         table("swarm", "What a swarm's researchers build on (not part of the tag's hash).", SwarmPolicy.keys, defaults: .init()),
         table("meta", "The meta-loop, `run --meta` (not part of the tag's hash).", MetaSettings.keys, defaults: .init()),
         table("python", "A Python subject's environment (written by `init`).", PythonSettings.keys, defaults: .init()),
         table("slurm", "The Slurm slots' jobs (`jobs` of them run at once).", SlurmResources.keys, defaults: .init()),
         table("researcher", "Who proposes the changes (not part of the tag's hash).", ResearcherSection.keys, defaults: .init()),
         table("researcher.limits", "An LLM or command researcher's limits per experiment and per session.", ResearcherSection.limitKeys, defaults: .init()),
         table("researcher.retry", "Retries of an LLM API call.", ResearcherSection.retryKeys, defaults: .init())]
    }

    /// The README's table of keys, as Markdown: a row per key, `section.key`, its type, its default, its meaning.
    static var referenceTable: String {
        var lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
        for row in ManifestSchema.table("", "", Manifest.topLevelKeys, defaults: Manifest.blank).rows {
            lines.append("| `\(row.key)` | \(row.type) | `\(row.value.replacingOccurrences(of: "|", with: "\\|"))` | \(row.doc.replacingOccurrences(of: "|", with: "\\|")) |")
        }
        for table in tables {
            for row in table.rows {
                let doc = row.doc.replacingOccurrences(of: "|", with: "\\|")
                lines.append("| `\(table.name).\(row.key)` | \(row.type) | `\(row.value.replacingOccurrences(of: "|", with: "\\|"))` | \(doc) |")
            }
        }
        return lines.joined(separator: "\n")
    }
}
