import Foundation
import Testing

/// The Harness is rooms (folders of Sources/Harness), and its dependencies point one way: a room may name the types
/// of the rooms below it only. Swift has one namespace per module, so the compiler does not see folders; this test
/// does: it reads every file, finds the types each room declares, and refuses a reference that points up (or a file
/// outside every room). The table is ARCHITECTURE.md's, in order.
@Suite struct RoomsTests {
    /// Each room and the rooms it may use (everything it uses must be listed; the list must stay acyclic).
    static let allowed: [(room: String, uses: Set<String>)] = [
        ("Configuration", []),
        ("Ledger", []),
        ("Decision", ["Configuration", "Ledger"]),
        ("Execution", ["Configuration"]),
        ("Workspace", ["Configuration", "Ledger", "Execution"]),
        ("Reports", ["Configuration", "Ledger", "Decision", "Execution", "Workspace"]),
        ("Integrations", ["Configuration", "Ledger", "Workspace"]),
        ("Optuna", ["Configuration", "Execution", "Workspace"]),
        ("Loop", ["Configuration", "Ledger", "Decision", "Execution", "Workspace", "Reports", "Integrations", "Optuna"]),
        ("MetaLoop", ["Configuration", "Ledger", "Decision", "Execution", "Workspace", "Reports", "Loop"]),
        ("Benchmarks", ["Configuration", "Ledger", "Decision", "Execution", "Workspace", "Reports", "Optuna", "Loop", "MetaLoop"]),
    ]

    static let harness = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Harness")

    /// `line` without its comment and the text of its string literals (a message naming a type is not a use of it).
    static func code<S: StringProtocol>(_ line: S) -> String {
        var out = "", inString = false, escaped = false, previous: Character = " "
        for c in line {
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false; out.append(c) }
                continue
            }
            if c == "/", previous == "/" { out.removeLast(); break }
            if c == "\"" { inString = true }
            out.append(c); previous = c
        }
        return out
    }

    /// Room → file name → source without comments.
    static func sources() throws -> [String: [String: String]] {
        var rooms: [String: [String: String]] = [:]
        let fm = FileManager.default
        for entry in try fm.contentsOfDirectory(atPath: harness.path) {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: harness.appendingPathComponent(entry).path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for file in try fm.contentsOfDirectory(atPath: harness.appendingPathComponent(entry).path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: harness.appendingPathComponent(entry).appendingPathComponent(file), encoding: .utf8)
                rooms[entry, default: [:]][file] = text.split(separator: "\n", omittingEmptySubsequences: false).map { code($0) }.joined(separator: "\n")
            }
        }
        return rooms
    }

    /// The type names declared at the top level of `source` (struct, enum, class, actor, protocol, typealias).
    static func declarations(_ source: String) -> [String] {
        let keywords: Set<String> = ["struct", "enum", "class", "actor", "protocol", "typealias"]
        return source.split(separator: "\n").compactMap { line -> String? in
            guard let first = line.first, !first.isWhitespace else { return nil }
            let words = line.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "<" || $0 == "{" || $0 == "=" })
            guard let k = words.firstIndex(where: { keywords.contains(String($0)) }), k + 1 < words.count,
                  words[..<k].allSatisfy({ ["public", "final", "private", "fileprivate", "internal"].contains(String($0)) || $0.hasPrefix("@") })
            else { return nil }
            return String(words[k + 1])
        }
    }

    /// Capitalised identifiers in `source`.
    static func names(_ source: String) -> Set<String> {
        var names = Set<String>(), current = ""
        for c in source + " " {
            if c.isLetter || c.isNumber || c == "_" { current.append(c); continue }
            if let first = current.first, first.isUppercase { names.insert(current) }
            current = ""
        }
        return names
    }

    @Test func everyFileIsInARoomAndDependenciesPointDown() throws {
        let loose = try FileManager.default.contentsOfDirectory(atPath: Self.harness.path).filter { $0.hasSuffix(".swift") }
        #expect(loose.isEmpty, "files outside every room: \(loose)")
        let rooms = try Self.sources()
        let table = Dictionary(uniqueKeysWithValues: Self.allowed.map { ($0.room, $0.uses) })
        #expect(Set(rooms.keys) == Set(table.keys), "rooms on disk \(rooms.keys.sorted()) against the table \(table.keys.sorted())")
        var owner: [String: String] = [:]
        for (room, files) in rooms { for source in files.values { for name in Self.declarations(source) { owner[name] = room } } }
        var upward: [String] = []
        for (room, files) in rooms {
            for (file, source) in files.sorted(by: { $0.key < $1.key }) {
                for name in Self.names(source).sorted() {
                    guard let other = owner[name], other != room, !(table[room]?.contains(other) ?? false) else { continue }
                    upward.append("\(room)/\(file) uses \(name) of \(other)")
                }
            }
        }
        #expect(upward.isEmpty, "dependencies that point up:\n\(upward.joined(separator: "\n"))")
    }

    @Test func theTableIsInOrderAndACheckCanFail() {
        // Each room uses only rooms listed before it: the order is a topological one, so there is no cycle.
        for (i, entry) in Self.allowed.enumerated() {
            let earlier = Set(Self.allowed[..<i].map(\.room))
            #expect(entry.uses.isSubset(of: earlier), "\(entry.room) uses \(entry.uses.subtracting(earlier)) listed after it")
        }
        // The scanner finds declarations and uses: a Ledger file naming ResearchLoop would be caught.
        #expect(Self.declarations("public actor ResearchLoop {\n}\nstruct X: Y {}\n  struct Nested {}\n") == ["ResearchLoop", "X"])
        #expect(Self.names(Self.code("let loop: ResearchLoop = x // Comment")) == ["ResearchLoop"])
        #expect(Self.code(#"throw E("the Decision \"quoted\" here") // Ledger"#) == #"throw E("") "#)
    }
}
