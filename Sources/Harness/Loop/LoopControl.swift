import Foundation

/// Requests to a running `autoresearch run` from outside it (the dashboard's controls, the MCP server's `stop`):
/// `.autoresearch/control.json`, written atomically, read by the loop before it starts each experiment.
///
/// - `stop`: the experiments in flight finish and are decided; no new one starts; the run ends "stopped on request".
/// - `pause`: no new experiment starts until `resume` (the ones in flight finish).
/// - `resume`: clears a pause (or a stop not yet acted on).
///
/// A run clears the file when it starts, so a request made while no run was active does not stop the next one.
public struct LoopControl: Sendable {
    /// What the loop should do before starting its next experiment.
    public enum State: String, Codable, Sendable { case running, paused, stopping }
    /// A request to the loop.
    public enum Command: String, CaseIterable, Sendable {
        case stop, pause, resume
        var state: State { switch self { case .stop: .stopping; case .pause: .paused; case .resume: .running } }
    }

    /// The request on file: its state, who asked (e.g. "dashboard", "mcp") and when.
    public struct Request: Codable, Sendable, Equatable {
        public var state: State
        public var by: String
        public var at: Date
    }

    public let url: URL

    public init(stateDirectory: URL) { url = stateDirectory.appendingPathComponent("control.json") }
    public init(workspace: Workspace) { self.init(stateDirectory: workspace.stateDirectory) }

    /// The request on file; `nil` when none (or the file is unreadable: the loop then runs on).
    public func request() -> Request? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Request.self, from: data)
    }

    /// What the loop should do now (running when nothing was asked).
    public var state: State { request()?.state ?? .running }

    /// Files `command` on behalf of `by` and returns the request written.
    @discardableResult
    public func send(_ command: Command, by: String, at date: Date = Date()) throws -> Request {
        let request = Request(state: command.state, by: by, at: date)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(request).write(to: url, options: .atomic)
        return request
    }

    /// Removes any request (a run does this when it starts).
    public func clear() { try? FileManager.default.removeItem(at: url) }
}
