import AutoResearchCore
import Foundation
import SearchResearcher

/// The Optuna researcher's search space, drawn from the hyperparameter blocks of the editable files and the
/// template's ideas, and the mapping between a configuration (a trial's params) and the editable files.
///
/// The rule, one dimension per parameter (the first file whose block has a name owns it):
/// - a `choices:` comment: categorical over the choices;
/// - a boolean: categorical over false, true;
/// - an integer with a `range:`: an integer dimension; a real with a `range:`: a real one. Either is on a log scale
///   when the range's low end is positive and the range spans at least two decades (high / low ≥ 100), or the name
///   ends in RATE, LR, EPS or DECAY;
/// - `SEED` (the harness varies it), strings without choices and numbers without a range are left out: there is
///   nothing to search between.
/// Each idea of ideas.toml is one more categorical dimension, `idea:<name>`, over "false" (off) and "true" (on).
public struct OptunaSpace: Sendable, Equatable {
    public enum Dimension: Sendable, Equatable {
        case real(low: Double, high: Double, log: Bool)
        case integer(low: Int, high: Int, log: Bool)
        case categorical([HyperparameterValue])
    }

    /// Dimensions by name (a parameter's name, or `idea:<name>`), in file order then idea order.
    public var names: [String]
    public var dimensions: [String: Dimension]
    /// Which editable file each parameter lives in.
    public var owners: [String: String]
    public var ideas: [Idea]

    /// Names whose values move by ratios: the log-scale rule's suffixes.
    static let logSuffixes = ["RATE", "LR", "EPS", "DECAY"]

    /// The space of `files` (contents by path, in `paths` order) and `ideas`.
    /// - Throws: `ResearcherError.failed` for a bad annotation; `.nothingLeftToTry` when nothing is searchable.
    public static func make(files: [String: String], paths: [String], ideas: [Idea]) throws -> OptunaSpace {
        var space = OptunaSpace(names: [], dimensions: [:], owners: [:], ideas: ideas)
        for path in paths {
            guard let source = files[path] else { continue }
            let block: HyperparameterBlock
            do { block = try HyperparameterBlock.parse(source, path: path) } catch SearchError.noHyperparameterBlock {
                continue
            } catch { throw ResearcherError.failed("\(error)") }
            for parameter in block.parameters where space.owners[parameter.name] == nil {
                guard let dimension = dimension(of: parameter) else { continue }
                space.names.append(parameter.name)
                space.dimensions[parameter.name] = dimension
                space.owners[parameter.name] = path
            }
        }
        for idea in ideas {
            space.names.append(idea.key)
            space.dimensions[idea.key] = .categorical([.bool(false), .bool(true)])
        }
        guard !space.names.isEmpty else {
            throw ResearcherError.nothingLeftToTry("no editable file has a hyperparameter with a range or choices, and there are no ideas: Optuna has nothing to search")
        }
        return space
    }

    /// The dimension of one parameter by the rule above; nil when it is left out.
    static func dimension(of p: Hyperparameter) -> Dimension? {
        if MoveGenerator.frozen.contains(p.name) { return nil }
        if let choices = p.choices, !choices.isEmpty { return .categorical(choices) }
        switch p.value {
        case .bool: return .categorical([.bool(false), .bool(true)])
        case .string: return nil
        case .int:
            guard let r = p.range else { return nil }
            let low = Int(r.lowerBound.rounded(.up)), high = Int(r.upperBound.rounded(.down))
            guard low < high else { return nil }
            return .integer(low: low, high: high, log: low >= 1 && isLog(p.name, low: Double(low), high: Double(high)))
        case .double:
            guard let r = p.range, r.lowerBound < r.upperBound else { return nil }
            return .real(low: r.lowerBound, high: r.upperBound, log: isLog(p.name, low: r.lowerBound, high: r.upperBound))
        }
    }

    static func isLog(_ name: String, low: Double, high: Double) -> Bool {
        low > 0 && (high / low >= 100 || logSuffixes.contains { name.hasSuffix($0) })
    }

    /// The space as the sidecar's `init` takes it (categorical choices as labels, see `label(_:)`).
    public var json: [String: Any] {
        var out: [String: Any] = [:]
        for name in names {
            switch dimensions[name]! {
            case .real(let low, let high, let log): out[name] = ["type": "float", "low": low, "high": high, "log": log]
            case .integer(let low, let high, let log): out[name] = ["type": "int", "low": low, "high": high, "log": log]
            case .categorical(let choices): out[name] = ["type": "categorical", "choices": choices.map(Self.label)]
            }
        }
        return out
    }

    /// A categorical choice as the study sees it: a string ("relu2", "true", "4"), so it goes through JSON unchanged.
    static func label(_ v: HyperparameterValue) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .string(let s): return s
        }
    }

    /// A value in the study: a label for a categorical dimension, else the number.
    func studyValue(_ v: HyperparameterValue, of name: String) -> Any? {
        if case .categorical = dimensions[name] { return Self.label(v) }
        return v.number
    }

    /// A JSON number as a Double (JSONSerialization gives Int or Double).
    static func number(_ raw: Any) -> Double? {
        if raw is Bool { return nil }
        if let d = raw as? Double { return d }
        if let i = raw as? Int { return Double(i) }
        return (raw as? NSNumber)?.doubleValue
    }

    /// The configuration `files` hold: each parameter's value and each idea on or off (JSON values).
    public func params(of files: [String: String]) -> [String: Any] {
        var out: [String: Any] = [:]
        var blocks: [String: HyperparameterBlock] = [:]
        for (name, path) in owners {
            if blocks[path] == nil, let source = files[path] { blocks[path] = try? HyperparameterBlock.parse(source, path: path) }
            if let p = blocks[path]?.parameter(named: name) { out[name] = studyValue(p.value, of: name) }
        }
        for idea in ideas { out[idea.key] = Self.isOn(idea, in: files) ? "true" : "false" }
        return out
    }

    /// An idea is on in `files` when it cannot be applied there but its reverse (each replace back to its search) can.
    static func isOn(_ idea: Idea, in files: [String: String]) -> Bool {
        guard case .notApplicable = idea.apply(to: files) else { return false }
        if case .applied = reverse(idea).apply(to: files) { return true }
        return false
    }

    static func reverse(_ idea: Idea) -> Idea {
        Idea(name: idea.name, description: idea.description, file: idea.file,
             edits: idea.edits.reversed().map { Idea.Edit(file: $0.file, search: $0.replace, replace: $0.search) })
    }

    /// `files` with the configuration `params` (a trial's, JSON values) written in: ideas switched on or off first,
    /// then each parameter's value in its block, reals to 4 significant digits. Returns the new files and the
    /// changes in words ("LR 3e-05 → 0.0123", "idea gelu on").
    public func apply(_ params: [String: Any], to files: [String: String]) -> (files: [String: String], changes: [String]) {
        var out = files
        var changes: [String] = []
        for idea in ideas {
            guard let label = params[idea.key] as? String else { continue }
            let want = label == "true"
            guard want != Self.isOn(idea, in: out) else { continue }
            if case .applied(let edited) = (want ? idea : Self.reverse(idea)).apply(to: out) {
                out.merge(edited) { $1 }
                changes.append("idea \(idea.name) \(want ? "on" : "off")")
            }
        }
        for name in names where owners[name] != nil {
            guard let path = owners[name], let source = out[path], let raw = params[name],
                  let block = try? HyperparameterBlock.parse(source, path: path), let p = block.parameter(named: name),
                  let value = Self.value(raw, like: p.value, dimension: dimensions[name]!), value != p.value else { continue }
            out[path] = block.replacing(name, with: value, in: source)
            changes.append("\(name) \(Self.shown(p.literal)) → \(Self.shown(p.literal(for: value)))")
        }
        return (out, changes)
    }

    /// A trial's JSON value as a literal value of the parameter's type.
    static func value(_ raw: Any, like current: HyperparameterValue, dimension: Dimension) -> HyperparameterValue? {
        if case .categorical(let choices) = dimension {
            guard let label = raw as? String else { return nil }
            return choices.first { Self.label($0) == label }
        }
        guard let number = number(raw), number.isFinite else { return nil }
        switch current {
        case .int: return .int(Int(number.rounded()))
        case .double: return .double(roundedSignificant(number, digits: 4))
        default: return nil
        }
    }

    static func roundedSignificant(_ v: Double, digits: Int) -> Double {
        guard v != 0, v.isFinite else { return v }
        let text = String(format: "%.\(digits - 1)e", v)
        return Double(text) ?? v
    }

    static func shown(_ literal: String) -> String {
        if literal.count >= 2, let q = literal.first, q == "\"" || q == "'", literal.last == q { return String(literal.dropFirst().dropLast()) }
        return literal
    }
}
