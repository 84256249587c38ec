import Testing
@testable import Engine

/// Every layer against PyTorch (fixtures from tools/reference/engine_fixtures.py, float64 references): output,
/// input gradient and parameter gradients, every element within atol + 1e-4·|want| (see `checkParity`). The CPU
/// results' worst elements sit at ≤ 2% of that bound; rtol stays 1e-4 because the CUDA backend (different
/// summation order, fast intrinsics) runs the same checks.
@Suite(.serialized) struct LayerParityTests {
    @Test func linear() throws {
        try checkParity("linear") { try Linear(5, 4, name: "", layout: &$0) }
        try checkParity("linear_nobias") { try Linear(3, 6, bias: false, name: "", layout: &$0) }
    }

    @Test func conv1d() throws {
        try checkParity("conv1d_k3") { try Conv1d(3, 4, kernelSize: 3, name: "conv", layout: &$0) }
        try checkParity("conv1d_k5") { try Conv1d(2, 3, kernelSize: 5, name: "conv", layout: &$0) }
    }

    @Test func lstm() throws {
        try checkParity("lstm") { try LSTM(inputSize: 4, hiddenSize: 5, name: "", layout: &$0) }
        try checkParity("lstm_bi2") {
            try LSTM(inputSize: 4, hiddenSize: 3, layers: 2, bidirectional: true, name: "", layout: &$0)
        }
    }

    @Test func multiHeadAttention() throws {
        try checkParity("mha", extra: ["attention": { ($0 as! MultiHeadAttention).attentionWeights }]) {
            try MultiHeadAttention(embedDim: 8, heads: 2, name: "", layout: &$0)
        }
    }

    @Test func interpretableMultiHeadAttention() throws {
        try checkParity("interpretable_mha", exactZeros: ["k_proj.bias"], extra: ["attention": { ($0 as! InterpretableMultiHeadAttention).attentionWeights }]) {
            try InterpretableMultiHeadAttention(dModel: 8, heads: 2, name: "", layout: &$0)
        }
    }

    @Test func layerNorm() throws {
        try checkParity("layernorm") { try LayerNorm(6, name: "", layout: &$0) }
    }

    @Test func gatedLinearUnit() throws {
        try checkParity("glu") { try GatedLinearUnit(5, 4, name: "", layout: &$0) }
    }

    @Test func gatedResidualNetwork() throws {
        try checkParity("grn_skip") { try GatedResidualNetwork(input: 5, hidden: 8, output: 4, name: "", layout: &$0) }
        try checkParity("grn_identity") { try GatedResidualNetwork(input: 4, hidden: 8, output: 4, name: "", layout: &$0) }
    }

    @Test func activations() throws {
        let f = try LayerFixture("activations")
        let store = try ParameterStore(layout: ParameterLayout(), backend: .cpu)
        let ctx = Context(parameters: store)
        let cases: [(String, Activation)] = [("relu", .relu), ("gelu", .gelu), ("elu", .elu), ("sigmoid", .sigmoid),
                                             ("tanh", .tanh), ("softplus", .softplus)]
        for (name, act) in cases {
            let layer = ActivationLayer(act)
            let y = try layer.forward(f.tensor("input"), ctx)
            // Element-wise functions: no sums (reduction 1); rtol 1e-4 as for the layers.
            let ey = elementwiseError(try y.toArray(), try f.floats(name + ".output"), rtol: 1e-4, reduction: 1)
            let dx = try layer.backward(f.tensor(name + ".dout"), ctx)
            let ed = elementwiseError(try dx.toArray(), try f.floats(name + ".dinput"), rtol: 1e-4, reduction: 1)
            #expect(ey.passed, "\(name) output: \(ey)")
            #expect(ed.passed, "\(name) gradient: \(ed)")
            print("parity activation \(name): output \(ey.ratio), gradient \(ed.ratio) of tolerance")
        }
    }

    @Test func positionalEncoding() throws {
        let f = try LayerFixture("positional")
        // sin/cos of fp32 angles pos·ω ≤ 6 rad: an angle off by ≤ u·6 moves the value by as much, so atol is
        // 6 roundings of the table's scale 1 (reduction 6); the output adds the input, one more rounding.
        let table = elementwiseError(PositionalEncoding.table(length: 7, dModel: 6), try f.floats("table"), rtol: 1e-6,
                                     reduction: 6)
        #expect(table.passed, "table: \(table)")
        let store = try ParameterStore(layout: ParameterLayout(), backend: .cpu)
        let y = try PositionalEncoding(dModel: 6).forward(f.tensor("input"), Context(parameters: store))
        let output = elementwiseError(try y.toArray(), try f.floats("output"), rtol: 1e-6, reduction: 7)
        #expect(output.passed, "output: \(output)")
    }

    /// The check is per element: a small element 10% off fails even though it is 1e-5 of the tensor's scale (the
    /// old max-norm measure passed it), and the worst element is the one reported.
    @Test func elementwiseCheckCatchesASmallElementOff() {
        let want: [Float] = [1, -0.5, 1e-4, 0.25], got: [Float] = [1, -0.5, 1.1e-4, 0.25]
        let e = elementwiseError(got, want, rtol: 1e-4, reduction: 100)
        #expect(!e.passed && e.index == 2 && e.got == got[2] && e.want == want[2], "\(e)")
        #expect(elementwiseError(want, want, rtol: 1e-4, reduction: 100).ratio == 0)
        // Within atol (100 fp32 roundings of the scale 1) passes.
        #expect(elementwiseError([1, 5e-6], [1, 0], rtol: 1e-4, reduction: 100).passed)
    }

    @Test func pytorchNamesAndShapes() throws {
        var layout = ParameterLayout()
        _ = try LSTM(inputSize: 4, hiddenSize: 3, layers: 2, bidirectional: true, name: "lstm", layout: &layout)
        _ = try MultiHeadAttention(embedDim: 8, heads: 2, name: "attn", layout: &layout)
        #expect(Array(layout.names.prefix(8)) == [
            "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
            "lstm.weight_ih_l0_reverse", "lstm.weight_hh_l0_reverse", "lstm.bias_ih_l0_reverse", "lstm.bias_hh_l0_reverse"])
        #expect(layout[layout.id(named: "lstm.weight_ih_l1")!].shape == [12, 6])
        #expect(layout.names.suffix(4) == ["attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias"])
    }
}

/// nn.LSTM with (h_0, c_0) given and gradients into (h_n, c_n): states in PyTorch's layout.
@Suite(.serialized) struct LSTMStateParityTests {
    @Test func initialAndFinalStatesMatchTorch() throws {
        let f = try LayerFixture("lstm_state")
        var layout = ParameterLayout()
        let lstm = try LSTM(inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true, name: "", layout: &layout)
        let store = try ParameterStore(layout: layout, backend: .cpu)
        try store.load(f.parameters())
        let ctx = Context(parameters: store)
        let y = try lstm.forward(f.tensor("input"), initialState: LSTMState(hidden: f.tensor("h0"), cell: f.tensor("c0")), ctx)
        // As checkParity: every element within atol + 1e-4·|want|, sums of at most input + parameter counts.
        let n = try f.floats("input").count + layout.totalCount
        var worst = 0.0
        func compare(_ got: Tensor, _ key: String) throws {
            let e = elementwiseError(try got.toArray(), try f.floats(key), rtol: 1e-4, reduction: n)
            #expect(e.passed, "lstm_state \(key): \(e)")
            worst = max(worst, e.ratio)
        }
        try compare(y, "output")
        let final = try #require(lstm.finalState)
        try compare(final.hidden, "hn")
        try compare(final.cell, "cn")
        try store.zeroGradients()
        let dx = try #require(try lstm.backward(f.tensor("dout"), finalStateGradient: LSTMState(hidden: f.tensor("dhn"), cell: f.tensor("dcn")), ctx))
        try compare(dx, "dinput")
        let dInitial = try #require(lstm.initialStateGradient)
        try compare(dInitial.hidden, "dh0")
        try compare(dInitial.cell, "dc0")
        for name in layout.names {
            try compare(try store.gradient(named: name), "grad." + name)
        }
        print("parity lstm_state on cpu: worst element at \(String(format: "%.2f", worst)) of its tolerance")
        // Without an initial state the final state still comes back and no initial gradient is made.
        _ = try lstm.forward(f.tensor("input"), ctx)
        _ = try lstm.backward(f.tensor("dout"), ctx)
        #expect(lstm.initialStateGradient == nil && lstm.finalState?.hidden.shape == [4, 2, 4])
        #expect(throws: EngineError.self) {
            try lstm.forward(f.tensor("input"), initialState: LSTMState(hidden: f.tensor("h0"), cell: f.tensor("dout")), ctx)
        }
    }
}

/// cat([last step, mean over time]) built from TimePool and Concat, as a Layer for the parity/FD helpers.
final class PoolConcatProbe: Layer {
    let last = TimePool(.last), mean = TimePool(.mean), cat = Concat()
    var sum = ActivationBuffer()

    func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        try cat.forward([last.forward(x, ctx), mean.forward(x, ctx)], ctx)
    }

    func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        let parts = try cat.backward(dOut, ctx)
        let a = try last.backward(parts[0], ctx), b = try mean.backward(parts[1], ctx)
        let s = try sum.tensor(a.shape, on: ctx.backend)
        try s.copy(from: a)
        try ctx.backend.axpy(s, b, count: s.count)
        return s
    }
}

@Suite(.serialized) struct SmallOpParityTests {
    @Test func poolingAndConcat() throws {
        try checkParity("pool_concat") { _ in PoolConcatProbe() }
        try checkGradients("pool+concat", inputShape: [2, 5, 3]) { _ in PoolConcatProbe() }
    }

    @Test func softmax() throws {
        try checkParity("softmax") { _ in Softmax() }
        try checkGradients("softmax", inputShape: [3, 6], h: 1e-3) { _ in Softmax() }
    }

    @Test func addSumsAndConcatChecksShapes() throws {
        let store = try ParameterStore(layout: ParameterLayout(), backend: .cpu)
        let ctx = Context(parameters: store)
        let a = try Tensor([1, 2, 3], shape: [3], on: .cpu), b = try Tensor([10, 20, 30], shape: [3], on: .cpu)
        #expect(try Add().forward(a, b, ctx).toArray() == [11, 22, 33])
        #expect(throws: EngineError.self) { try Add().forward(a, try Tensor([1], shape: [1], on: .cpu), ctx) }
        let x = try Tensor([1, 2, 3, 4], shape: [2, 2], on: .cpu), y = try Tensor([5, 6], shape: [2, 1], on: .cpu)
        #expect(try Concat().forward([x, y], ctx).toArray() == [1, 2, 5, 3, 4, 6])
        #expect(throws: EngineError.self) { try Concat().forward([x, try Tensor([1, 2, 3], shape: [3, 1], on: .cpu)], ctx) }
    }
}
