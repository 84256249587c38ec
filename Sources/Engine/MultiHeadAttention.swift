/// Standard multi-head self-attention, laid out as `nn.MultiheadAttention(E, heads, batch_first=True)`: ONE packed
/// input projection `<name>.in_proj_weight` (3E, E) / `<name>.in_proj_bias` (3E) whose rows are the q, k and v
/// projections in that order, then `<name>.out_proj.weight` (E, E) / `<name>.out_proj.bias` (E). Same init as
/// PyTorch (xavier-uniform in_proj weight, zero biases, Linear-default out_proj weight), no attention dropout.
/// A PyTorch state dict loads unchanged.
///
/// Input (B, L, E) -> output (B, L, E). The per-head attention probabilities (B, heads, L, L) of the last forward
/// are kept in `attentionWeights` (PyTorch's `need_weights=True, average_attn_weights=False`). `mask`: nil or an
/// additive (L, L) tensor (0 / -inf), shared by batch and heads.
///
///     let attn = try MultiHeadAttention(embedDim: 256, heads: 8, name: "attn", layout: &layout)
///     let y = try attn.forward(x, ctx)
///     let w = attn.attentionWeights           // (B, 8, L, L)
public final class MultiHeadAttention: Layer {
    public let embedDim: Int
    public let heads: Int
    public var headSize: Int { embedDim / heads }
    public let inProjWeight: ParameterID
    public let inProjBias: ParameterID
    public let outProj: Linear
    public var mask: Tensor?
    /// Attention probabilities of the last forward, (B, heads, L, L).
    public private(set) var attentionWeights: Tensor?

    private var qkv = ActivationBuffer()
    private var attended = ActivationBuffer()
    private var probs = ActivationBuffer()
    private var dQKV = ActivationBuffer()
    private var dInput = ActivationBuffer()
    private var scratch = ActivationBuffer()
    private var saved: (input: Tensor, qkv: Tensor, probs: Tensor)?

    public init(embedDim: Int, heads: Int, name: String, layout: inout ParameterLayout) throws(EngineError) {
        guard embedDim > 0, heads > 0, embedDim % heads == 0 else {
            throw .invalidArgument(context: "MultiHeadAttention '\(name)'", message: "embedDim \(embedDim) must be a positive multiple of heads \(heads)")
        }
        self.embedDim = embedDim
        self.heads = heads
        inProjWeight = try layout.declare("in_proj_weight", prefix: name, shape: [3 * embedDim, embedDim],
                                          initializer: .xavierUniform(fanIn: embedDim, fanOut: 3 * embedDim))
        inProjBias = try layout.declare("in_proj_bias", prefix: name, shape: [3 * embedDim], initializer: .constant(0))
        outProj = try Linear(embedDim, embedDim, name: ParameterLayout.join(name, "out_proj"), layout: &layout,
                             biasInit: .constant(0))
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        guard x.shape.count == 3, x.shape[2] == embedDim else {
            throw .shapeMismatch(context: "MultiHeadAttention forward", message: "expected (B, L, \(embedDim)), got \(x.shape)")
        }
        let (b, l, e) = (x.shape[0], x.shape[1], embedDim)
        let backend = ctx.backend
        let packed = try qkv.tensor([b, l, 3 * e], on: backend)
        try backend.linearForward(out: packed, input: x, weight: ctx.value(inProjWeight), bias: ctx.value(inProjBias),
                                  rows: b * l, inFeatures: e, outFeatures: 3 * e)
        let p = try probs.tensor([b, heads, l, l], on: backend)
        let a = try attended.tensor([b, l, e], on: backend)
        try backend.attentionForward(out: a, probs: p, q: packed, k: packed.view(offset: e, shape: [packed.count - e]),
                                     v: packed.view(offset: 2 * e, shape: [packed.count - 2 * e]), mask: mask, batch: b,
                                     length: l, heads: heads, headSize: headSize, ldq: 3 * e, ldk: 3 * e, ldv: 3 * e,
                                     ldo: e, sharedValue: false)
        attentionWeights = p
        saved = ctx.training ? (x, packed, p) : nil
        return try outProj.forward(a, ctx)
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        let (x, packed, p) = try Engine.saved(saved, "MultiHeadAttention")
        let (b, l, e) = (x.shape[0], x.shape[1], embedDim)
        let backend = ctx.backend
        let dA = try outProj.backward(dOut, ctx)
        let dPacked = try dQKV.zeros([b, l, 3 * e], on: backend)
        let work = try scratch.tensor([Backend.attentionBackwardScratchCount(batch: b, heads: heads, length: l)], on: backend)
        try backend.attentionBackward(dQ: dPacked, dK: dPacked.view(offset: e, shape: [dPacked.count - e]),
                                      dV: dPacked.view(offset: 2 * e, shape: [dPacked.count - 2 * e]), scratch: work,
                                      dOut: dA, q: packed, k: packed.view(offset: e, shape: [packed.count - e]),
                                      v: packed.view(offset: 2 * e, shape: [packed.count - 2 * e]), probs: p, batch: b,
                                      length: l, heads: heads, headSize: headSize, ldq: 3 * e, ldk: 3 * e, ldv: 3 * e,
                                      ldo: e, sharedValue: false)
        var dx: Tensor? = nil
        if inputGradient { // dx = dPacked @ in_proj_weight, written directly (no zero-fill pass)
            let d = try dInput.tensor(x.shape, on: backend)
            try backend.gemm(d, dPacked, ctx.value(inProjWeight), m: b * l, n: e, k: 3 * e)
            dx = d
        }
        try backend.linearBackward(dInput: nil, dWeight: ctx.gradient(inProjWeight), dBias: ctx.gradient(inProjBias),
                                   dOut: dPacked, input: x, weight: ctx.value(inProjWeight), rows: b * l,
                                   inFeatures: e, outFeatures: 3 * e)
        return dx
    }
}
