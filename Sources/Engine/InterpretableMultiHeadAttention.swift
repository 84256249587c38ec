/// The Temporal Fusion Transformer's interpretable multi-head self-attention (Lim et al. 2021, eq. 14-16;
/// pytorch-forecasting's `InterpretableMultiHeadAttention` without dropout): every head has its own query and key
/// projection (d -> d/heads) but all heads share ONE value projection (d -> d/heads); the heads' outputs
/// softmax(q_h k_h^T / sqrt(d/heads)) v are averaged, then projected back to d.
///
/// Parameters: `<name>.q_proj.weight` (heads*hs, d) — the per-head query Linears stacked by rows, head h in rows
/// h*hs ..< (h+1)*hs —, `<name>.k_proj.weight` likewise, `<name>.v_proj.weight` (hs, d), their biases
/// `q_proj.bias`, `k_proj.bias`, `v_proj.bias`, and `<name>.out_proj.weight` (d, hs) / `out_proj.bias` (d). The
/// three projection weights are declared next to each other (and the three biases too), so the projections run as
/// ONE matrix product. Init as pytorch-forecasting: xavier-uniform weights, zero biases.
///
///     let attn = try InterpretableMultiHeadAttention(dModel: 128, heads: 4, name: "attention", layout: &layout)
///     let y = try attn.forward(x, ctx)        // (B, L, 128) -> (B, L, 128)
///     let w = attn.attentionWeights           // (B, 4, L, L)
public final class InterpretableMultiHeadAttention: Layer {
    public let dModel: Int
    public let heads: Int
    public var headSize: Int { dModel / heads }
    public let qWeight: ParameterID, kWeight: ParameterID, vWeight: ParameterID
    public let qBias: ParameterID, kBias: ParameterID, vBias: ParameterID
    public let outProj: Linear
    public var mask: Tensor?
    public private(set) var attentionWeights: Tensor?

    private var projected = ActivationBuffer()
    private var attended = ActivationBuffer()
    private var probs = ActivationBuffer()
    private var dProjected = ActivationBuffer()
    private var dInput = ActivationBuffer()
    private var scratch = ActivationBuffer()
    private var saved: (input: Tensor, projected: Tensor, probs: Tensor)?

    /// Width of the packed projection: q (heads*hs) + k (heads*hs) + v (hs).
    var packedWidth: Int { 2 * heads * headSize + headSize }

    public init(dModel: Int, heads: Int, name: String, layout: inout ParameterLayout) throws(EngineError) {
        guard dModel > 0, heads > 0, dModel % heads == 0 else {
            throw .invalidArgument(context: "InterpretableMultiHeadAttention '\(name)'", message: "dModel \(dModel) must be a positive multiple of heads \(heads)")
        }
        self.dModel = dModel
        self.heads = heads
        let hs = dModel / heads
        let xavier = ParameterInit.xavierUniform(fanIn: dModel, fanOut: hs)
        func p(_ s: String) -> String { ParameterLayout.join(name, s) }
        qWeight = try layout.declare("weight", prefix: p("q_proj"), shape: [heads * hs, dModel], initializer: xavier)
        kWeight = try layout.declare("weight", prefix: p("k_proj"), shape: [heads * hs, dModel], initializer: xavier)
        vWeight = try layout.declare("weight", prefix: p("v_proj"), shape: [hs, dModel], initializer: xavier)
        qBias = try layout.declare("bias", prefix: p("q_proj"), shape: [heads * hs], initializer: .constant(0))
        kBias = try layout.declare("bias", prefix: p("k_proj"), shape: [heads * hs], initializer: .constant(0))
        vBias = try layout.declare("bias", prefix: p("v_proj"), shape: [hs], initializer: .constant(0))
        outProj = try Linear(hs, dModel, name: p("out_proj"), layout: &layout,
                             weightInit: .xavierUniform(fanIn: hs, fanOut: dModel), biasInit: .constant(0))
    }

    /// The packed (weight, bias) views over q/k/v: contiguous because they were declared back to back.
    private func packed(_ store: ParameterStore) throws(EngineError) -> (Tensor, Tensor) {
        let w = try store.values.view(offset: store.layout[qWeight].offset, shape: [packedWidth, dModel])
        let b = try store.values.view(offset: store.layout[qBias].offset, shape: [packedWidth])
        return (w, b)
    }

    private func packedGradients(_ store: ParameterStore) throws(EngineError) -> (Tensor, Tensor)? {
        guard let g = store.gradients else { return nil }
        return (try g.view(offset: store.layout[qWeight].offset, shape: [packedWidth, dModel]),
                try g.view(offset: store.layout[qBias].offset, shape: [packedWidth]))
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        guard x.shape.count == 3, x.shape[2] == dModel else {
            throw .shapeMismatch(context: "InterpretableMultiHeadAttention forward", message: "expected (B, L, \(dModel)), got \(x.shape)")
        }
        let (b, l, hs, pw) = (x.shape[0], x.shape[1], headSize, packedWidth)
        let backend = ctx.backend
        let (w, bias) = try packed(ctx.parameters)
        let proj = try projected.tensor([b, l, pw], on: backend)
        try backend.linearForward(out: proj, input: x, weight: w, bias: bias, rows: b * l, inFeatures: dModel, outFeatures: pw)
        let p = try probs.tensor([b, heads, l, l], on: backend)
        let a = try attended.tensor([b, l, hs], on: backend)
        let kOffset = heads * hs, vOffset = 2 * heads * hs
        try backend.attentionForward(out: a, probs: p, q: proj, k: proj.view(offset: kOffset, shape: [proj.count - kOffset]),
                                     v: proj.view(offset: vOffset, shape: [proj.count - vOffset]), mask: mask, batch: b,
                                     length: l, heads: heads, headSize: hs, ldq: pw, ldk: pw, ldv: pw, ldo: hs,
                                     sharedValue: true)
        attentionWeights = p
        saved = ctx.training ? (x, proj, p) : nil
        return try outProj.forward(a, ctx)
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        let (x, proj, p) = try Engine.saved(saved, "InterpretableMultiHeadAttention")
        let (b, l, hs, pw) = (x.shape[0], x.shape[1], headSize, packedWidth)
        let backend = ctx.backend
        let dA = try outProj.backward(dOut, ctx)
        let dProj = try dProjected.zeros([b, l, pw], on: backend)
        let work = try scratch.tensor([Backend.attentionBackwardScratchCount(batch: b, heads: heads, length: l)], on: backend)
        let kOffset = heads * hs, vOffset = 2 * heads * hs
        try backend.attentionBackward(dQ: dProj, dK: dProj.view(offset: kOffset, shape: [dProj.count - kOffset]),
                                      dV: dProj.view(offset: vOffset, shape: [dProj.count - vOffset]), scratch: work,
                                      dOut: dA, q: proj, k: proj.view(offset: kOffset, shape: [proj.count - kOffset]),
                                      v: proj.view(offset: vOffset, shape: [proj.count - vOffset]), probs: p, batch: b,
                                      length: l, heads: heads, headSize: hs, ldq: pw, ldk: pw, ldv: pw, ldo: hs,
                                      sharedValue: true)
        let (w, _) = try packed(ctx.parameters)
        let grads = try packedGradients(ctx.parameters)
        var dx: Tensor? = nil
        if inputGradient { // dx = dProj @ W_packed, written directly (no zero-fill pass)
            let d = try dInput.tensor(x.shape, on: backend)
            try backend.gemm(d, dProj, w, m: b * l, n: dModel, k: pw)
            dx = d
        }
        try backend.linearBackward(dInput: nil, dWeight: grads?.0, dBias: grads?.1, dOut: dProj, input: x, weight: w,
                                   rows: b * l, inFeatures: dModel, outFeatures: pw)
        return dx
    }
}
