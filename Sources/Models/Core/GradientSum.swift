import Engine

/// A model-owned buffer for adding gradient contributions that layers return in their own memory (residual
/// branches, a tensor read by two layers): `sum(a, b)` = a + b without touching either.
///
///     var residual = GradientSum()
///     let dx = try residual.sum(dOut, try branch.backward(dOut, ctx))
struct GradientSum {
    private var buffer = ActivationBuffer()

    mutating func sum(_ a: Tensor, _ b: Tensor) throws(EngineError) -> Tensor {
        guard a.count == b.count else {
            throw .shapeMismatch(context: "gradient sum", message: "\(a.shape) + \(b.shape)")
        }
        let out = try buffer.tensor(a.shape, on: a.backend)
        try out.copy(from: a)
        try a.backend.axpy(out, b, alpha: 1, count: out.count)
        return out
    }
}
