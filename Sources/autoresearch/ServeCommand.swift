import ArgumentParser
import Dashboard
import Foundation
import Harness

/// `autoresearch serve`: the live web dashboard of a workspace.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a live dashboard of a workspace: progress chart, running experiments, the experiments table, the swarm and the meta-loop.",
        discussion: """
        Binds 127.0.0.1 unless --host says otherwise. Everything is read-only except the loop controls (stop after the \
        current experiment, pause, resume), which need the token printed at start-up.
        """)

    @OptionGroup var workspaceOption: WorkspaceOption

    @Option(help: "The port to listen on.")
    var port: Int = 8080

    @Option(help: "The address to bind (default 127.0.0.1: only this machine). Anything else lets other machines read the ledger.")
    var host: String = "127.0.0.1"

    @Option(help: "The tag shown by default (default: the latest).")
    var tag: String?

    @Option(name: .customLong("demo"), help: .hidden)
    var demo: Int?

    @Flag(name: .customLong("bench"), help: .hidden)
    var bench = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        if let demo {
            // A demonstration ledger (screenshots, the benchmark): only into a folder that is not a workspace yet.
            let dir = URL(fileURLWithPath: ((workspaceOption.workspace ?? FileManager.default.currentDirectoryPath) as NSString).expandingTildeInPath)
            guard !FileManager.default.fileExists(atPath: dir.appendingPathComponent(Manifest.fileName).path) else {
                throw HarnessError.other("--demo writes a demonstration workspace: \(dir.path) already is one")
            }
            let started = Date()
            try DemoLedger.create(at: dir, options: DemoLedger.Options(experiments: demo, running: 2, meta: true))
            print(String(format: "demo: %d experiments written to %@ in %.1f s", demo, dir.path, Date().timeIntervalSince(started)))
        }
        let workspace = try workspaceOption.open()
        let data = try await openLedger(workspace)
        let server = DashboardServer(data: data, host: host, port: port)
        if !["127.0.0.1", "localhost", "::1"].contains(host) {
            FileHandle.standardError.write(Data("warning: binding \(host): other machines can read this workspace's ledger (descriptions, diffs, transcripts); the controls still need the token\n".utf8))
        }
        try await server.start()
        if bench {
            print(try await DashboardBenchmark.run(url: server.url, experiment: max(1, (try? data.ledger.stamp(tag: data.tag).experiments) ?? 2) / 2))
            await server.stop()
            return
        }
        print("dashboard of \(workspace.manifest.name), tag \(data.tag): \(server.url)")
        print("control token (stop, pause, resume): \(server.token)")
        print("open with the controls enabled: \(server.url)?token=\(server.token)")
        print("Ctrl-C stops the dashboard (not the research).")
        fflush(stdout)
        try await server.run(untilSignal: true)
    }

    /// The ledger and its tag; in a workspace where nothing has run yet (no ledger or no tag, and no --tag), waits for
    /// the first `autoresearch run` to record one, so the dashboard can be started first.
    func openLedger(_ workspace: Workspace) async throws -> DashboardData {
        var waiting = false
        while true {
            do {
                return try DashboardData(workspace: workspace, tag: tag)
            } catch HarnessError.unknownTag(_, let known) where tag == nil && known.isEmpty {
                if !waiting {
                    print("waiting for the first `autoresearch run` in \(workspace.root.path) (its ledger has no tag yet)…")
                    fflush(stdout)
                    waiting = true
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
