/// `nn.Dropout(p)` with a counter-based Philox mask (reproducible on every backend): in training each call takes
/// the next Philox offset of the context's dropout stream and keeps elements with probability 1-p, scaled by
/// 1/(1-p); backward regenerates the same mask from (seed, offset), so no mask is stored. In inference mode (or
/// p = 0) it returns its input unchanged, without a copy.
///
///     let drop = try Dropout(0.1)
///     let h = try drop.forward(x, ctx)
public final class Dropout: Layer {
    public let p: Float
    private var output = ActivationBuffer()
    private var dInput = ActivationBuffer()
    /// (seed, offset) of the last training forward; nil when it was the identity.
    private var used: (seed: UInt64, offset: UInt64)?
    private var wasIdentity = false

    public init(_ p: Float) throws(EngineError) {
        guard p >= 0, p < 1 else { throw .invalidArgument(context: "Dropout", message: "p must be in [0, 1), got \(p)") }
        self.p = p
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        guard ctx.training, p > 0 else {
            wasIdentity = true
            used = nil
            return x
        }
        wasIdentity = false
        let y = try output.tensor(x.shape, on: ctx.backend)
        let offset = ctx.nextDropoutOffset()
        try ctx.backend.dropoutForward(out: y, input: x, count: x.count, p: p, seed: ctx.dropoutSeed, offset: offset)
        used = (ctx.dropoutSeed, offset)
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        guard inputGradient else { return nil }
        if wasIdentity { return dOut }
        let (seed, offset) = try saved(used, "Dropout")
        // dx = mask * dOut / (1 - p): the forward op on dOut with the same (seed, offset) draws the same mask and
        // writes it directly (equal, bit for bit, to accumulating the backward op into zeros).
        let dx = try dInput.tensor(dOut.shape, on: ctx.backend)
        try ctx.backend.dropoutForward(out: dx, input: dOut, count: dOut.count, p: p, seed: seed, offset: offset)
        return dx
    }
}
