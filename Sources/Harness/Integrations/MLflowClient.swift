import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The few calls of MLflow's tracking REST API (`/api/2.0/mlflow/…`, JSON over HTTP) the export needs: find or
/// create an experiment, search runs by tag, create a run, log a batch of metrics, params and tags, end a run.
/// Reference: MLflow's REST API documentation (mlflow.org/docs/latest/rest-api.html).
public struct MLflowClient: Sendable {
    /// The tracking server, e.g. `http://127.0.0.1:5000`.
    public let base: URL

    /// An MLflow request that failed: the endpoint and what the server said.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var endpoint: String
        public var status: Int?
        public var message: String
        public var description: String {
            "MLflow \(endpoint): " + (status.map { "HTTP \($0): " } ?? "") + message
        }
    }

    /// - Throws: `HarnessError.other` when `uri` is not an http(s) address.
    public init(uri: String) throws {
        guard let url = URL(string: uri.hasSuffix("/") ? String(uri.dropLast()) : uri), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw HarnessError.other("--mlflow '\(uri)' is not an MLflow tracking server address; give one like http://127.0.0.1:5000")
        }
        base = url
    }

    /// Sends one request; returns the JSON object the server answered.
    func call(_ endpoint: String, get query: [String: String]? = nil, post body: [String: Any]? = nil) async throws -> [String: Any] {
        var components = URLComponents(url: base.appendingPathComponent("api/2.0/mlflow/" + endpoint), resolvingAgainstBaseURL: false)!
        if let query { components.queryItems = query.map { URLQueryItem(name: $0.key, value: $0.value) } }
        var request = URLRequest(url: components.url!, timeoutInterval: 30)
        if let body {
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let data: Data, response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw Failure(endpoint: endpoint, status: nil, message: "cannot reach \(base.absoluteString) (\(error.localizedDescription)); is `mlflow server` running there?")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(status) else {
            let message = (object["message"] as? String) ?? String(decoding: data.prefix(300), as: UTF8.self)
            throw Failure(endpoint: endpoint, status: status, message: (object["error_code"] as? String).map { "\($0): \(message)" } ?? message)
        }
        return object
    }

    /// The id of the experiment called `name`, created when there is none.
    public func experiment(named name: String) async throws -> String {
        do {
            let found = try await call("experiments/get-by-name", get: ["experiment_name": name])
            if let id = (found["experiment"] as? [String: Any])?["experiment_id"] as? String { return id }
        } catch let failure as Failure where failure.status == 404 {}
        let created = try await call("experiments/create", post: ["name": name])
        guard let id = created["experiment_id"] as? String else { throw Failure(endpoint: "experiments/create", status: nil, message: "no experiment_id in the answer") }
        return id
    }

    /// The run ids in `experiment` whose tag `key` is `value`.
    public func runs(in experiment: String, tag key: String, equals value: String) async throws -> [String] {
        let escaped = value.replacingOccurrences(of: "'", with: "\\'")
        let found = try await call("runs/search", post: ["experiment_ids": [experiment], "filter": "tags.`\(key)` = '\(escaped)'", "max_results": 10])
        return ((found["runs"] as? [[String: Any]]) ?? []).compactMap { ($0["info"] as? [String: Any])?["run_id"] as? String }
    }

    /// A new run; returns its id.
    public func createRun(in experiment: String, name: String, start: Date, tags: [String: String]) async throws -> String {
        let created = try await call("runs/create", post: [
            "experiment_id": experiment, "run_name": name, "start_time": Self.millis(start),
            "tags": tags.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] },
        ])
        guard let id = ((created["run"] as? [String: Any])?["info"] as? [String: Any])?["run_id"] as? String else {
            throw Failure(endpoint: "runs/create", status: nil, message: "no run id in the answer")
        }
        return id
    }

    /// One metric value at a step.
    public struct Metric: Sendable, Equatable {
        public var key: String
        public var value: Double
        public var step: Int
        public var time: Date
        public init(key: String, value: Double, step: Int = 0, time: Date) { self.key = key; self.value = value; self.step = step; self.time = time }
    }

    /// Logs params and metrics, in batches within the API's limits (100 params, 1000 metrics a request).
    public func log(run: String, params: [String: String], metrics: [Metric]) async throws {
        let paramList = params.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": String($0.value.prefix(6000))] }
        for start in stride(from: 0, to: max(paramList.count, 1), by: 100) where !paramList.isEmpty {
            _ = try await call("runs/log-batch", post: ["run_id": run, "params": Array(paramList[start..<min(start + 100, paramList.count)])])
        }
        let metricList: [[String: Any]] = metrics.filter { $0.value.isFinite }.map {
            ["key": $0.key, "value": $0.value, "timestamp": Self.millis($0.time), "step": $0.step]
        }
        for start in stride(from: 0, to: metricList.count, by: 1000) {
            _ = try await call("runs/log-batch", post: ["run_id": run, "metrics": Array(metricList[start..<min(start + 1000, metricList.count)])])
        }
    }

    /// Ends a run: "FINISHED", "FAILED" or "KILLED".
    public func endRun(_ run: String, status: String, end: Date) async throws {
        _ = try await call("runs/update", post: ["run_id": run, "status": status, "end_time": Self.millis(end)])
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
