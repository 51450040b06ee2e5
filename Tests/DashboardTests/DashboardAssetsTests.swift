import AutoResearchCore
import Foundation
import Testing
@testable import Dashboard

/// The dashboard's scripts and stylesheet are real files (Sources/Dashboard/Assets), embedded in the binary: each
/// script parses (`node --check`, Node.js from the machine), the served script is exactly the files joined, and
/// the stylesheet's blocks balance.
@Suite struct DashboardAssetsTests {
    static let node = ["/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let assets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Dashboard/Assets")

    @Test(.enabled(if: node != nil, "needs Node.js (apt-get install nodejs)"))
    func everyScriptParses() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dashboard-js-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = DashboardAssets.scripts.map { ($0.name, Data($0.bytes)) } + [("app.js", Data(DashboardAssets.script.utf8))]
        for (name, data) in files {
            let url = folder.appendingPathComponent(name)
            try data.write(to: url)
            let result = try ProcessRunner.capture([Self.node!, "--check", url.path], in: folder)
            #expect(result.status == 0, "\(name) does not parse: \(result.stderr)")
        }
        // A script with a syntax error is refused: the check can fail.
        let broken = folder.appendingPathComponent("broken.js")
        try "const AR = (() => {".write(to: broken, atomically: true, encoding: .utf8)
        #expect(try ProcessRunner.capture([Self.node!, "--check", broken.path], in: folder).status != 0)
    }

    @Test func theServedFilesAreTheSourceFiles() throws {
        for (name, bytes) in DashboardAssets.scripts {
            #expect(try Data(contentsOf: Self.assets.appendingPathComponent(name)) == Data(bytes), "\(name) is not what the binary embeds")
        }
        #expect(try String(contentsOf: Self.assets.appendingPathComponent("app.css"), encoding: .utf8) == DashboardAssets.style)
        #expect(DashboardAssets.script.hasPrefix("// The dashboard's script, part 1"))
    }

    @Test func theStylesheetsBlocksBalance() {
        var depth = 0, lowest = 0, inComment = false
        let css = Array(DashboardAssets.style)
        var i = 0
        while i < css.count {
            if !inComment, css[i] == "/", i + 1 < css.count, css[i + 1] == "*" { inComment = true; i += 2; continue }
            if inComment, css[i] == "*", i + 1 < css.count, css[i + 1] == "/" { inComment = false; i += 2; continue }
            if !inComment { if css[i] == "{" { depth += 1 } else if css[i] == "}" { depth -= 1; lowest = min(lowest, depth) } }
            i += 1
        }
        #expect(depth == 0 && lowest == 0 && !inComment)
        #expect(DashboardAssets.style.contains(".lineage .node.incumbent { color: #1e8449; }"))
    }
}
