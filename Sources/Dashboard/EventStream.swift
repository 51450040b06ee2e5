import Foundation
import Harness

/// Server-Sent Events for every open dashboard: one poller reads the `LedgerStamp` of each tag someone watches (and
/// the loop-control request) every `interval`, and when either changed sends an `update` event to each subscriber of
/// that tag, naming the experiments that finished since the last one. Subscribers come and go; the poller runs only
/// while one is open.
public actor EventStream {
    let data: DashboardData
    let interval: Duration
    private var subscribers: [UUID: (tag: String, continuation: AsyncStream<String>.Continuation)] = [:]
    private var poller: Task<Void, Never>?
    private var last: [String: (stamp: LedgerStamp, control: String)] = [:]
    private var ticks = 0
    private var closed = false

    public init(data: DashboardData, interval: Duration = .seconds(1)) {
        self.data = data
        self.interval = interval
    }

    /// How many browsers are listening now.
    public var count: Int { subscribers.count }

    /// A new subscriber's messages for `tag` (the server's default when nil), already formatted as SSE frames,
    /// starting with a `hello` event.
    public func subscribe(tag requested: String? = nil) -> AsyncStream<String> {
        let tag = requested ?? data.tag
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(64))
        guard !closed else { continuation.finish(); return stream }
        continuation.onTermination = { _ in Task { await self.remove(id) } }
        subscribers[id] = (tag, continuation)
        let current = try? snapshot(tag)
        if last[tag] == nil { last[tag] = current }
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
        for s in subscribers.values { s.continuation.finish() }
        subscribers.removeAll()
    }

    private func remove(_ id: UUID) {
        guard let tag = subscribers.removeValue(forKey: id)?.tag else { return }
        if !subscribers.values.contains(where: { $0.tag == tag }) { last[tag] = nil }
        if subscribers.isEmpty { poller?.cancel(); poller = nil }
    }

    private func snapshot(_ tag: String) throws -> (stamp: LedgerStamp, control: String) {
        let request = LoopControl(workspace: data.workspace).request()
        return (try data.ledger.stamp(tag: tag), request.map { "\($0.state.rawValue)/\($0.by)/\($0.at.timeIntervalSince1970)" } ?? "")
    }

    /// One poll: an `update` event when the ledger or the control request changed, a comment every 15 polls
    /// otherwise (so proxies and browsers keep the connection).
    func poll() {
        ticks += 1
        for tag in Set(subscribers.values.map(\.tag)) {
            guard let now = try? snapshot(tag) else { continue }
            if let previous = last[tag], previous.stamp == now.stamp, previous.control == now.control {
                if ticks % 15 == 0 { broadcast(": keep-alive\n\n", tag: tag) }
                continue
            }
            let finished = (try? data.ledger.experimentSummaries(tag: tag, finishedAfter: last[tag]?.stamp.lastFinished)) ?? []
            let items = finished.suffix(50).map {
                "{\"number\":\($0.number),\"status\":\(Self.quote($0.status)),\"metric\":\($0.metric.flatMap { $0.isFinite ? "\($0)" : nil } ?? "null")}"
            }
            last[tag] = now
            broadcast(Self.frame(event: "update", json: "{\"tag\":\(Self.quote(tag)),\"stamp\":\(Self.quote(now.stamp.signature)),\"experiments\":\(now.stamp.experiments),\"control\":\(Self.quote(now.control)),\"finished\":[\(items.joined(separator: ","))]}"), tag: tag)
        }
    }

    private func broadcast(_ message: String, tag: String) {
        for s in subscribers.values where s.tag == tag { s.continuation.yield(message) }
    }

    static func frame(event: String, json: String) -> String { "event: \(event)\ndata: \(json)\n\n" }

    /// `text` as a JSON string literal.
    static func quote(_ text: String) -> String {
        (try? String(decoding: JSONEncoder().encode(text), as: UTF8.self)) ?? "\"\""
    }
}
