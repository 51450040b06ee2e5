import AutoResearchCore
import Foundation
import Testing
@testable import Dashboard
@testable import Harness
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The dashboard's API, event stream and controls over real HTTP against a ledger with known contents.
@Suite struct DashboardAPITests {
    @Test func statusTableAndChartCountWhatTheLedgerHolds() async throws {
        let f = try await DashboardFixture(experiments: 40, running: 1)
        defer { Task { await f.stop() } }
        let records = try f.ledger.experiments(tag: "demo")
        #expect(records.count == 42)  // the baseline, 40 finished, 1 running
        let keeps = records.filter { $0.experimentStatus == .keep }
        let finished = records.filter { [.keep, .discard, .crash].contains($0.experimentStatus) }
        let plotted = records.filter { [.baseline, .keep, .discard].contains($0.experimentStatus) && $0.metric != nil }

        let status = try await f.json("/api/status")
        #expect(status["experiments"] as? Int == finished.count)
        #expect(status["keeps"] as? Int == keeps.count)
        #expect(status["running"] as? Int == 1)
        #expect(status["tag"] as? String == "demo")
        #expect(abs((status["best"] as? Double ?? 0) - keeps.compactMap(\.metric).min()!) < 1e-12)
        #expect(status["control"] as? String == "running")
        // Cotra's milestones: the demo's keeps improved the hidden test split well beyond noise; no human reference.
        let milestones = try #require(status["milestones"] as? [[String: Any]])
        #expect(milestones.map { $0["name"] as? String } == ["adequacy", "parity", "supremacy"])
        #expect(milestones[0]["reached"] as? Bool == true && milestones[1]["reached"] == nil)
        #expect((milestones[1]["detail"] as? String)?.contains("--reference") == true)

        let page = try await f.json("/api/experiments?limit=1000")
        #expect(page["total"] as? Int == 42 && (page["rows"] as? [Any])?.count == 42)
        let chart = try await f.json("/api/chart")
        let points = try #require(chart["points"] as? [[Any]])
        #expect(points.count == plotted.count)
        #expect(points.filter { ($0[2] as? Double) == 1 }.count == keeps.count)
        // Each keep's hidden-test value is its fourth field.
        for keep in keeps {
            let point = try #require(points.first { ($0[0] as? Double) == Double(keep.number) })
            #expect(abs((point[3] as? Double ?? 0) - keep.testBPB!) < 1e-12)
        }

        let keepsPage = try await f.json("/api/experiments?status=keep")
        #expect((keepsPage["rows"] as? [[String: Any]])?.map { $0["number"] as! Int } == keeps.map(\.number))
        #expect(keepsPage["matched"] as? Int == keeps.count)
        let sorted = try await f.json("/api/experiments?sort=metric&limit=5")
        let best5 = records.compactMap(\.metric).sorted().prefix(5)
        let sortedMetrics = (sorted["rows"] as? [[String: Any]])?.compactMap { $0["metric"] as? Double } ?? []
        #expect(sortedMetrics.count == 5 && zip(sortedMetrics, best5).allSatisfy { abs($0 - $1) < 1e-12 }, "\(sortedMetrics)")
        let second = try await f.json("/api/experiments?offset=10&limit=10")
        #expect((second["rows"] as? [[String: Any]])?.map { $0["number"] as! Int } == Array(10..<20))
        let search = try await f.json("/api/experiments?q=WARMUP")
        let expected = records.filter { $0.description.lowercased().contains("warmup") }.map(\.number)
        #expect(!expected.isEmpty && (search["rows"] as? [[String: Any]])?.map { $0["number"] as! Int } == expected)

        let one = try await f.json("/api/experiments/\(keeps[0].number)")
        #expect(one["description"] as? String == keeps[0].description)
        #expect((one["evidence"] as? [String: Any])?["verdict"] as? String == "keep")
        #expect((one["diff"] as? String)?.contains("+    learningRate:") == true)
        #expect((one["logTail"] as? String)?.contains("step 1200 | loss") == true)
        #expect(try await f.get("/api/experiments/999").0 == 404)
        #expect(try await f.get("/api/status?tag=nope").0 == 404)
        #expect(try await f.get("/api/events?tag=nope").0 == 404)

        let running = try await f.get("/api/running")
        let run = try #require((try JSONSerialization.jsonObject(with: running.1) as? [[String: Any]])?.first)
        #expect(run["number"] as? Int == 41 && run["phase"] as? String == "train")
        #expect((run["curve"] as? [[Any]])?.count == 7)  // steps 0, 50, …, 300
    }

    /// The red team's finding 6: the read API had no token and no Host check. Without the token every view lacks the
    /// hidden test split's scores; a request for another host (DNS rebinding) is refused with 421.
    @Test func theHiddenTestNeedsTheTokenAndOtherHostsAreRefused() async throws {
        let f = try await DashboardFixture(experiments: 42)
        defer { Task { await f.stop() } }
        let keep = try #require(try f.ledger.experiments(tag: "demo").first { $0.experimentStatus == .keep && $0.testBPB != nil })
        let owner = try await f.json("/api/experiments/\(keep.number)")
        #expect(abs((owner["testBPB"] as? Double ?? 0) - keep.testBPB!) < 1e-12, "the owner sees it")
        let text = { (path: String) async throws -> String in String(decoding: try await f.get(path, owner: false).1, as: UTF8.self) }
        let detail = try JSONSerialization.jsonObject(with: try await f.get("/api/experiments/\(keep.number)", owner: false).1) as? [String: Any]
        #expect(detail?["testBPB"] == nil || detail?["testBPB"] is NSNull, "\(String(describing: detail?["testBPB"]))")
        let value = String(format: "%.6f", keep.testBPB!).dropLast(2)
        for path in ["/api/status", "/api/experiments?limit=1000", "/api/chart", "/api/experiments/\(keep.number)"] {
            let body = try await text(path)
            #expect(!body.contains(value), "\(path) carries test_bpb \(value) without the token: \(body.prefix(400))")
            #expect(!body.contains("\"baselineTest\":") || body.contains("\"baselineTest\":null"), "\(path)")
        }
        // The owner's cached chart is not the other view's, and the other way round.
        #expect(try await text("/api/chart") != String(decoding: try await f.get("/api/chart").1, as: UTF8.self))
        // DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own name as Host.
        let (rebound, body) = try await f.get("/api/status", owner: false, host: "evil.example:\(f.server.port!)")
        #expect(rebound == 421, "\(String(decoding: body, as: UTF8.self))")
        #expect(try await f.get("/api/status", owner: false, host: "localhost:\(f.server.port!)").0 == 200)
        #expect(try await f.get("/", owner: false, host: "evil.example").0 == 421)
    }

    @Test func controlsRefuseRequestsWithoutTheRightTokenAndWriteTheRequestWithIt() async throws {
        let f = try await DashboardFixture(experiments: 3)
        defer { Task { await f.stop() } }
        let control = LoopControl(workspace: f.workspace)
        let (missing, missingBody) = try await f.post("/api/control/pause", authorization: nil)
        #expect(missing == 401)
        #expect((missingBody["error"] as? String)?.contains("Authorization: Bearer") == true)
        #expect(!FileManager.default.fileExists(atPath: control.url.path), "a refused control writes nothing")
        let (wrong, wrongBody) = try await f.post("/api/control/pause", authorization: "Bearer 0123")
        #expect(wrong == 403 && (wrongBody["error"] as? String)?.contains("wrong token") == true)
        #expect(!FileManager.default.fileExists(atPath: control.url.path))

        let bearer = "Bearer \(f.server.token.value)"
        #expect(try await f.post("/api/control/pause", authorization: bearer).0 == 200)
        #expect(control.state == .paused && control.request()?.by == "dashboard")
        #expect(try await f.json("/api/status")["control"] as? String == "paused")
        #expect(try await f.post("/api/control/resume", authorization: bearer).1["state"] as? String == "running")
        #expect(control.state == .running)
        #expect(try await f.post("/api/control/stop", authorization: bearer).0 == 200)
        #expect(control.state == .stopping)
        #expect(try await f.post("/api/control/explode", authorization: bearer).0 == 404)
        // Reading is never guarded.
        #expect(try await f.get("/api/status").0 == 200)
    }

    @Test func everyOpenStreamHearsOfAFinishedExperiment() async throws {
        let f = try await DashboardFixture(experiments: 5)
        defer { Task { await f.stop() } }
        let port = f.server.port!
        async let first = SSEReader.read(port: port, until: "\"number\":6", seconds: 20)
        async let second = SSEReader.read(port: port, until: "\"number\":6", seconds: 20)
        let deadline = Date().addingTimeInterval(15)
        while await f.server.events.count < 2, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(await f.server.events.count == 2, "both browsers listen")
        try f.addExperiment(description: "a new experiment", status: .keep, metric: 1.0)
        let (a, b) = try await (first, second)
        for text in [a, b] {
            #expect(text.contains("event: hello"))
            #expect(text.contains("event: update") && text.contains("\"number\":6,\"status\":\"keep\""), "\(text)")
        }
    }

    @Test func aTakenPortIsAClearError() async throws {
        let f = try await DashboardFixture(experiments: 1)
        defer { Task { await f.stop() } }
        let second = DashboardServer(data: f.server.data, port: f.server.port!)
        await #expect(throws: DashboardError.portInUse(host: "127.0.0.1", port: f.server.port!)) { try await second.start() }
        #expect(DashboardError.portInUse(host: "127.0.0.1", port: 8080).description.contains("port 8080") == true)
        #expect(DashboardError.portInUse(host: "127.0.0.1", port: 8080).description.contains("--port") == true)
    }

    @Test func pagesNeverContainLedgerTextAndSendAStrictPolicy() async throws {
        let f = try await DashboardFixture(experiments: 2)
        defer { Task { await f.stop() } }
        try f.addExperiment(description: "<script>alert(1)</script>")
        for path in ["/", "/experiments", "/experiments/3", "/swarm"] {
            let (status, data) = try await f.get(path)
            #expect(status == 200)
            #expect(!String(decoding: data, as: UTF8.self).contains("alert(1)"), "\(path) is a shell; the script fills it as text")
        }
        let one = try await f.json("/api/experiments/3")
        #expect(one["description"] as? String == "<script>alert(1)</script>")
        #expect(DashboardPages.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(!DashboardAssets.script.contains("innerHTML"), "ledger text never becomes markup")
    }

    @Test func theControlTokenIsRandomAndComparedWhole() {
        let a = ControlToken.random(), b = ControlToken.random()
        #expect(a != b && a.value.count == 64 && a.value.allSatisfy(\.isHexDigit))
        #expect(a.accepts(authorization: "Bearer \(a.value)") && a.accepts(authorization: "bearer \(a.value)"))
        #expect(!a.accepts(authorization: "Bearer \(a.value.dropLast())") && !a.accepts(authorization: "Bearer \(a.value)0"))
        #expect(!a.accepts(authorization: a.value) && !a.accepts(authorization: nil) && !a.accepts(authorization: "Bearer "))
    }

    @Test func theCurveIsTheRunTrainingNow() {
        let first = DemoLedger.curveLog(steps: 600, loss: 3)
        let second = DemoLedger.curveLog(steps: 150, loss: 3, seed: 2)
        #expect(LogTail.currentRunCurve(first).count == 13)
        #expect(LogTail.currentRunCurve(first + second).map(\.step) == [0, 50, 100, 150])
        #expect(LogTail.currentRunCurve("no steps here\n").isEmpty)
    }
}

/// Reads a Server-Sent Events stream over a plain socket until `marker` appears (or the time is up).
enum SSEReader {
    static func read(port: Int, until marker: String, seconds: Double) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else { continuation.resume(throwing: DashboardError.badRequest("cannot connect")); return }
                var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                let request = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
                _ = request.withCString { send(fd, $0, strlen($0), 0) }
                var text = ""
                var buffer = [UInt8](repeating: 0, count: 4096)
                let deadline = Date().addingTimeInterval(seconds)
                while Date() < deadline, !text.contains(marker) {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n > 0 { text += String(decoding: buffer[0..<n], as: UTF8.self) } else if n == 0 { break }
                }
                continuation.resume(returning: text)
            }
        }
    }
}

/// `autoresearch serve` as a user runs it.
@Suite struct ServeCommandTests {
    @Test func aPortInUseIsOneLineNamingThePortAndTheFlag() async throws {
        let f = try await DashboardFixture(experiments: 2)
        defer { Task { await f.stop() } }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = try #require([dir, dir.deletingLastPathComponent()].map { $0.appendingPathComponent("autoresearch") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }, "the autoresearch executable is built with the tests")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--workspace", f.folder.path, "--port", "\(f.server.port!)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(output == "error: port \(f.server.port!) on 127.0.0.1 is already in use; choose another with --port (e.g. --port \(f.server.port! + 1))\n", "\(output)")
        #expect(!output.contains("control token"), "no token printed for a server that never ran")
    }
}

extension ServeCommandTests {
    @Test func startedBeforeTheFirstRunItWaitsForTheLedger() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dashboard-wait-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Manifest(name: "waiting", editable: ["train.py"], build: "true", run: "true").render()
            .write(to: folder.appendingPathComponent(Manifest.fileName), atomically: true, encoding: .utf8)
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = try #require([dir, dir.deletingLastPathComponent()].map { $0.appendingPathComponent("autoresearch") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) })
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--workspace", folder.path, "--port", "0"]
        let log = folder.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func output() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        var deadline = Date().addingTimeInterval(30)
        while !output().contains("waiting for the first"), Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(output().contains("waiting for the first `autoresearch run`"), "\(output())")
        #expect(process.isRunning)
        try DemoLedger.create(at: folder, options: DemoLedger.Options(experiments: 3, running: 0, meta: false))
        deadline = Date().addingTimeInterval(30)
        while !output().contains("control token"), Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let text = output()
        #expect(text.contains("dashboard of waiting, tag demo: http://127.0.0.1:"), "\(text)")
        // It serves: the address it printed answers.
        let address = try #require(text.split(separator: "\n").first { $0.hasPrefix("dashboard of") }?.split(separator: " ").last)
        let (data, _) = try await URLSession.shared.data(from: URL(string: "\(address)api/status")!)
        #expect((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["experiments"] as? Int ?? -1 >= 0)
        process.terminate()  // SIGTERM: a graceful stop
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output())")
    }
}
