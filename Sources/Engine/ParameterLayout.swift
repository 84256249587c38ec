/// How a parameter is initialised (PyTorch defaults are expressed with these).
public enum ParameterInit: Sendable, Equatable {
    /// Uniform in [-bound, bound]: PyTorch's default for Linear/Conv weights and biases (bound 1/sqrt(fan_in),
    /// what kaiming_uniform_(a = sqrt 5) reduces to) and for LSTM weights (bound 1/sqrt(hidden)).
    case uniform(bound: Float)
    /// Xavier/Glorot uniform: bound sqrt(6 / (fan_in + fan_out)) (nn.MultiheadAttention's in_proj_weight).
    case xavierUniform(fanIn: Int, fanOut: Int)
    /// Every element equal to `value` (LayerNorm weight 1, bias 0).
    case constant(Float)

    /// PyTorch's Linear/Conv default for a layer with `fanIn` inputs per output.
    public static func kaimingUniform(fanIn: Int) -> ParameterInit { .uniform(bound: 1 / Float(fanIn).squareRoot()) }

    func fill(_ values: inout ArraySlice<Float>, _ rng: inout SeededGenerator) {
        switch self {
        case .uniform(let bound):
            for i in values.indices { values[i] = rng.uniform(-bound, bound) }
        case .xavierUniform(let fanIn, let fanOut):
            let bound = (6 / Float(fanIn + fanOut)).squareRoot()
            for i in values.indices { values[i] = rng.uniform(-bound, bound) }
        case .constant(let v):
            for i in values.indices { values[i] = v }
        }
    }
}

/// One declared parameter: its PyTorch-style name (`lstm.weight_ih_l0_reverse`), shape, initialiser and offset
/// (in floats) inside the model's single parameter buffer.
public struct ParameterSpec: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let initializer: ParameterInit
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// A handle to a declared parameter (its index in the layout).
public struct ParameterID: Hashable, Sendable {
    public let index: Int
}

/// The parameter layout of a model, built while its layers are constructed: each layer declares its named
/// parameters, which are laid out back to back (in declaration order, no padding) in one buffer. The optimizer
/// then updates every parameter with one kernel call, and checkpoints look parameters up by name.
///
///     var layout = ParameterLayout()
///     let fc = try Linear(4, 3, name: "fc", layout: &layout)
///     layout.names          // ["fc.weight", "fc.bias"]
///     layout.totalCount     // 15
public struct ParameterLayout: Sendable {
    public private(set) var specs: [ParameterSpec] = []
    private var index: [String: Int] = [:]
    /// Floats in the whole buffer.
    public private(set) var totalCount = 0
    /// The most floats the layout may hold; a declaration beyond it throws before anything is allocated.
    public let limit: Int

    /// 2^31 floats (8 GiB): far above any model here, far below an overflow or an allocation that cannot succeed.
    public static let defaultLimit = 1 << 31

    /// `limit` caps `totalCount` (a checkpoint loader passes the number of floats its file actually holds, so a
    /// crafted config cannot make it build a model larger than the file).
    public init(limit: Int = ParameterLayout.defaultLimit) { self.limit = max(0, limit) }

    /// Declares `prefix.name` (or `name` when the prefix is empty).
    public mutating func declare(_ name: String, prefix: String = "", shape: [Int],
                                 initializer: ParameterInit) throws(EngineError) -> ParameterID {
        let full = ParameterLayout.join(prefix, name)
        guard index[full] == nil else {
            throw .invalidArgument(context: "ParameterLayout.declare", message: "parameter '\(full)' declared twice")
        }
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
            throw .invalidArgument(context: "ParameterLayout.declare", message: "parameter '\(full)' has invalid shape \(shape)")
        }
        // Sizes come from configurations (files, checkpoints): overflow-checked, and bounded by `limit`.
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= limit else {
                throw .invalidArgument(context: "ParameterLayout.declare",
                                       message: "parameter '\(full)' of shape \(shape) exceeds the \(limit)-float limit")
            }
            count = product
        }
        guard count <= limit - totalCount else {
            throw .invalidArgument(context: "ParameterLayout.declare",
                                   message: "parameter '\(full)' of shape \(shape) takes the model past its limit of "
                                       + "\(limit) floats (\(totalCount) declared before it)")
        }
        let spec = ParameterSpec(name: full, shape: shape, initializer: initializer, offset: totalCount)
        index[full] = specs.count
        specs.append(spec)
        totalCount += spec.count
        return ParameterID(index: specs.count - 1)
    }

    /// `prefix.name`, or `name` alone when the prefix is empty.
    public static func join(_ prefix: String, _ name: String) -> String {
        prefix.isEmpty ? name : prefix + "." + name
    }

    public var names: [String] { specs.map(\.name) }

    public func id(named name: String) -> ParameterID? { index[name].map(ParameterID.init(index:)) }

    public subscript(id: ParameterID) -> ParameterSpec { specs[id.index] }

    /// Host initial values of the whole buffer. Every parameter draws from its own stream forked from `seed` in
    /// declaration order, so adding a parameter at the end does not change the others' values.
    public func initialValues(seed: UInt64) -> [Float] {
        var values = [Float](repeating: 0, count: totalCount)
        var root = SeededGenerator(seed: seed)
        for spec in specs {
            var rng = root.fork()
            var slice = values[spec.offset ..< spec.offset + spec.count]
            spec.initializer.fill(&slice, &rng)
            values.replaceSubrange(spec.offset ..< spec.offset + spec.count, with: slice)
        }
        return values
    }
}
