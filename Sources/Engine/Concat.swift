/// Concatenation along the last axis of tensors with equal leading dimensions, and its backward (the split of the
/// output gradient back into per-input gradients), both with strided `copy2d`.
///
///     let cat = Concat()
///     let pooled = try cat.forward([last, mean], ctx)       // (B, 256) + (B, 256) -> (B, 512)
///     let grads = try cat.backward(dPooled, ctx)            // [(B, 256), (B, 256)]
public final class Concat {
    private var output = ActivationBuffer()
    private var gradients: [ActivationBuffer] = []
    private var widths: [Int] = []
    private var leading: [Int] = []

    public init() {}

    public func forward(_ inputs: [Tensor], _ ctx: Context) throws(EngineError) -> Tensor {
        guard let first = inputs.first, !first.shape.isEmpty else {
            throw .invalidArgument(context: "Concat", message: "needs at least one input of rank >= 1")
        }
        let lead = Array(first.shape.dropLast())
        for t in inputs where t.shape.isEmpty || Array(t.shape.dropLast()) != lead {
            throw .shapeMismatch(context: "Concat forward", message: "leading dimensions differ: \(first.shape) vs \(t.shape)")
        }
        let rows = lead.reduce(1, *)
        let total = inputs.reduce(0) { $0 + $1.shape.last! }
        let y = try output.tensor(lead + [total], on: ctx.backend)
        var column = 0
        for t in inputs {
            let w = t.shape.last!
            try ctx.backend.copy2D(y.view(offset: column, shape: [y.count - column]), ldd: total, t, lds: w, rows: rows,
                                   columns: w, accumulate: false)
            column += w
        }
        widths = inputs.map { $0.shape.last! }
        leading = lead
        return y
    }

    /// The gradient of each input, in input order.
    public func backward(_ dOut: Tensor, _ ctx: Context) throws(EngineError) -> [Tensor] {
        guard !widths.isEmpty else { throw .invalidState(context: "Concat.backward", message: "called before forward") }
        let total = widths.reduce(0, +)
        guard dOut.shape == leading + [total] else {
            throw .shapeMismatch(context: "Concat backward", message: "expected \(leading + [total]), got \(dOut.shape)")
        }
        if gradients.count < widths.count { gradients += Array(repeating: ActivationBuffer(), count: widths.count - gradients.count) }
        let rows = leading.reduce(1, *)
        var column = 0
        var out: [Tensor] = []
        for (i, w) in widths.enumerated() {
            let g = try gradients[i].tensor(leading + [w], on: ctx.backend)
            try ctx.backend.copy2D(g, ldd: w, dOut.view(offset: column, shape: [dOut.count - column]), lds: total,
                                   rows: rows, columns: w, accumulate: false)
            out.append(g)
            column += w
        }
        return out
    }
}

/// Element-wise sum of two same-shaped tensors (a residual connection). Backward hands the output gradient to
/// both inputs unchanged.
///
///     let add = Add()
///     let r = try add.forward(x, attn, ctx)
public final class Add {
    private var output = ActivationBuffer()

    public init() {}

    public func forward(_ a: Tensor, _ b: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        guard a.shape == b.shape else {
            throw .shapeMismatch(context: "Add forward", message: "\(a.shape) + \(b.shape)")
        }
        let y = try output.tensor(a.shape, on: ctx.backend)
        try y.copy(from: a)
        try ctx.backend.axpy(y, b, alpha: 1, count: y.count)
        return y
    }
}
