import Foundation
import Harness
import Hummingbird
import Logging
import ServiceLifecycle

/// `autoresearch serve`: the live dashboard of one workspace over HTTP (Hummingbird). Pages and assets come from
/// the binary; every answer is read from the ledger when asked; `/api/events` pushes updates (Server-Sent Events) to
/// any number of browsers; stop, pause and resume need the control token.
public final class DashboardServer: Sendable {
    public let data: DashboardData
    public let host: String
    public let requestedPort: Int
    public let token: ControlToken
    public let events: EventStream
    private let state = Locked<(task: Task<Void, Never>?, group: ServiceGroup?, port: Int?)>((nil, nil, nil))

    /// - Parameters:
    ///   - port: the port to bind; 0 picks a free one (tests).
    ///   - eventInterval: how often the event stream reads the ledger.
    public init(data: DashboardData, host: String = "127.0.0.1", port: Int = 8080, token: ControlToken = .random(),
                eventInterval: Duration = .seconds(1)) {
        self.data = data; self.host = host; self.requestedPort = port; self.token = token
        events = EventStream(data: data, interval: eventInterval)
    }

    /// The port bound once `start` returned.
    public var port: Int? { state.withLock { $0.port } }

    /// The dashboard's address once started.
    public var url: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port ?? requestedPort)/" }

    /// Binds and serves in the background; returns the bound port. Throws `DashboardError.portInUse` when the port is taken.
    @discardableResult
    public func start() async throws -> Int {
        var logger = Logger(label: "autoresearch.dashboard")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncThrowingStream.makeStream(of: Int.self)
        let app = Application(
            router: DashboardRoutes(data: data, token: token, events: events, hosts: DashboardRoutes.hosts(boundTo: host)).router(),
            configuration: .init(address: .hostname(host, port: requestedPort), serverName: nil),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let (host, port) = (self.host, requestedPort)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            do {
                try await group.run()
                continuation.finish()
            } catch {
                let text = "\(error)"
                continuation.finish(throwing: text.contains("already in use") || text.contains("errno: 98")
                                    ? DashboardError.portInUse(host: host, port: port) : error)
            }
        }
        state.withLock { $0.task = task; $0.group = group }
        for try await bound in ports {
            state.withLock { $0.port = bound }
            return bound
        }
        throw DashboardError.badRequest("the dashboard stopped before it served")
    }

    /// Ends the event streams, shuts the server down gracefully (requests in flight finish), and waits until it has stopped.
    public func stop() async {
        await events.close()
        let (task, group) = state.withLock { s in defer { s.task = nil; s.group = nil }; return (s.task, s.group) }
        await group?.triggerGracefulShutdown()
        await task?.value
    }

    /// Serves until the task is cancelled or, with `untilSignal`, until SIGINT or SIGTERM (Ctrl-C), then stops gracefully.
    public func run(untilSignal: Bool = false) async throws {
        if port == nil { try await start() }
        let task = state.withLock { $0.task }
        var sources: [DispatchSourceSignal] = []
        if untilSignal {
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { Task { await self.stop() } }
                source.resume()
                sources.append(source)
            }
        }
        await withTaskCancellationHandler {
            await task?.value
        } onCancel: {
            Task { await self.stop() }
        }
        sources.forEach { $0.cancel() }
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body(&value)
    }
}
