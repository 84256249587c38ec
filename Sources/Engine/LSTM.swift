/// `nn.LSTM(batch_first=True)`: stacked, optionally bidirectional, with dropout between layers (not after the
/// last), zero initial states. Input (B, L, IN) -> output (B, L, H * directions), the forward direction's hidden
/// states in the first H channels and the reverse direction's in the next H, as PyTorch.
///
/// Parameters use PyTorch's names and layout, per layer k and direction (suffix `_reverse` for the backward one):
/// `<name>.weight_ih_l<k>` (4H, IN_k), `<name>.weight_hh_l<k>` (4H, H), `<name>.bias_ih_l<k>` (4H),
/// `<name>.bias_hh_l<k>` (4H); gate order i, f, g, o; init uniform ±1/sqrt(H). A state dict from PyTorch loads
/// unchanged.
///
/// States: `forward(_:initialState:_:)` takes PyTorch's (h_0, c_0) as an `LSTMState` of (layers * directions, B, H)
/// tensors (zeros when nil); after every forward `finalState` holds (h_n, c_n) in the same layout. Backward takes
/// optional gradients of (h_n, c_n) and, when an initial state was given, leaves the gradients of (h_0, c_0) in
/// `initialStateGradient`.
///
///     let lstm = try LSTM(inputSize: 256, hiddenSize: 256, layers: 2, bidirectional: true, dropout: 0.3,
///                         name: "lstm", layout: &layout)
///     let h = try lstm.forward(x, ctx)      // (B, L, 256) -> (B, L, 512)
public final class LSTM: Layer {
    public let inputSize: Int
    public let hiddenSize: Int
    public let layers: Int
    public let bidirectional: Bool
    public let dropout: Float
    public var directions: Int { bidirectional ? 2 : 1 }
    public var outputSize: Int { hiddenSize * directions }

    /// Parameter handles of one layer and direction.
    public struct Weights: Sendable {
        public let inputSize: Int
        public let weightIH: ParameterID
        public let weightHH: ParameterID
        public let biasIH: ParameterID
        public let biasHH: ParameterID
    }
    /// `weights[layer][direction]`.
    public let weights: [[Weights]]

    private var hidden: [[ActivationBuffer]]
    private var caches: [[ActivationBuffer]]
    private var concatenated: [ActivationBuffer]
    private var dInputs: [ActivationBuffer]
    private var dSplit: [ActivationBuffer]
    private var scratch = ActivationBuffer()
    private let dropouts: [Dropout]
    private var finalHidden = ActivationBuffer(), finalCell = ActivationBuffer()
    private var dInitialHidden = ActivationBuffer(), dInitialCell = ActivationBuffer()
    /// Per layer: its input, the direction outputs and caches (training forward only).
    private var saved: [(input: Tensor, hidden: [Tensor], cache: [Tensor])] = []
    private var savedInitial: LSTMState?

    /// (h_n, c_n) of the last forward, each (layers * directions, B, H); valid until the next forward.
    public private(set) var finalState: LSTMState?
    /// Gradients of (h_0, c_0) from the last backward, when the forward had an initial state.
    public private(set) var initialStateGradient: LSTMState?

    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false, dropout: Float = 0,
                name: String, layout: inout ParameterLayout) throws(EngineError) {
        guard inputSize > 0, hiddenSize > 0, layers > 0 else {
            throw .invalidArgument(context: "LSTM '\(name)'", message: "sizes and layers must be positive")
        }
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        let initializer = ParameterInit.uniform(bound: 1 / Float(hiddenSize).squareRoot())
        var all: [[Weights]] = []
        for k in 0 ..< layers {
            let inK = k == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1)
            var perDirection: [Weights] = []
            for d in 0 ..< (bidirectional ? 2 : 1) {
                let suffix = "_l\(k)" + (d == 1 ? "_reverse" : "")
                perDirection.append(Weights(
                    inputSize: inK,
                    weightIH: try layout.declare("weight_ih" + suffix, prefix: name, shape: [4 * hiddenSize, inK], initializer: initializer),
                    weightHH: try layout.declare("weight_hh" + suffix, prefix: name, shape: [4 * hiddenSize, hiddenSize], initializer: initializer),
                    biasIH: try layout.declare("bias_ih" + suffix, prefix: name, shape: [4 * hiddenSize], initializer: initializer),
                    biasHH: try layout.declare("bias_hh" + suffix, prefix: name, shape: [4 * hiddenSize], initializer: initializer)))
            }
            all.append(perDirection)
        }
        weights = all
        let dirs = bidirectional ? 2 : 1
        hidden = Array(repeating: Array(repeating: ActivationBuffer(), count: dirs), count: layers)
        caches = hidden
        concatenated = Array(repeating: ActivationBuffer(), count: layers)
        dInputs = concatenated
        dSplit = Array(repeating: ActivationBuffer(), count: dirs)
        var drops: [Dropout] = []
        for _ in 0 ..< max(0, layers - 1) { drops.append(try Dropout(dropout)) }
        dropouts = drops
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        try forward(x, initialState: nil, ctx)
    }

    /// Slot `k * directions + d` of a (layers * directions, B, H) state tensor.
    private func slot(_ t: Tensor?, _ k: Int, _ d: Int, batch: Int) throws(EngineError) -> Tensor? {
        guard let t else { return nil }
        let n = batch * hiddenSize
        return try t.view(offset: (k * directions + d) * n, shape: [batch, hiddenSize])
    }

    private func checkState(_ state: LSTMState, batch: Int, _ context: String) throws(EngineError) {
        let expected = [layers * directions, batch, hiddenSize]
        guard state.hidden.shape == expected, state.cell.shape == expected else {
            throw .shapeMismatch(context: context, message: "state must be \(expected), got h \(state.hidden.shape), c \(state.cell.shape)")
        }
    }

    /// Forward from an initial state (h_0, c_0), each (layers * directions, B, H); nil means zeros.
    public func forward(_ x: Tensor, initialState: LSTMState?, _ ctx: Context) throws(EngineError) -> Tensor {
        guard x.shape.count == 3, x.shape[2] == inputSize else {
            throw .shapeMismatch(context: "LSTM forward", message: "expected (B, L, \(inputSize)), got \(x.shape)")
        }
        let (b, l, h) = (x.shape[0], x.shape[1], hiddenSize)
        if let initialState { try checkState(initialState, batch: b, "LSTM forward initial state") }
        let backend = ctx.backend
        let hn = try finalHidden.tensor([layers * directions, b, h], on: backend)
        let cn = try finalCell.tensor([layers * directions, b, h], on: backend)
        var current = x
        saved.removeAll(keepingCapacity: true)
        for k in 0 ..< layers {
            var hs: [Tensor] = [], cs: [Tensor] = []
            for d in 0 ..< directions {
                let w = weights[k][d]
                let hOut = try hidden[k][d].tensor([b, l, h], on: backend)
                let cache = try caches[k][d].tensor([Backend.lstmCacheCount(batch: b, length: l, hidden: h)], on: backend)
                try backend.lstmForward(hOut: hOut, cFinal: slot(cn, k, d, batch: b), cache: cache, input: current,
                                        wIH: ctx.value(w.weightIH), wHH: ctx.value(w.weightHH), bIH: ctx.value(w.biasIH),
                                        bHH: ctx.value(w.biasHH), h0: slot(initialState?.hidden, k, d, batch: b),
                                        c0: slot(initialState?.cell, k, d, batch: b), batch: b, length: l,
                                        inputSize: w.inputSize, hidden: h, reverse: d == 1)
                try backend.stepPoolForward(out: slot(hn, k, d, batch: b)!, input: hOut, batch: b, length: l, channels: h,
                                            step: d == 1 ? 0 : l - 1)
                hs.append(hOut)
                cs.append(cache)
            }
            if ctx.training { saved.append((current, hs, cs)) }
            var out = hs[0]
            if bidirectional {
                out = try concatenated[k].tensor([b, l, 2 * h], on: backend)
                for d in 0 ..< 2 {
                    try backend.copy2D(out.view(offset: d * h, shape: [out.count - d * h]), ldd: 2 * h, hs[d], lds: h,
                                       rows: b * l, columns: h, accumulate: false)
                }
            }
            current = k < layers - 1 ? try dropouts[k].forward(out, ctx) : out
        }
        finalState = LSTMState(hidden: hn, cell: cn)
        savedInitial = ctx.training ? initialState : nil
        return current
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        try backward(dOut, finalStateGradient: nil, ctx, inputGradient: inputGradient)
    }

    /// Backward with optional gradients of (h_n, c_n) (each (layers * directions, B, H)).
    public func backward(_ dOut: Tensor, finalStateGradient: LSTMState?, _ ctx: Context,
                         inputGradient: Bool = true) throws(EngineError) -> Tensor? {
        guard saved.count == layers else {
            throw .invalidState(context: "LSTM.backward", message: "called without a training-mode forward pass")
        }
        guard dOut.shape.count == 3, dOut.shape[2] == outputSize else {
            throw .shapeMismatch(context: "LSTM backward", message: "expected (B, L, \(outputSize)), got \(dOut.shape)")
        }
        let (b, l, h) = (dOut.shape[0], dOut.shape[1], hiddenSize)
        if let finalStateGradient { try checkState(finalStateGradient, batch: b, "LSTM backward final state gradient") }
        let backend = ctx.backend
        let work = try scratch.tensor([Backend.lstmBackwardScratchCount(batch: b, length: l, hidden: h)], on: backend)
        var dInitial: LSTMState? = nil
        if savedInitial != nil {
            dInitial = LSTMState(hidden: try dInitialHidden.zeros([layers * directions, b, h], on: backend),
                                 cell: try dInitialCell.zeros([layers * directions, b, h], on: backend))
        }
        var dCurrent = dOut
        var result: Tensor? = nil
        for k in stride(from: layers - 1, through: 0, by: -1) {
            if k < layers - 1 { dCurrent = try dropouts[k].backward(dCurrent, ctx) }
            let (input, hs, cs) = saved[k]
            var dHidden = [dCurrent]
            if bidirectional || finalStateGradient != nil {
                dHidden = []
                for d in 0 ..< directions {
                    let part = try dSplit[d].tensor([b, l, h], on: backend)
                    try backend.copy2D(part, ldd: h, dCurrent.view(offset: d * h, shape: [dCurrent.count - d * h]),
                                       lds: outputSize, rows: b * l, columns: h, accumulate: false)
                    if let dh = try slot(finalStateGradient?.hidden, k, d, batch: b) {
                        try backend.stepPoolBackward(dInput: part, dOut: dh, batch: b, length: l, channels: h,
                                                     step: d == 1 ? 0 : l - 1)
                    }
                    dHidden.append(part)
                }
            }
            let wantInput = k > 0 || inputGradient
            let dx = wantInput ? try dInputs[k].zeros(input.shape, on: backend) : nil
            for d in 0 ..< directions {
                let w = weights[k][d]
                try backend.lstmBackward(dInput: dx, dWIH: ctx.gradient(w.weightIH), dWHH: ctx.gradient(w.weightHH),
                                         dBIH: ctx.gradient(w.biasIH), dBHH: ctx.gradient(w.biasHH),
                                         dH0: slot(dInitial?.hidden, k, d, batch: b), dC0: slot(dInitial?.cell, k, d, batch: b),
                                         scratch: work, dHOut: dHidden[d],
                                         dCFinal: slot(finalStateGradient?.cell, k, d, batch: b), input: input,
                                         wIH: ctx.value(w.weightIH), wHH: ctx.value(w.weightHH),
                                         h0: slot(savedInitial?.hidden, k, d, batch: b), c0: slot(savedInitial?.cell, k, d, batch: b),
                                         cache: cs[d], hOut: hs[d], batch: b, length: l, inputSize: w.inputSize,
                                         hidden: h, reverse: d == 1)
            }
            if let dx { dCurrent = dx }
            result = dx
        }
        initialStateGradient = dInitial
        return result
    }
}

/// An LSTM's (h, c) state in PyTorch's layout: each (layers * directions, B, H), slot k * directions + d.
public struct LSTMState: Sendable {
    public var hidden: Tensor
    public var cell: Tensor

    public init(hidden: Tensor, cell: Tensor) {
        self.hidden = hidden
        self.cell = cell
    }
}
