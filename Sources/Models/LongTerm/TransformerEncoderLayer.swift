import Engine

/// A pre-LayerNorm Transformer encoder layer with `nn.TransformerEncoderLayer`'s parameter names (`self_attn`,
/// `linear1`, `linear2`, `norm1`, `norm2`), GELU, dropout on the attention output, inside the feed-forward and on
/// its output, and no attention dropout (models.md):
///   x = x + dropout1(self_attn(norm1(x)));  x = x + dropout2(linear2(dropout(gelu(linear1(norm2(x))))))
///
///     let layer = try TransformerEncoderLayer(dModel: 128, heads: 4, feedforward: 256, dropout: 0.1, eps: 1e-5,
///                                             name: "encoder.layers.0", layout: &layout)
public final class TransformerEncoderLayer: Layer {
    let norm1: LayerNorm
    let selfAttention: MultiHeadAttention
    let dropout1: Dropout
    let norm2: LayerNorm
    let linear1: Linear
    let gelu = ActivationLayer(.gelu)
    let dropout: Dropout
    let linear2: Linear
    let dropout2: Dropout
    private let attentionResidual = Add()
    private let feedForwardResidual = Add()
    private var dMiddle = GradientSum()
    private var dInput = GradientSum()

    public init(dModel: Int, heads: Int, feedforward: Int, dropout p: Float, eps: Float, name: String,
                layout: inout ParameterLayout) throws(EngineError) {
        func n(_ s: String) -> String { ParameterLayout.join(name, s) }
        selfAttention = try MultiHeadAttention(embedDim: dModel, heads: heads, name: n("self_attn"), layout: &layout)
        linear1 = try Linear(dModel, feedforward, name: n("linear1"), layout: &layout)
        linear2 = try Linear(feedforward, dModel, name: n("linear2"), layout: &layout)
        norm1 = try LayerNorm(dModel, eps: eps, name: n("norm1"), layout: &layout)
        norm2 = try LayerNorm(dModel, eps: eps, name: n("norm2"), layout: &layout)
        dropout1 = try Dropout(p)
        dropout = try Dropout(p)
        dropout2 = try Dropout(p)
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let a = try dropout1.forward(selfAttention.forward(norm1.forward(x, ctx), ctx), ctx)
        let middle = try attentionResidual.forward(x, a, ctx)
        let f = try linear1.forward(norm2.forward(middle, ctx), ctx)
        let g = try dropout2.forward(linear2.forward(dropout.forward(gelu.forward(f, ctx), ctx), ctx), ctx)
        return try feedForwardResidual.forward(middle, g, ctx)
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        var d = try linear2.backward(dropout2.backward(dOut, ctx), ctx)
        d = try norm2.backward(linear1.backward(gelu.backward(dropout.backward(d, ctx), ctx), ctx), ctx)
        let dM = try dMiddle.sum(dOut, d)
        d = try norm1.backward(selfAttention.backward(dropout1.backward(dM, ctx), ctx), ctx)
        return try dInput.sum(dM, d)
    }
}
