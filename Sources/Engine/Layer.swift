/// A layer with one input and one output, forward and explicit backward (saved activations, no autograd).
///
/// Conventions:
/// - `forward` returns a view into memory the layer owns; it stays valid until the layer's next forward. The
///   layer keeps a reference to its input for backward, so the caller must not overwrite the input in between.
/// - `backward` ACCUMULATES parameter gradients into the store's gradient buffer (zero it once per step with
///   `ParameterStore.zeroGradients`) and returns the gradient of the input (again layer-owned memory).
/// - Buffers are allocated on first use and grow only, so steady-state steps allocate nothing.
/// - A layer object is used once per forward pass (no weight sharing across calls within one pass).
///
///     let h = try conv.forward(x, ctx)
///     let y = try fc.forward(h, ctx)
///     let dh = try fc.backward(dy, ctx)
///     try conv.backwardParametersOnly(dh, ctx)   // first layer: no input gradient needed
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, _ ctx: Context) throws(EngineError) -> Tensor
    /// Gradients of the parameters (accumulated) and, when `inputGradient`, of the input (returned).
    func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor?
}

extension Layer {
    /// Backward returning the input gradient.
    public func backward(_ dOut: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        guard let d = try backward(dOut, ctx, inputGradient: true) else {
            throw .invalidState(context: "\(Self.self).backward", message: "no input gradient produced")
        }
        return d
    }

    /// Backward for parameter gradients only (the first layer of a network).
    public func backwardParametersOnly(_ dOut: Tensor, _ ctx: Context) throws(EngineError) {
        _ = try backward(dOut, ctx, inputGradient: false)
    }
}

/// A reusable, grow-only allocation for a layer's output, cache or gradient: `tensor(shape)` returns a view of the
/// requested shape, reallocating only when it needs more room than any earlier call (or another backend).
public struct ActivationBuffer: Sendable {
    private var buffer: DeviceBuffer?

    public init() {}

    public mutating func tensor(_ shape: [Int], on backend: Backend) throws(EngineError) -> Tensor {
        let n = try Tensor.elementCount(shape, "ActivationBuffer")
        if buffer == nil || buffer!.count < n || buffer!.backend !== backend {
            buffer = nil
            buffer = try DeviceBuffer(count: n, on: backend)
        }
        return try Tensor(storage: buffer!, offset: 0, shape: shape)
    }

    /// Like `tensor`, zero-filled (for gradients that kernels accumulate into).
    public mutating func zeros(_ shape: [Int], on backend: Backend) throws(EngineError) -> Tensor {
        let t = try tensor(shape, on: backend)
        try t.zero()
        return t
    }

    /// Floats currently reserved.
    public var capacity: Int { buffer?.count ?? 0 }
}

/// Saved state checks shared by layers.
@inline(__always)
func saved<T>(_ value: T?, _ layer: String) throws(EngineError) -> T {
    guard let value else {
        throw .invalidState(context: "\(layer).backward", message: "called without a training-mode forward pass")
    }
    return value
}

/// Splits a (..., C) shape into rows (product of leading dims) and C, checking C.
@inline(__always)
func rowsAndColumns(_ shape: [Int], expecting columns: Int, _ context: String) throws(EngineError) -> Int {
    guard let last = shape.last, last == columns else {
        throw .shapeMismatch(context: context, message: "expected last dimension \(columns), got shape \(shape)")
    }
    return shape.dropLast().reduce(1, *)
}
