import AutoResearchCore
import Foundation
import Testing
@testable import Harness
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProcessRunnerTests {
    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pr-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func alive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 }

    /// The pids a shell script wrote to `file` (its own and a background child's).
    func pids(in file: URL) async throws -> [pid_t] {
        for _ in 0..<200 {
            if let text = try? String(contentsOf: file, encoding: .utf8), text.hasSuffix("\n") {
                return text.split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        Issue.record("the script never wrote its pids")
        return []
    }

    @Test func exitStatusEnvironmentDirectoryAndLog() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("out.log")
        setenv("HARNESS_TEST_SECRET_KEY", "should-not-reach", 1)
        let result = try await ProcessRunner.run(shell: "pwd; echo $FOO; echo \"[$HARNESS_TEST_SECRET_KEY]\"; echo err >&2; exit 3",
                                                 in: dir, environment: ["FOO": "bar"], removing: ["HARNESS_TEST_SECRET_KEY"],
                                                 log: log, timeout: 10)
        #expect(result.termination == .exited(3))
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(text.contains(dir.lastPathComponent))
        #expect(text.contains("bar\n"))
        #expect(text.contains("[]"))
        #expect(text.contains("err"))
    }

    @Test func timeoutKillsTheWholeProcessGroup() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pidFile = dir.appendingPathComponent("pids")
        let start = Date()
        let task = Task {
            try await ProcessRunner.run(shell: "sleep 300 & echo $$ $! > \(pidFile.path); wait", in: dir,
                                        log: dir.appendingPathComponent("log"), timeout: 1)
        }
        let pids = try await pids(in: pidFile)
        #expect(pids.count == 2)
        let result = try await task.value
        #expect(result.termination == .timedOut)
        // Long before the child's 300 s sleep would end (a loose bound: a loaded machine is slow to spawn and reap).
        #expect(Date().timeIntervalSince(start) < 100)
        for pid in pids { #expect(!processIsRunning(pid), "pid \(pid) survived the timeout") }
    }

    @Test func cancellationKillsTheWholeProcessGroup() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pidFile = dir.appendingPathComponent("pids")
        let task = Task {
            try await ProcessRunner.run(shell: "sleep 300 & echo $$ $! > \(pidFile.path); wait", in: dir,
                                        log: dir.appendingPathComponent("log"), timeout: nil)
        }
        let pids = try await pids(in: pidFile)
        task.cancel()
        let result = try await task.value
        #expect(result.termination == .cancelled)
        for pid in pids { #expect(!processIsRunning(pid), "pid \(pid) survived the cancellation") }
    }

    @Test func captureReturnsOutputAndStatus() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = try ProcessRunner.capture(["/bin/sh", "-c", "echo out; echo err >&2"], in: dir)
        #expect(ok.status == 0 && ok.stdout == "out\n" && ok.stderr == "err\n")
        #expect(try ProcessRunner.capture(["/bin/sh", "-c", "exit 7"], in: dir).status == 7)
    }
}
