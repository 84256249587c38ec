import Engine

/// The TFT variable-selection network of medium_term (models.md): every one of the F scalar inputs has its own
/// Linear(1 -> d) embedding (stored packed: `<name>.embed_weight` (F, d), `<name>.embed_bias` (F, d)); a GRN over
/// the F inputs of each time step (F -> d -> F, `<name>.grn`) gives softmax weights w over the variables, and the
/// selected input is the weighted sum of the embeddings, computed as (w * x) @ W + w @ b (models.md: identical to
/// summing the (B, L, F, d) embeddings, 2.3x cheaper).
///
///     let vsn = try VariableSelection(features: 32, dModel: 128, eps: 1e-5, name: "vsn", layout: &layout)
///     let selected = try vsn.forward(x, ctx)     // (B, L, 32) -> (B, L, 128)
///     vsn.weights                                // (B, L, 32), rows sum to 1
public final class VariableSelection: Layer {
    public let features: Int
    public let dModel: Int
    public let embedWeight: ParameterID
    public let embedBias: ParameterID
    public let grn: GatedResidualNetwork
    /// Softmax weights (B, L, F) of the last forward.
    public private(set) var weights: Tensor?

    private var weightBuffer = ActivationBuffer()
    private var weightedInput = ActivationBuffer()
    private var output = ActivationBuffer()
    private var dWeighted = ActivationBuffer()
    private var dWeights = ActivationBuffer()
    private var dLogits = ActivationBuffer()
    private var dInput = ActivationBuffer()
    private var saved: (input: Tensor, weights: Tensor, weighted: Tensor)?

    public init(features: Int, dModel: Int, eps: Float, name: String, layout: inout ParameterLayout) throws(EngineError) {
        self.features = features
        self.dModel = dModel
        // nn.Linear(1, d) default init: uniform(-1, 1) for weight and bias (fan_in 1).
        embedWeight = try layout.declare("embed_weight", prefix: name, shape: [features, dModel], initializer: .uniform(bound: 1))
        embedBias = try layout.declare("embed_bias", prefix: name, shape: [features, dModel], initializer: .uniform(bound: 1))
        grn = try GatedResidualNetwork(input: features, hidden: dModel, output: features, eps: eps,
                                       name: ParameterLayout.join(name, "grn"), layout: &layout)
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let rows = try Self.rows(x.shape, features, "VariableSelection forward")
        let backend = ctx.backend
        let logits = try grn.forward(x, ctx)
        let w = try weightBuffer.tensor(x.shape, on: backend)
        try backend.softmaxForward(out: w, input: logits, rows: rows, columns: features)
        let wx = try weightedInput.tensor(x.shape, on: backend)
        try backend.mulForward(out: wx, w, x, count: x.count)
        let y = try output.tensor(Array(x.shape.dropLast()) + [dModel], on: backend)
        try backend.gemm(y, wx, ctx.parameters.value(embedWeight), m: rows, n: dModel, k: features)
        try backend.gemm(y, w, ctx.parameters.value(embedBias), m: rows, n: dModel, k: features, beta: 1)
        weights = w
        saved = ctx.training ? (x, w, wx) : nil
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        guard let (x, w, wx) = saved else {
            throw .invalidState(context: "VariableSelection.backward", message: "called without a training-mode forward pass")
        }
        let rows = x.count / features
        let backend = ctx.backend
        // y = wx @ W + w @ b: parameter gradients W += wx^T dY, b += w^T dY.
        if let gW = ctx.parameters.gradient(embedWeight) {
            try backend.gemm(gW, wx, dOut, m: features, n: dModel, k: rows, transA: true, beta: 1)
        }
        if let gB = ctx.parameters.gradient(embedBias) {
            try backend.gemm(gB, w, dOut, m: features, n: dModel, k: rows, transA: true, beta: 1)
        }
        // d(wx) = dY W^T; dw = dY b^T + d(wx) * x; dx (direct) = d(wx) * w.
        let dWX = try dWeighted.tensor(x.shape, on: backend)
        try backend.gemm(dWX, dOut, ctx.parameters.value(embedWeight), m: rows, n: features, k: dModel, transB: true)
        let dW = try dWeights.tensor(x.shape, on: backend)
        try backend.gemm(dW, dOut, ctx.parameters.value(embedBias), m: rows, n: features, k: dModel, transB: true)
        try backend.mulBackward(dX: dW, dY: nil, dOut: dWX, w, x, count: x.count)   // dW += d(wx) * x
        let dLogit = try dLogits.zeros(x.shape, on: backend)
        try backend.softmaxBackward(dInput: dLogit, dOut: dW, out: w, rows: rows, columns: features)
        let dGRN = try grn.backward(dLogit, ctx, inputGradient: inputGradient)
        guard inputGradient, let dGRN else { return nil }
        let dx = try dInput.tensor(x.shape, on: backend)
        try dx.copy(from: dGRN)
        try backend.mulBackward(dX: nil, dY: dx, dOut: dWX, w, x, count: x.count)   // dx += d(wx) * w
        return dx
    }

    static func rows(_ shape: [Int], _ features: Int, _ context: String) throws(EngineError) -> Int {
        guard let last = shape.last, last == features else {
            throw .shapeMismatch(context: context, message: "expected last dimension \(features), got \(shape)")
        }
        return shape.dropLast().reduce(1, *)
    }
}
