import AutoResearchCore
import Foundation
import Testing
@testable import Dashboard
@testable import Harness

/// The dashboard in a real headless Chromium (Debian's `chromium` and `chromedriver`, driven through Selenium by
/// scripts/browser/driver.py; scripts/browser.sh installs them). Fails, naming the script, when they are missing.
@Suite(.serialized) struct DashboardBrowserTests {
    @Test(.timeLimit(.minutes(5))) func theDashboardRendersTheLedgerAndUpdatesLive() async throws {
        let browser = try await Browser.start()
        defer { browser.quit() }
        let hostile = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> & more"
        let f = try await DashboardFixture(experiments: 40) { ledger in
            var r = try ledger.start(ExperimentRecord(tag: "demo", number: -1, parentCommit: nil, description: hostile,
                                                     researcher: "search", startedAt: Date()))
            r.status = ExperimentStatus.discard.rawValue; r.metric = 1.29; r.finishedAt = Date()
            r.hypothesis = "</pre><b>bold?</b>"; r.diff = "+<script>window.__pwned = 3</script>\n-old line\n@@ -1 +1 @@"
            try ledger.save(r)
            // An earlier tag, shown with ?tag=.
            try ledger.insert(TagRecord.recorded(tag: "earlier", manifestHash: "h", baselineCommit: "c", createdAt: Date(timeIntervalSince1970: 0)))
            for n in 0..<3 {
                var e = ExperimentRecord(tag: "earlier", number: n, parentCommit: nil, description: "earlier \(n)", researcher: "search",
                                         status: n == 0 ? .baseline : .discard, startedAt: Date(timeIntervalSince1970: 100))
                e.metric = 1.5; e.finishedAt = Date(timeIntervalSince1970: 200)
                try ledger.importExperiments([e])
            }
        }
        defer { Task { await f.stop() } }
        let records = try f.ledger.experiments(tag: "demo")
        let plotted = records.filter { [.baseline, .keep, .discard].contains($0.experimentStatus) && $0.metric != nil }
        #expect(records.count == 42)

        // The overview: one chart point per plotted experiment, keeps marked.
        try await browser.open(f.base + "/")
        try await browser.wait("document.body.dataset.ready === '1'")
        #expect(try await browser.eval("document.querySelectorAll('#chart circle[data-n]').length") as? Int == plotted.count)
        #expect(try await browser.eval("document.querySelectorAll('#chart circle[data-kind=keep]').length") as? Int
                == records.filter { $0.experimentStatus == .keep }.count)
        #expect(try await browser.eval("document.querySelector('#chart path.running-best') !== null") as? Bool == true)
        #expect(try await browser.eval("window.__pwned === undefined") as? Bool == true)

        // The table: every experiment a row; the hostile description is text.
        try await browser.open(f.base + "/experiments")
        try await browser.wait("document.body.dataset.ready === '1'")
        #expect(try await browser.eval("document.querySelectorAll('#experiments tbody tr').length") as? Int == records.count)
        #expect(try await browser.eval("document.querySelector('#experiments tbody tr[data-number=\"41\"] td.desc').textContent") as? String == hostile)
        #expect(try await browser.eval("document.querySelectorAll('#experiments tbody script, #experiments tbody img').length") as? Int == 0)

        // A new experiment written to the ledger appears through the event stream, without a reload.
        _ = try await browser.eval("(window.__sameDocument = 'yes')")
        try f.addExperiment(description: "appeared live", status: .keep, metric: 1.0)
        try await browser.wait("document.querySelectorAll('#experiments tbody tr').length === \(records.count + 1)", timeout: 20)
        #expect(try await browser.eval("window.__sameDocument") as? String == "yes", "no reload")
        #expect(try await browser.eval("document.querySelector('#experiments tbody tr[data-number=\"42\"] td.desc').textContent") as? String == "appeared live")

        // …and in the chart of the overview.
        try await browser.open(f.base + "/")
        try await browser.wait("document.body.dataset.ready === '1'")
        #expect(try await browser.eval("document.querySelectorAll('#chart circle[data-n]').length") as? Int == plotted.count + 1)
        _ = try await browser.eval("(window.__sameDocument = 'still')")
        try f.addExperiment(description: "a second live one", status: .discard, metric: 1.295)
        try await browser.wait("document.querySelectorAll('#chart circle[data-n]').length === \(plotted.count + 2)", timeout: 20)
        #expect(try await browser.eval("window.__sameDocument") as? String == "still", "no reload")
        #expect(try await browser.eval("document.querySelector('#latest tbody tr').dataset.number") as? String == "43")

        // Another tag of the ledger, through the header's menu and ?tag=.
        #expect(try await browser.eval("Array.from(document.querySelectorAll('#tag-select option')).map(o => o.value).join(',')") as? String == "earlier,demo")
        try await browser.open(f.base + "/experiments?tag=earlier")
        try await browser.wait("document.body.dataset.ready === '1'")
        #expect(try await browser.eval("document.querySelectorAll('#experiments tbody tr').length") as? Int == 3)
        #expect(try await browser.eval("document.querySelector('#experiments tbody tr a').getAttribute('href')") as? String == "/experiments/0?tag=earlier")

        // The experiment page: texts as text, the diff coloured by line.
        try await browser.open(f.base + "/experiments/41")
        try await browser.wait("document.querySelector('#description') !== null")
        #expect(try await browser.eval("document.querySelector('#description').textContent") as? String == hostile)
        #expect(try await browser.eval("document.querySelector('#hypothesis').textContent") as? String == "</pre><b>bold?</b>")
        #expect(try await browser.eval("Array.from(document.querySelectorAll('#diff span')).map(s => s.className).join(',')") as? String == "add,del,hunk")
        #expect(try await browser.eval("window.__pwned === undefined") as? Bool == true)

        // Controls: a wrong token is refused and writes nothing; the printed one pauses the loop.
        let control = LoopControl(workspace: f.workspace)
        try await browser.open(f.base + "/")
        try await browser.wait("document.body.dataset.ready === '1'")
        _ = try await browser.eval("(sessionStorage.setItem('autoresearch-control-token', 'not-the-token'), document.querySelector('button[data-control=pause]').click(), 1)")
        try await browser.wait("document.querySelector('#control-message').textContent.includes('HTTP 403')")
        #expect(!FileManager.default.fileExists(atPath: control.url.path))
        try await browser.open(f.base + "/?token=\(f.server.token.value)")
        try await browser.wait("document.body.dataset.ready === '1'")
        #expect(try await browser.eval("location.search") as? String == "", "the token leaves the address bar")
        _ = try await browser.eval("(document.querySelector('button[data-control=pause]').click(), 1)")
        try await browser.wait("document.querySelector('#control-message').textContent.includes('paused')")
        #expect(control.state == .paused)
        try await browser.wait("document.querySelector('#control-state').textContent === 'loop: paused'")

        // The swarm page: workers and the meta-loop's lineage.
        try await browser.open(f.base + "/swarm")
        try await browser.wait("document.body.dataset.ready === '1'")
        #expect(try await browser.eval("document.querySelectorAll('#workers tbody tr').length") as? Int == 4)
    }
}

/// The Selenium driver as a child process: one JSON command a line in, one JSON answer a line out.
final class Browser: @unchecked Sendable {
    let process = Process()
    let input = Pipe(), output = Pipe()
    private var buffer = Data()

    static func start() async throws -> Browser {
        let env = ProcessInfo.processInfo.environment
        let cache = env["AUTORESEARCH_CACHE"] ?? (NSHomeDirectory() + "/.cache/autoresearch")
        let python = env["AUTORESEARCH_BROWSER_PYTHON"] ?? cache + "/browser/venv/bin/python"
        let chromium = env["AUTORESEARCH_CHROMIUM"] ?? "/usr/bin/chromium"
        let driver = env["AUTORESEARCH_CHROMEDRIVER"] ?? "/usr/bin/chromedriver"
        for path in [python, chromium, driver] where !FileManager.default.isExecutableFile(atPath: path) {
            throw DashboardError.notFound("\(path) is missing: the browser test needs headless Chromium and Selenium; run eval \"$(scripts/browser.sh)\" (scripts/test.sh does)")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let browser = Browser()
        browser.process.executableURL = URL(fileURLWithPath: python)
        browser.process.arguments = [root.appendingPathComponent("scripts/browser/driver.py").path, chromium, driver]
        browser.process.standardInput = browser.input
        browser.process.standardOutput = browser.output
        try browser.process.run()
        let ready = try await browser.readAnswer(timeout: 90)
        guard ready["ready"] as? Bool == true else { throw DashboardError.badRequest("the browser driver did not start: \(ready)") }
        return browser
    }

    func open(_ url: String) async throws { try await command(["open": url]) }

    func eval(_ js: String) async throws -> Any? { try await command(["eval": js])["value"] }

    func wait(_ js: String, timeout: Double = 15) async throws {
        let answer = try await command(["wait": js, "timeout": timeout], timeout: timeout + 30)
        if answer["ok"] as? Bool != true { Issue.record("timed out after \(timeout) s waiting for: \(js)") }
    }

    @discardableResult
    func command(_ command: [String: Any], timeout: Double = 60) async throws -> [String: Any] {
        var line = try JSONSerialization.data(withJSONObject: command)
        line.append(0x0A)
        input.fileHandleForWriting.write(line)
        let answer = try await readAnswer(timeout: timeout)
        if answer["ok"] as? Bool != true, let error = answer["error"] as? String { throw DashboardError.badRequest("browser: \(error) (\(command))") }
        return answer
    }

    /// The next line the driver prints, read off the cooperative pool.
    func readAnswer(timeout: Double) async throws -> [String: Any] {
        let handle = output.fileHandleForReading
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let deadline = Date().addingTimeInterval(timeout)
                while Date() < deadline {
                    if let newline = self.buffer.firstIndex(of: 0x0A) {
                        let line = self.buffer[..<newline]
                        self.buffer.removeSubrange(...newline)
                        let object = (try? JSONSerialization.jsonObject(with: line) as? [String: Any]) ?? ["ok": false, "error": String(decoding: line, as: UTF8.self)]
                        continuation.resume(returning: object)
                        return
                    }
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    self.buffer.append(chunk)
                }
                continuation.resume(throwing: DashboardError.badRequest("the browser driver stopped answering"))
            }
        }
    }

    func quit() {
        if process.isRunning {
            input.fileHandleForWriting.write(Data("{\"quit\": true}\n".utf8))
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { usleep(100_000) }
            if process.isRunning { process.terminate() }
        }
    }
}
