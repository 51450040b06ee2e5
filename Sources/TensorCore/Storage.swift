import Foundation

/// Contiguous Float32 memory for tensors, recycled through a size-keyed pool so a training step
/// allocates nothing from the system after the first step (no per-step memory growth).
final class Storage {
    let pointer: UnsafeMutablePointer<Float>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.pointer = BufferPool.take(capacity)
    }

    deinit { BufferPool.give(pointer, capacity) }
}

/// Free buffers by exact capacity. Thread-safe; allocation happens on the caller's thread, never in kernels.
enum BufferPool {
    nonisolated(unsafe) private static var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    nonisolated(unsafe) private static var pooledFloats = 0
    /// How many buffers were allocated from the system (not the pool) so far.
    nonisolated(unsafe) static private(set) var systemAllocations = 0
    private static let lock = NSLock()
    /// Buffers beyond this many floats in total (a quarter of physical memory, at least 1 GiB) are
    /// released to the system instead of pooled. A training step's buffers must all fit, or every step
    /// returns the excess to the system and page-faults it back in (config (c) of the bench needs 1.3 GB).
    static let limit = max(1 << 28, Int(ProcessInfo.processInfo.physicalMemory / 4) / MemoryLayout<Float>.stride)

    static func take(_ capacity: Int) -> UnsafeMutablePointer<Float> {
        lock.lock()
        if var list = free[capacity], let p = list.popLast() {
            free[capacity] = list
            pooledFloats -= capacity
            lock.unlock()
            return p
        }
        systemAllocations += 1
        lock.unlock()
        let bytes = max(1, capacity) * MemoryLayout<Float>.stride
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: Float.self, capacity: max(1, capacity))
    }

    static func give(_ p: UnsafeMutablePointer<Float>, _ capacity: Int) {
        lock.lock()
        if pooledFloats + capacity <= limit {
            free[capacity, default: []].append(p)
            pooledFloats += capacity
            lock.unlock()
        } else {
            lock.unlock()
            UnsafeMutableRawPointer(p).deallocate()
        }
    }
}
