/// Global-norm gradient clipping as `torch.nn.utils.clip_grad_norm_`: norm = sqrt(sum of all squared gradients)
/// (ONE kernel call over the whole gradient buffer), scale = min(1, max_norm / (norm + 1e-6)).
///
///     let c = try GradientClipping.scale(store, maxNorm: 1.0)
///     try optimizer.step(gradientScale: c.scale)      // cheapest: AdamW applies the scale
///     try GradientClipping.clip(store, maxNorm: 1.0)  // or rescale the gradients in place
public enum GradientClipping {
    public struct Result: Sendable, Equatable {
        /// The global norm before clipping (may be inf/nan when a gradient is).
        public let norm: Float
        /// min(1, maxNorm / (norm + 1e-6)).
        public let scale: Float
    }

    /// The global gradient norm and the clipping scale, without touching the gradients.
    public static func scale(_ store: ParameterStore, maxNorm: Float) throws(EngineError) -> Result {
        guard maxNorm > 0 else { throw .invalidArgument(context: "GradientClipping", message: "maxNorm must be positive, got \(maxNorm)") }
        let norm = try globalNorm(store)
        return Result(norm: norm, scale: min(1, maxNorm / (norm + 1e-6)))
    }

    /// Scales the gradients in place when their norm exceeds `maxNorm`; returns the norm and scale used.
    @discardableResult
    public static func clip(_ store: ParameterStore, maxNorm: Float) throws(EngineError) -> Result {
        let r = try scale(store, maxNorm: maxNorm)
        if r.scale < 1, let g = store.gradients {
            try store.backend.scaleShift(g, alpha: r.scale, beta: 0, count: g.count)
        }
        return r
    }

    /// sqrt(sum g^2) over the whole gradient buffer.
    public static func globalNorm(_ store: ParameterStore) throws(EngineError) -> Float {
        guard let g = store.gradients else {
            throw .invalidState(context: "GradientClipping", message: "the parameter store has no gradient buffer")
        }
        let out = store.scalarScratch
        try store.backend.globalNorm(out: out, g, count: g.count)
        return try out.scalar()
    }
}
