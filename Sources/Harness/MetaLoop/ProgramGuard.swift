import AgentResearcher
import AutoResearchCore
import Foundation
import SearchResearcher

/// Checks a proposed program before it runs. A program steers researchers; it may never widen what they may edit,
/// raise spending caps, or change the evaluation (budget, metric, noise rules, data, build and run commands, slots).
/// Those live in autoresearch.toml, which no program can touch, so a program that *tries* (sets such a field in its
/// settings, or writes it as an assignment or a TOML table in its text) is refused and recorded as `refused`.
public enum ProgramGuard {
    /// Fields no program may set, as they appear in autoresearch.toml and `[researcher.limits]`.
    public static let protectedFields = [
        "editable", "fixed", "budget", "seconds", "tokens", "metric", "direction", "noise", "min_delta", "sigma_multiplier", "z",
        "confirmation_runs", "sigma_prior", "prior_weight", "sigma_floor", "disturbed_ratio", "disturbed_load", "disturbed_min_seconds",
        "max_disturbed", "baseline_runs", "build", "run", "data_dir", "hard_limit_factor", "slots", "slot", "slurm", "limits", "prices",
        "max_cost_per_experiment", "max_cost_per_session", "max_turns", "max_output_tokens", "max_seconds",
        "build_fix_attempts", "researcher",
    ]

    /// The longest program.md accepted, in characters (it goes into every researcher's prompt).
    public static let maxTextLength = 40_000

    /// Why `proposal` is refused, or nil when it may run.
    public static func refusal(_ proposal: ProgramProposal) -> String? {
        let settings: [String: JSONValue]
        do {
            settings = try settingsObject(proposal.draft.settings)
        } catch {
            return "its settings are not a JSON object: \(error)"
        }
        let known = Set(SearchSettings.CodingKeys.allCases.map(\.rawValue))
        for key in settings.keys.sorted() where !known.contains(key) {
            if isProtected(key) { return "it sets the protected field '\(key)'; a program cannot change the evaluation, the editable files or the spending caps" }
            return "its settings name '\(key)', which is not a search setting (known: \(known.sorted().joined(separator: ", ")))"
        }
        do {
            let decoded = try JSONDecoder().decode(SearchSettings.self, from: Data(proposal.draft.settings.utf8))
            try decoded.validate()
        } catch let error as SearchError {
            return "its settings are out of range: \(error.description)"
        } catch {
            return "its settings do not read as search settings: \(error)"
        }
        if proposal.draft.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "its program.md is empty" }
        if proposal.draft.text.count > maxTextLength {
            return "its program.md has \(proposal.draft.text.count) characters; at most \(maxTextLength) are accepted"
        }
        if let field = protectedAssignment(in: proposal.draft.text) {
            return "its program.md sets the protected field '\(field)'; a program cannot change the evaluation, the editable files or the spending caps"
        }
        if proposal.description.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "it has no description" }
        return nil
    }

    /// Whether `key` (any case, `-` or `_`, dotted or camelCase) names a protected field.
    static func isProtected(_ key: String) -> Bool {
        let snake = key.reduce(into: "") { out, c in
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c == "-" ? "_" : c) }
        }
        return snake.split(separator: ".").contains { protectedFields.contains(String($0)) }
    }

    /// The first protected field set in `text` by a line like `budget.seconds = 600`, `editable: [...]` or a table
    /// header `[budget]`; nil when there is none.
    static func protectedAssignment(in text: String) -> String? {
        for raw in text.components(separatedBy: "\n") {
            var line = raw.trimmingCharacters(in: .whitespaces)
            while let first = line.first, "-*>`".contains(first) { line = String(line.dropFirst()).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
                let name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: CharacterSet(charactersIn: "[ "))
                if isProtected(name) { return name }
                continue
            }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let name = line[..<separator].trimmingCharacters(in: CharacterSet(charactersIn: " `\"'"))
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else { continue }
            if isProtected(name) { return name }
        }
        return nil
    }

    /// `settings` (JSON text) as an object.
    static func settingsObject(_ settings: String) throws -> [String: JSONValue] {
        guard let value = JSONValue.parse(settings) else { throw HarnessError.other("it is not JSON") }
        guard let object = value.object else { throw HarnessError.other("it is \(value.text.prefix(40)), not an object") }
        return object
    }

    /// The settings as key → displayed value, for diffs (unreadable settings give an empty map).
    static func settingsMap(_ settings: String) -> [String: String] {
        guard let object = try? settingsObject(settings) else { return [:] }
        return object.mapValues { value in
            if let d = value.number { return String(format: "%g", d) }
            return value.string ?? value.text
        }
    }

    /// `settings` with every key (defaults filled in) as compact, key-sorted JSON; nil when they are not search settings.
    static func normalized(_ settings: String) -> String? {
        (try? JSONDecoder().decode(SearchSettings.self, from: Data(settings.utf8))).map(encode)
    }

    /// Settings as compact, key-sorted JSON.
    public static func encode(_ settings: SearchSettings) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(settings)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
