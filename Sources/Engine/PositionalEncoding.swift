import Foundation

/// Sinusoidal positions added to a (B, L, D) sequence, interleaved and not scaled (models.md):
/// pe[t, 2i] = sin(t / 10000^(2i/D)), pe[t, 2i+1] = cos(t / 10000^(2i/D)) — the "Attention is all you need"
/// table as the PyTorch tutorial builds it (`pe[:, 0::2] = sin`, `pe[:, 1::2] = cos`). No parameters; the input
/// is not multiplied by sqrt(D). Backward passes the gradient through.
///
///     let pos = PositionalEncoding(dModel: 128)
///     let h = try pos.forward(x, ctx)
public final class PositionalEncoding: Layer {
    public let dModel: Int
    private var table: Tensor?
    private var output = ActivationBuffer()

    public init(dModel: Int) { self.dModel = dModel }

    /// The (length, dModel) table on the host.
    public static func table(length: Int, dModel: Int) -> [Float] {
        var pe = [Float](repeating: 0, count: length * dModel)
        for t in 0 ..< length {
            for i in stride(from: 0, to: dModel, by: 2) {
                let angle = Double(t) * exp(Double(i) * (-log(10000.0) / Double(dModel)))
                pe[t * dModel + i] = Float(sin(angle))
                if i + 1 < dModel { pe[t * dModel + i + 1] = Float(cos(angle)) }
            }
        }
        return pe
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        guard x.shape.count == 3, x.shape[2] == dModel else {
            throw .shapeMismatch(context: "PositionalEncoding forward", message: "expected (B, L, \(dModel)), got \(x.shape)")
        }
        let (b, l) = (x.shape[0], x.shape[1])
        if table == nil || table!.shape[0] < l || table!.backend !== ctx.backend {
            table = try Tensor(PositionalEncoding.table(length: l, dModel: dModel), shape: [l, dModel], on: ctx.backend)
        }
        let pe = try table!.view(offset: 0, shape: [l * dModel])
        let y = try output.tensor(x.shape, on: ctx.backend)
        try y.copy(from: x)
        try ctx.backend.biasAddForward(y, bias: pe, rows: b, columns: l * dModel)
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        inputGradient ? dOut : nil
    }
}
