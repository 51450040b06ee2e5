import AutoResearchCore
import Dashboard
import Foundation
import Harness
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A demonstration workspace in a temporary folder and a dashboard serving it on a free port of 127.0.0.1.
final class DashboardFixture {
    let folder: URL
    let workspace: Workspace
    let ledger: Ledger
    let server: DashboardServer
    var base: String { "http://127.0.0.1:\(server.port!)" }

    init(experiments: Int, running: Int = 0, meta: Bool = false, edit: (Ledger) throws -> Void = { _ in }) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dashboard-\(UUID().uuidString.prefix(8))")
        workspace = try DemoLedger.create(at: folder, options: DemoLedger.Options(experiments: experiments, running: running, meta: meta))
        ledger = try Ledger(url: workspace.ledgerURL)
        try edit(ledger)
        server = DashboardServer(data: try DashboardData(workspace: workspace, tag: nil), port: 0, eventInterval: .milliseconds(200))
        try await server.start()
    }

    func stop() async {
        await server.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// GET `path`: status and body. `owner`: with the token (the owner's view, test_bpb included); `host`: another
    /// `Host` header than the server's address.
    func get(_ path: String, owner: Bool = true, host: String? = nil) async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: base + path)!)
        if owner { request.setValue("Bearer \(server.token.value)", forHTTPHeaderField: "Authorization") }
        if let host { request.setValue(host, forHTTPHeaderField: "Host") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// GET `path` decoded as JSON.
    func json(_ path: String, owner: Bool = true) async throws -> [String: Any] {
        let (_, data) = try await get(path, owner: owner)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// POST `path` with an optional `Authorization` header: status and the decoded answer.
    func post(_ path: String, authorization: String?) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }

    /// A finished experiment appended to the tag (the next number), as the loop would record it.
    @discardableResult
    func addExperiment(description: String, status: ExperimentStatus = .discard, metric: Double? = 1.30) throws -> ExperimentRecord {
        var record = try ledger.start(ExperimentRecord(tag: "demo", number: -1, parentCommit: "a1b2c3d", description: description,
                                                      researcher: "search", startedAt: Date()))
        record.status = status.rawValue
        record.metric = metric
        record.finishedAt = Date()
        try ledger.save(record)
        return record
    }
}
