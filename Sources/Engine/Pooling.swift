/// Pooling over time of a (B, L, C) sequence into (B, C): the mean over L, or one time step (the last by default).
///
///     let last = TimePool(.last)
///     let mean = TimePool(.mean)
///     let pooled = try mean.forward(h, ctx)   // (B, L, C) -> (B, C)
public final class TimePool: Layer {
    public enum Mode: Sendable, Equatable {
        case mean
        /// The last step (L - 1).
        case last
        /// A fixed step; negative counts from the end (-1 = last).
        case step(Int)
    }

    public let mode: Mode
    private var output = ActivationBuffer()
    private var dInput = ActivationBuffer()
    private var inputShape: [Int]?

    public init(_ mode: Mode) { self.mode = mode }

    private func dims(_ shape: [Int], _ context: String) throws(EngineError) -> (Int, Int, Int) {
        guard shape.count == 3 else { throw .shapeMismatch(context: context, message: "expected (B, L, C), got \(shape)") }
        return (shape[0], shape[1], shape[2])
    }

    private func step(_ length: Int) -> Int {
        switch mode {
        case .mean: 0
        case .last: length - 1
        case .step(let t): t < 0 ? length + t : t
        }
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let (b, l, c) = try dims(x.shape, "TimePool forward")
        let y = try output.tensor([b, c], on: ctx.backend)
        if mode == .mean {
            try ctx.backend.meanPoolForward(out: y, input: x, batch: b, length: l, channels: c)
        } else {
            try ctx.backend.stepPoolForward(out: y, input: x, batch: b, length: l, channels: c, step: step(l))
        }
        inputShape = x.shape
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        guard inputGradient else { return nil }
        let shape = try saved(inputShape, "TimePool")
        let (b, l, c) = try dims(shape, "TimePool backward")
        let dx = try dInput.zeros(shape, on: ctx.backend)
        if mode == .mean {
            try ctx.backend.meanPoolBackward(dInput: dx, dOut: dOut, batch: b, length: l, channels: c)
        } else {
            try ctx.backend.stepPoolBackward(dInput: dx, dOut: dOut, batch: b, length: l, channels: c, step: step(l))
        }
        return dx
    }
}
