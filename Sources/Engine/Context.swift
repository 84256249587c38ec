/// The state a forward/backward pass runs in: backend, parameters, training or inference mode, and the dropout
/// random stream. Dropout calls draw consecutive Philox offsets from `(dropoutSeed, offset)`, so a run is
/// reproducible from its seed, and backward regenerates each mask from the (seed, offset) its forward used.
///
///     let ctx = Context(parameters: store, training: true, dropoutSeed: 1)
///     let y = try model.forward(x, ctx)
///     ctx.training = false            // inference: dropout off, no gradients kept
public final class Context: @unchecked Sendable {
    public let parameters: ParameterStore
    public var backend: Backend { parameters.backend }
    /// Training mode: dropout active and activations kept for backward. Inference: dropout is the identity.
    public var training: Bool
    public var dropoutSeed: UInt64
    /// The Philox offset the next dropout call uses (advanced by one per call).
    public private(set) var dropoutOffset: UInt64 = 0

    public init(parameters: ParameterStore, training: Bool = true, dropoutSeed: UInt64 = 0) {
        self.parameters = parameters
        self.training = training
        self.dropoutSeed = dropoutSeed
    }

    /// Reserves the next Philox offset.
    public func nextDropoutOffset() -> UInt64 {
        defer { dropoutOffset &+= 1 }
        return dropoutOffset
    }

    /// Restarts the dropout stream (for reproducing a run from a known point).
    public func resetDropout(seed: UInt64, offset: UInt64 = 0) {
        dropoutSeed = seed
        dropoutOffset = offset
    }

    @inline(__always) func value(_ id: ParameterID) -> Tensor { parameters.value(id) }
    @inline(__always) func gradient(_ id: ParameterID) -> Tensor? { parameters.gradient(id) }
}
