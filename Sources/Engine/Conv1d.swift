/// `nn.Conv1d` with stride 1 and 'same' zero padding (odd kernel, padding K/2), on channels-last sequences:
/// input (B, L, CIN) -> output (B, L, COUT). Equal to PyTorch's conv on x.transpose(1, 2), transposed back.
/// Parameters `<name>.weight` (COUT, CIN, K) and `<name>.bias` (COUT), init uniform ±1/sqrt(CIN*K).
///
///     let conv = try Conv1d(32, 64, kernelSize: 3, name: "conv1", layout: &layout)
///     let h = try conv.forward(x, ctx)      // (B, 64, 32) -> (B, 64, 64)
public final class Conv1d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let weight: ParameterID
    public let bias: ParameterID?
    private var output = ActivationBuffer()
    private var dInput = ActivationBuffer()
    private var input: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, bias: Bool = true, name: String,
                layout: inout ParameterLayout) throws(EngineError) {
        guard inChannels > 0, outChannels > 0, kernelSize > 0, kernelSize % 2 == 1 else {
            throw .invalidArgument(context: "Conv1d '\(name)'",
                                   message: "positive channels and an odd kernel size required (\(inChannels) -> \(outChannels), k=\(kernelSize))")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        let standard = ParameterInit.kaimingUniform(fanIn: inChannels * kernelSize)
        weight = try layout.declare("weight", prefix: name, shape: [outChannels, inChannels, kernelSize], initializer: standard)
        self.bias = bias ? try layout.declare("bias", prefix: name, shape: [outChannels], initializer: standard) : nil
    }

    private func batchAndLength(_ shape: [Int], channels: Int, _ context: String) throws(EngineError) -> (Int, Int) {
        guard shape.count == 3, shape[2] == channels else {
            throw .shapeMismatch(context: context, message: "expected (B, L, \(channels)), got \(shape)")
        }
        return (shape[0], shape[1])
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let (b, l) = try batchAndLength(x.shape, channels: inChannels, "Conv1d forward")
        let y = try output.tensor([b, l, outChannels], on: ctx.backend)
        try ctx.backend.conv1dForward(out: y, input: x, weight: ctx.value(weight), bias: bias.map(ctx.value), batch: b,
                                      length: l, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize)
        input = ctx.training ? x : nil
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        let x = try saved(input, "Conv1d")
        let (b, l) = try batchAndLength(dOut.shape, channels: outChannels, "Conv1d backward")
        let dx = inputGradient ? try dInput.zeros(x.shape, on: ctx.backend) : nil
        try ctx.backend.conv1dBackward(dInput: dx, dWeight: ctx.gradient(weight), dBias: bias.flatMap(ctx.gradient),
                                       dOut: dOut, input: x, weight: ctx.value(weight), batch: b, length: l,
                                       inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize)
        return dx
    }
}
