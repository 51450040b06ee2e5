import Foundation

/// An n-dimensional array of Float32 in contiguous row-major storage, with reverse-mode autodiff.
///
/// Ops (functions in this module) return new tensors and, when any input requires a gradient and
/// grad mode is on, record a backward closure on the result. ``Tensor/backward()`` on a scalar loss
/// runs those closures in reverse topological order, accumulating into each input's ``grad``, then
/// frees the graph. Parameters are leaf tensors created with `requiresGrad: true`; their gradients
/// accumulate across `backward()` calls until ``Tensor/zeroGrad()``.
public final class Tensor {
    /// Row-major shape, e.g. `[B, T, C]`.
    public let shape: [Int]
    /// Number of elements (product of `shape`).
    public let count: Int
    let storage: Storage
    /// Whether gradients flow to this tensor.
    public var requiresGrad: Bool
    /// Accumulated gradient, same shape; nil until a backward pass reaches this tensor.
    public internal(set) var grad: Tensor?
    /// A short name for error messages and parameter listings.
    public var name: String = ""

    // The graph: set by ops when recording, cleared after backward.
    var parents: [Tensor] = []
    var backwardFn: ((Tensor) -> Void)?

    /// A new uninitialised tensor (contents are whatever the pool held; every op overwrites).
    init(uninitialized shape: [Int]) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = Storage(capacity: count)
        self.requiresGrad = false
    }

    /// A view sharing `base`'s storage with a new shape of the same element count.
    init(sharing base: Tensor, shape: [Int]) {
        self.shape = shape
        self.count = base.count
        self.storage = base.storage
        self.requiresGrad = false
    }

    /// A tensor holding `values` (row-major) with `shape`.
    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        self.init(uninitialized: shape)
        guard values.count == count else {
            shapeFailure("Tensor(_:shape:)", "\(values.count) values do not fill shape \(shape) (\(count) elements)")
        }
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
        self.requiresGrad = requiresGrad
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.pointer.initialize(repeating: 0, count: t.count)
        t.requiresGrad = requiresGrad
        return t
    }

    /// `value` everywhere.
    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.pointer.initialize(repeating: value, count: t.count)
        t.requiresGrad = requiresGrad
        return t
    }

    /// Normal(mean, std²) entries drawn from `rng`.
    public static func randn(_ shape: [Int], std: Float = 1, mean: Float = 0, rng: inout RNG, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = mean + std * rng.normal() }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Uniform entries in [low, high) drawn from `rng`.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout RNG, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = low + (high - low) * rng.uniform() }
        t.requiresGrad = requiresGrad
        return t
    }

    /// The raw contiguous data. Valid while the tensor lives.
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    /// A copy of the data as an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// The single value of a one-element tensor.
    public var item: Float {
        guard count == 1 else { shapeFailure("item", "tensor of shape \(shape) has \(count) elements, expected 1") }
        return pointer[0]
    }

    /// Size of the last dimension.
    public var lastDim: Int { shape.last ?? 1 }

    /// Sets every element of the gradient to zero (keeps the buffer).
    public func zeroGrad() {
        if let g = grad {
            let p = g.pointer
            Parallel.forEachChunk(g.count, grain: 1 << 16) { r in (p + r.lowerBound).update(repeating: 0, count: r.count) }
        }
    }

    /// Drops the gradient buffer.
    public func clearGrad() { grad = nil }

    /// The gradient buffer, created zeroed on first use. Backward closures accumulate into it.
    @inline(__always)
    func gradPointer() -> UnsafeMutablePointer<Float> {
        if let g = grad { return g.pointer }
        let g = Tensor.zeros(shape)
        grad = g
        return g.pointer
    }

    /// The gradient buffer for a backward closure that writes every element of it. Returns the buffer and
    /// whether to accumulate: when no gradient exists yet, the buffer is created uninitialised and
    /// `accumulate` is false, so the caller overwrites it (no zero-fill and no read of zeros).
    @inline(__always)
    func gradBuffer() -> (pointer: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if let g = grad { return (g.pointer, true) }
        let g = Tensor(uninitialized: shape)
        grad = g
        return (g.pointer, false)
    }

    /// Adds `g` (an op output's gradient with this tensor's element count) to this tensor's gradient.
    /// When there is none yet, `g`'s buffer itself becomes the gradient (no copy): valid because an
    /// output's gradient is read only by its own backward closure, which calls this, and is dropped after.
    /// A closure may hand the same `g` to one input only.
    func receiveGrad(_ g: Tensor) {
        guard let mine = grad else {
            grad = g.shape == shape ? g : Tensor(sharing: g, shape: shape)
            return
        }
        let src = g.pointer, dst = mine.pointer
        Parallel.forEachChunk(count, grain: 16384) { r in addInPlace(r.count, src + r.lowerBound, dst + r.lowerBound) }
    }

    /// Copies `other`'s data into this tensor (same element count), outside the graph.
    public func copyData(from other: Tensor) {
        guard other.count == count else { shapeFailure("copyData", "shapes \(shape) and \(other.shape) differ in size") }
        pointer.update(from: other.pointer, count: count)
    }

    /// A new tensor with the same data, no graph, no gradient.
    public func detached() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = array.prefix(8).map { String(format: "%.4f", $0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(shown)\(count > 8 ? ", …" : "")]"
    }
}

/// Stops the program with a message that names the op and the shapes involved.
/// Shape errors are programming errors in the training file; the message is written to stderr
/// (and stdout, so the harness's run log has it) and the process exits with status 2, without a stack trace.
public func shapeFailure(_ op: String, _ message: String) -> Never {
    let line = "FAIL: shape error in \(op): \(message)\n"
    FileHandle.standardError.write(line.data(using: .utf8)!)
    print(line, terminator: "")
    fflush(stdout)
    exit(2)
}
