import AutoResearchCore
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C handling for long commands: the first SIGINT (or SIGTERM) cancels the operation's task, which
/// stops the experiment in flight (its process group killed, the experiment recorded `interrupted`);
/// a second one kills every child process group at once and exits with status 130.
public enum Interrupts {
    /// Runs `operation` with SIGINT and SIGTERM turned into task cancellation.
    public static func cancellingOnSignal<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await operation() }
        let counter = SignalCounter()
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if counter.increment() == 1 {
                    FileHandle.standardError.write(Data("\nstopping: the experiment in flight is abandoned and recorded as interrupted (Ctrl-C again to quit at once)\n".utf8))
                    task.cancel()
                } else {
                    ActiveProcessGroups.shared.killAll()
                    _exit(130)
                }
            }
            source.resume()
            sources.append(source)
        }
        defer {
            for source in sources { source.cancel() }
            signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
        }
        return try await task.value
    }
}

/// Counts signals; touched only from the signal sources' handlers.
private final class SignalCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; count += 1; return count }
}
