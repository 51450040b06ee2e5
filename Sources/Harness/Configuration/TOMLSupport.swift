import Foundation
import TOMLKit

// MARK: - TOML helpers

/// Reads typed keys from a TOML table and names the full key (`budget.seconds`) in every error.
struct TableReader {
    let table: TOMLTable
    let prefix: String

    func key(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

    func section(_ name: String) throws -> TableReader {
        guard let value = table[name] else {
            throw HarnessError.manifestKey(key: key(name), problem: "is missing; add a [\(key(name))] table.")
        }
        guard let sub = value.table else {
            throw HarnessError.manifestKey(key: key(name), problem: "must be a table ([\(key(name))]).")
        }
        return TableReader(table: sub, prefix: key(name))
    }

    func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else {
            throw HarnessError.manifestKey(key: key(name), problem: "is missing; it must be a string.")
        }
        guard !value.isEmpty else { throw HarnessError.manifestKey(key: key(name), problem: "is empty.") }
        return value
    }

    func optionalString(_ name: String) throws -> String? {
        guard let value = table[name] else { return nil }
        guard let string = value.string else {
            throw HarnessError.manifestKey(key: key(name), problem: "must be a string.")
        }
        return string
    }

    func strings(_ name: String) throws -> [String] {
        guard let value = try optionalStrings(name) else {
            throw HarnessError.manifestKey(key: key(name), problem: "is missing; it must be an array of strings.")
        }
        return value
    }

    func optionalStrings(_ name: String) throws -> [String]? {
        guard let value = table[name] else { return nil }
        guard let array = value.array else {
            throw HarnessError.manifestKey(key: key(name), problem: "must be an array of strings.")
        }
        return try array.map {
            guard let s = $0.string else { throw HarnessError.manifestKey(key: key(name), problem: "must be an array of strings.") }
            return s
        }
    }

    func optionalNumber(_ name: String) throws -> Double? {
        guard let value = table[name] else { return nil }
        if let d = value.double { return d }
        if let i = value.int { return Double(i) }
        throw HarnessError.manifestKey(key: key(name), problem: "must be a number.")
    }

    func optionalBool(_ name: String) throws -> Bool? {
        guard let value = table[name] else { return nil }
        guard let b = value.bool else { throw HarnessError.manifestKey(key: key(name), problem: "must be true or false.") }
        return b
    }

    func optionalInt(_ name: String) throws -> Int? {
        guard let value = table[name] else { return nil }
        guard let i = value.int else { throw HarnessError.manifestKey(key: key(name), problem: "must be an integer.") }
        return i
    }
}

/// A TOML basic string with the escapes TOML requires.
func tomlString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += String(format: "\\u%04X", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

func tomlArray(_ items: [String]) -> String { "[" + items.map(tomlString).joined(separator: ", ") + "]" }

/// A TOML float that reads back exactly (`300.0`, `0.002`).
func tomlNumber(_ d: Double) -> String {
    let s = "\(d)"
    return s.contains(".") || s.contains("e") ? s : s + ".0"
}
