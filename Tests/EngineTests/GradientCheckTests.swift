import Testing
@testable import Engine

/// Finite-difference checks (fp32 forward, Double loss, central differences) of every layer's backward.
@Suite(.serialized) struct GradientCheckTests {
    @Test func linearAndConv() throws {
        try checkGradients("linear", inputShape: [2, 3, 5]) { try Linear(5, 4, name: "fc", layout: &$0) }
        try checkGradients("conv1d", inputShape: [2, 6, 3]) { try Conv1d(3, 4, kernelSize: 5, name: "conv", layout: &$0) }
    }

    @Test func lstmStackWithDropout() throws {
        try checkGradients("lstm", inputShape: [2, 5, 3]) {
            try LSTM(inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true, dropout: 0.3, name: "lstm", layout: &$0)
        }
    }

    @Test func attention() throws {
        try checkGradients("mha", inputShape: [2, 4, 8]) { try MultiHeadAttention(embedDim: 8, heads: 2, name: "attn", layout: &$0) }
        try checkGradients("interpretable_mha", inputShape: [2, 4, 8]) {
            try InterpretableMultiHeadAttention(dModel: 8, heads: 2, name: "attn", layout: &$0)
        }
    }

    @Test func normalisationAndGates() throws {
        try checkGradients("layernorm", inputShape: [3, 6]) { try LayerNorm(6, name: "norm", layout: &$0) }
        try checkGradients("glu", inputShape: [3, 5]) { try GatedLinearUnit(5, 3, name: "glu", layout: &$0) }
        try checkGradients("grn_skip", inputShape: [2, 3, 5]) { try GatedResidualNetwork(input: 5, hidden: 6, output: 4, name: "grn", layout: &$0) }
        try checkGradients("grn_identity", inputShape: [2, 3, 4]) { try GatedResidualNetwork(input: 4, hidden: 6, output: 4, name: "grn", layout: &$0) }
    }

    @Test func elementwiseAndPooling() throws {
        for act in Activation.allCases where act != .relu {
            try checkGradients("activation \(act)", inputShape: [4, 5], h: 1e-3) { _ in ActivationLayer(act) }
        }
        try checkGradients("dropout", inputShape: [4, 8]) { _ in try Dropout(0.4) }
        try checkGradients("mean pool", inputShape: [2, 5, 3]) { _ in TimePool(.mean) }
        try checkGradients("last-step pool", inputShape: [2, 5, 3]) { _ in TimePool(.last) }
        try checkGradients("positional encoding", inputShape: [2, 5, 4]) { _ in PositionalEncoding(dModel: 4) }
    }
}
