import Testing
@testable import Engine

/// Every layer against PyTorch (fixtures from tools/reference/engine_fixtures.py): output, input gradient and
/// parameter gradients at 1e-4 relative.
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
        try checkParity("interpretable_mha", extra: ["attention": { ($0 as! InterpretableMultiHeadAttention).attentionWeights }]) {
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
            let ey = relativeError(try y.toArray(), try f.floats(name + ".output"))
            let dx = try layer.backward(f.tensor(name + ".dout"), ctx)
            let ed = relativeError(try dx.toArray(), try f.floats(name + ".dinput"))
            #expect(ey <= 1e-4 && ed <= 1e-4, "\(name): output \(ey), gradient \(ed)")
            print("parity activation \(name): output \(ey), gradient \(ed)")
        }
    }

    @Test func positionalEncoding() throws {
        let f = try LayerFixture("positional")
        #expect(relativeError(PositionalEncoding.table(length: 7, dModel: 6), try f.floats("table")) <= 1e-6)
        let store = try ParameterStore(layout: ParameterLayout(), backend: .cpu)
        let y = try PositionalEncoding(dModel: 6).forward(f.tensor("input"), Context(parameters: store))
        #expect(relativeError(try y.toArray(), try f.floats("output")) <= 1e-6)
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
        var worst = relativeError(try y.toArray(), try f.floats("output"))
        let final = try #require(lstm.finalState)
        worst = max(worst, relativeError(try final.hidden.toArray(), try f.floats("hn")))
        worst = max(worst, relativeError(try final.cell.toArray(), try f.floats("cn")))
        try store.zeroGradients()
        let dx = try #require(try lstm.backward(f.tensor("dout"), finalStateGradient: LSTMState(hidden: f.tensor("dhn"), cell: f.tensor("dcn")), ctx))
        worst = max(worst, relativeError(try dx.toArray(), try f.floats("dinput")))
        let dInitial = try #require(lstm.initialStateGradient)
        worst = max(worst, relativeError(try dInitial.hidden.toArray(), try f.floats("dh0")))
        worst = max(worst, relativeError(try dInitial.cell.toArray(), try f.floats("dc0")))
        for name in layout.names {
            worst = max(worst, relativeError(try store.gradient(named: name).toArray(), try f.floats("grad." + name)))
        }
        print("parity lstm_state on cpu: max relative error \(String(format: "%.2e", worst))")
        #expect(worst <= 1e-4)
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
