import Foundation
import Harness

/// Server-Sent Events for every open dashboard: one poller reads the ledger's `LedgerStamp` (and the loop-control
/// request) every `interval`, and when either changed sends an `update` event to each subscriber, naming the
/// experiments that finished since the last one. Subscribers come and go; the poller runs only while one is open.
public actor EventStream {
    let data: DashboardData
    let interval: Duration
    private var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]
    private var poller: Task<Void, Never>?
    private var last: (stamp: LedgerStamp, control: String)?
    private var ticks = 0
    private var closed = false

    public init(data: DashboardData, interval: Duration = .seconds(1)) {
        self.data = data
        self.interval = interval
    }

    /// How many browsers are listening now.
    public var count: Int { subscribers.count }

    /// A new subscriber's messages (already formatted as SSE frames), starting with a `hello` event.
    public func subscribe() -> AsyncStream<String> {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(64))
        guard !closed else { continuation.finish(); return stream }
        continuation.onTermination = { _ in Task { await self.remove(id) } }
        subscribers[id] = continuation
        let current = try? snapshot()
        if last == nil { last = current }
        continuation.yield(Self.frame(event: "hello", json: "{\"stamp\":\(Self.quote(current?.stamp.signature ?? ""))}"))
        if poller == nil {
            poller = Task { [interval] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    await self.poll()
                }
            }
        }
        return stream
    }

    /// Ends every stream (the server is stopping) and refuses new ones.
    public func close() {
        closed = true
        poller?.cancel(); poller = nil
        for c in subscribers.values { c.finish() }
        subscribers.removeAll()
    }

    private func remove(_ id: UUID) {
        subscribers[id] = nil
        if subscribers.isEmpty { poller?.cancel(); poller = nil; last = nil }
    }

    private func snapshot() throws -> (stamp: LedgerStamp, control: String) {
        let request = LoopControl(workspace: data.workspace).request()
        return (try data.ledger.stamp(tag: data.tag), request.map { "\($0.state.rawValue)/\($0.by)/\($0.at.timeIntervalSince1970)" } ?? "")
    }

    /// One poll: an `update` event when the ledger or the control request changed, a comment every 15 polls
    /// otherwise (so proxies and browsers keep the connection).
    func poll() {
        guard !subscribers.isEmpty, let now = try? snapshot() else { return }
        ticks += 1
        if let previous = last, previous.stamp == now.stamp, previous.control == now.control {
            if ticks % 15 == 0 { broadcast(": keep-alive\n\n") }
            return
        }
        let finished = (try? data.ledger.experimentSummaries(tag: data.tag, finishedAfter: last?.stamp.lastFinished)) ?? []
        let items = finished.suffix(50).map {
            "{\"number\":\($0.number),\"status\":\(Self.quote($0.status)),\"metric\":\($0.metric.flatMap { $0.isFinite ? "\($0)" : nil } ?? "null")}"
        }
        last = now
        broadcast(Self.frame(event: "update", json: "{\"stamp\":\(Self.quote(now.stamp.signature)),\"experiments\":\(now.stamp.experiments),\"control\":\(Self.quote(now.control)),\"finished\":[\(items.joined(separator: ","))]}"))
    }

    private func broadcast(_ message: String) {
        for c in subscribers.values { c.yield(message) }
    }

    static func frame(event: String, json: String) -> String { "event: \(event)\ndata: \(json)\n\n" }

    /// `text` as a JSON string literal.
    static func quote(_ text: String) -> String {
        (try? String(decoding: JSONEncoder().encode(text), as: UTF8.self)) ?? "\"\""
    }
}
