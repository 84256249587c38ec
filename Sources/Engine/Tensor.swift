import CKernels

/// One allocation of backend memory, freed when the last tensor viewing it goes away.
public final class DeviceBuffer: @unchecked Sendable {
    public let backend: Backend
    /// Backend pointer to the first float (nil when `count` is 0). Never dereference unless `backend.hostMemory`.
    public let base: UnsafeMutablePointer<Float>?
    /// Capacity in floats.
    public let count: Int

    public init(count: Int, on backend: Backend) throws(EngineError) {
        guard count >= 0 else { throw .invalidArgument(context: "DeviceBuffer", message: "negative count \(count)") }
        self.backend = backend
        self.count = count
        self.base = try backend.allocate(bytes: count * MemoryLayout<Float>.stride)?.assumingMemoryBound(to: Float.self)
    }

    deinit { try? backend.release(base) }
}

/// An fp32 tensor: a shape and a view (offset, row-major contiguous) into a `DeviceBuffer` owned by a backend.
///
/// Many tensors may view one buffer — a model's parameters are views into ONE contiguous buffer, so the optimizer
/// and the gradient norm are single kernel calls (as llm.c). Swift never reads device memory directly: data moves
/// with `init(_:shape:on:)`, `toArray()` and `copy(from:)`.
///
///     let x = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], on: .cpu)
///     let row1 = try x.view(offset: 3, shape: [3])
///     try row1.toArray()   // [4, 5, 6]
public struct Tensor: Sendable, CustomStringConvertible {
    public let storage: DeviceBuffer
    /// Offset of the first element in `storage`, in floats.
    public let offset: Int
    public let shape: [Int]

    /// A new zero-filled tensor.
    public init(zeros shape: [Int], on backend: Backend) throws(EngineError) {
        let n = try Tensor.elementCount(shape, "Tensor(zeros:)")
        storage = try DeviceBuffer(count: n, on: backend)
        offset = 0
        self.shape = shape
        try zero()
    }

    /// A new tensor holding `values` (row-major), copied to the backend.
    public init(_ values: [Float], shape: [Int], on backend: Backend) throws(EngineError) {
        let n = try Tensor.elementCount(shape, "Tensor(_:shape:)")
        guard n == values.count else {
            throw .shapeMismatch(context: "Tensor(_:shape:)", message: "\(values.count) values for shape \(shape) (\(n) elements)")
        }
        storage = try DeviceBuffer(count: n, on: backend)
        offset = 0
        self.shape = shape
        try copy(from: values)
    }

    /// A view of `shape` starting `offset` floats into `storage`.
    public init(storage: DeviceBuffer, offset: Int, shape: [Int]) throws(EngineError) {
        let n = try Tensor.elementCount(shape, "Tensor(storage:offset:shape:)")
        guard offset >= 0, offset + n <= storage.count else {
            throw .shapeMismatch(context: "Tensor view", message: "offset \(offset) + \(n) elements exceeds buffer of \(storage.count)")
        }
        self.storage = storage
        self.offset = offset
        self.shape = shape
    }

    static func elementCount(_ shape: [Int], _ context: String) throws(EngineError) -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw .shapeMismatch(context: context, message: "negative dimension in \(shape)") }
            n *= d
        }
        return n
    }

    public var backend: Backend { storage.backend }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    /// Floats from this view's start to the end of its buffer (what a strided kernel argument may reach).
    public var available: Int { storage.count - offset }
    /// Backend pointer to the first element (opaque for device backends).
    public var pointer: UnsafeMutablePointer<Float>? { storage.base.map { $0 + offset } }

    public var description: String { "Tensor(\(shape), \(backend.name), offset \(offset))" }

    /// A view of `shape` starting `offset` floats after this tensor's start (within the same buffer).
    public func view(offset: Int, shape: [Int]) throws(EngineError) -> Tensor {
        try Tensor(storage: storage, offset: self.offset + offset, shape: shape)
    }

    /// The same elements with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) throws(EngineError) -> Tensor {
        let n = try Tensor.elementCount(newShape, "Tensor.reshaped")
        guard n == count else {
            throw .shapeMismatch(context: "Tensor.reshaped", message: "cannot reshape \(shape) to \(newShape)")
        }
        return try Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// Copies the elements to the host.
    public func toArray() throws(EngineError) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        let bytes = count * MemoryLayout<Float>.stride
        let src = UnsafeRawPointer(pointer)
        var failure: EngineError?
        out.withUnsafeMutableBytes { buf in
            do throws(EngineError) { try backend.copyToHost(buf.baseAddress!, from: src, bytes: bytes) } catch { failure = error }
        }
        if let failure { throw failure }
        return out
    }

    /// The single element of a one-element tensor.
    public func scalar() throws(EngineError) -> Float {
        guard count >= 1 else { throw .shapeMismatch(context: "Tensor.scalar", message: "empty tensor") }
        var v: Float = 0
        try backend.copyToHost(&v, from: UnsafeRawPointer(pointer), bytes: MemoryLayout<Float>.stride)
        return v
    }

    /// Overwrites the elements with host `values` (count must match).
    public func copy(from values: [Float]) throws(EngineError) {
        guard values.count == count else {
            throw .shapeMismatch(context: "Tensor.copy(from:)", message: "\(values.count) values into \(shape)")
        }
        let dst = UnsafeMutableRawPointer(pointer)
        var failure: EngineError?
        values.withUnsafeBytes { buf in
            do throws(EngineError) { try backend.copyToDevice(dst, from: buf.baseAddress!, bytes: buf.count) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Overwrites the elements with another tensor's (same count, same backend).
    public func copy(from other: Tensor) throws(EngineError) {
        guard other.count == count else {
            throw .shapeMismatch(context: "Tensor.copy(from: Tensor)", message: "\(other.shape) into \(shape)")
        }
        guard other.backend === backend else {
            throw .backendMismatch(context: "Tensor.copy(from: Tensor)", expected: backend.name, found: other.backend.name)
        }
        try backend.copyOnDevice(UnsafeMutableRawPointer(pointer), from: UnsafeRawPointer(other.pointer),
                                 bytes: count * MemoryLayout<Float>.stride)
    }

    /// A copy of this tensor on another backend (host round trip when the backends differ).
    public func moved(to target: Backend) throws(EngineError) -> Tensor {
        if target === backend {
            let t = try Tensor(zeros: shape, on: target)
            try t.copy(from: self)
            return t
        }
        return try Tensor(toArray(), shape: shape, on: target)
    }

    /// Sets every element to zero.
    public func zero() throws(EngineError) {
        try backend.zero(UnsafeMutableRawPointer(pointer), bytes: count * MemoryLayout<Float>.stride)
    }
}
