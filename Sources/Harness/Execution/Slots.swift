import Foundation

/// Hands out slots, one experiment per slot, and measures how busy they are.
///
/// `acquire` waits (without polling) until a slot is free; waiters are served first come, first served.
/// A released slot goes straight to the longest waiter, so no slot stands free while an experiment waits.
/// The pool records the seconds each slot was held, for the utilisation figures.
public actor SlotPool {
    public let slots: [Slot]
    private var free: [Int]
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Int, Error>)] = []
    private var nextWaiter: UInt64 = 0
    private var heldSince: [Int: Date] = [:]
    /// Seconds each slot was held.
    public private(set) var busySeconds: [Double]
    public private(set) var createdAt = Date()

    public init(_ slots: [Slot]) {
        precondition(!slots.isEmpty, "a slot pool needs at least one slot")
        self.slots = slots
        free = Array(slots.indices.reversed())
        busySeconds = Array(repeating: 0, count: slots.count)
    }

    /// A free slot's index; waits for one. Throws `CancellationError` if the task is cancelled while waiting.
    public func acquire() async throws -> Int {
        try Task.checkCancellation()
        if let index = free.popLast() { return take(index) }
        nextWaiter += 1
        let id = nextWaiter
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, Error>) in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: UInt64) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(throwing: CancellationError())
    }

    private func take(_ index: Int) -> Int {
        heldSince[index] = Date()
        peakHeld = max(peakHeld, heldSince.count)
        return index
    }

    /// The most slots held at the same moment since the pool was made (or its statistics reset).
    public private(set) var peakHeld = 0

    /// Gives the slot back; the longest waiter gets it at once.
    public func release(_ index: Int) {
        let now = Date()
        if let since = heldSince.removeValue(forKey: index) { busySeconds[index] += now.timeIntervalSince(since) }
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            waiter.continuation.resume(returning: take(index))
        } else {
            free.append(index)
        }
    }

    /// Σ busy / (slots × seconds since the pool was made), counting slots held now up to now.
    public func utilisation(until end: Date = Date()) -> Double {
        var busy = busySeconds.reduce(0, +)
        for (_, since) in heldSince { busy += end.timeIntervalSince(since) }
        let span = end.timeIntervalSince(createdAt) * Double(slots.count)
        return span > 0 ? busy / span : 0
    }

    /// Starts the utilisation figures afresh (e.g. once the baseline is done and every worker runs).
    public func resetStatistics() {
        let now = Date()
        createdAt = now
        busySeconds = Array(repeating: 0, count: slots.count)
        for index in heldSince.keys { heldSince[index] = now }
        peakHeld = heldSince.count
    }

    /// How many experiments are waiting for a slot now.
    public var waiting: Int { waiters.count }
    /// How many slots are held now.
    public var held: Int { heldSince.count }
}
