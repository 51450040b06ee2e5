import AutoResearchCore
import Foundation

/// One `autoresearch run` per workspace at a time: an exclusive `flock` on `.autoresearch/run.lock`,
/// which the kernel releases when the holder exits, even by SIGKILL (so a resume never waits on a dead harness).
final class RunLock {
    private var fd: Int32

    init(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)  // CLOEXEC: children must not hold the lock
        guard fd >= 0 else { throw HarnessError.other("cannot open \(url.path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw HarnessError.other("another `autoresearch run` is active in this workspace (pid \(holder)); "
                                     + "stop it (Ctrl-C) or wait for it, then run again. `autoresearch status` shows what it does.")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
