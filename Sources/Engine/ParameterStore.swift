/// A model's parameters and gradients on a backend: ONE buffer for all parameter values and (when training) one
/// for all gradients, laid out by a `ParameterLayout`. Each parameter is a view into these buffers.
///
///     var layout = ParameterLayout()
///     let fc = try Linear(4, 3, name: "fc", layout: &layout)
///     let store = try ParameterStore(layout: layout, backend: .cpu, seed: 7)
///     try store.value(named: "fc.bias").toArray()   // 3 values uniform in ±1/2
///     try store.zeroGradients()                     // one memset before each backward pass
public final class ParameterStore: @unchecked Sendable {
    public let layout: ParameterLayout
    public let backend: Backend
    /// All parameter values, back to back (`layout.totalCount` floats).
    public let values: Tensor
    /// All gradients, same layout as `values`; nil for an inference-only store.
    public let gradients: Tensor?
    private let valueViews: [Tensor]
    private let gradientViews: [Tensor]
    /// One float of backend memory for reductions (the gradient norm), allocated once.
    let scalarScratch: Tensor

    /// Allocates the buffers and initialises every parameter from `seed` (see `ParameterLayout.initialValues`).
    public init(layout: ParameterLayout, backend: Backend, seed: UInt64 = 0, withGradients: Bool = true) throws(EngineError) {
        self.layout = layout
        self.backend = backend
        values = try Tensor(layout.initialValues(seed: seed), shape: [layout.totalCount], on: backend)
        gradients = withGradients ? try Tensor(zeros: [layout.totalCount], on: backend) : nil
        var vv: [Tensor] = [], gv: [Tensor] = []
        for spec in layout.specs {
            vv.append(try values.view(offset: spec.offset, shape: spec.shape))
            if let gradients { gv.append(try gradients.view(offset: spec.offset, shape: spec.shape)) }
        }
        valueViews = vv
        gradientViews = gv
        scalarScratch = try Tensor(zeros: [1], on: backend)
    }

    public var hasGradients: Bool { gradients != nil }

    /// The value tensor of a parameter.
    public func value(_ id: ParameterID) -> Tensor { valueViews[id.index] }

    /// The gradient tensor of a parameter, nil for an inference-only store.
    public func gradient(_ id: ParameterID) -> Tensor? { gradientViews.isEmpty ? nil : gradientViews[id.index] }

    public func value(named name: String) throws(EngineError) -> Tensor {
        guard let id = layout.id(named: name) else {
            throw .invalidArgument(context: "ParameterStore", message: "no parameter named '\(name)'")
        }
        return value(id)
    }

    public func gradient(named name: String) throws(EngineError) -> Tensor {
        guard let id = layout.id(named: name) else {
            throw .invalidArgument(context: "ParameterStore", message: "no parameter named '\(name)'")
        }
        guard let g = gradient(id) else {
            throw .invalidState(context: "ParameterStore", message: "store was created without gradients")
        }
        return g
    }

    /// Zeroes every gradient (one memset).
    public func zeroGradients() throws(EngineError) {
        try gradients?.zero()
    }

    /// Overwrites the named parameters with host values (a checkpoint or PyTorch state dict). Every name must
    /// exist and every count must match; with `requireAll`, every parameter of the layout must be given.
    public func load(_ tensors: [String: [Float]], requireAll: Bool = true) throws(EngineError) {
        for (name, data) in tensors {
            guard let id = layout.id(named: name) else {
                throw .invalidArgument(context: "ParameterStore.load", message: "unknown parameter '\(name)'")
            }
            let spec = layout[id]
            guard data.count == spec.count else {
                throw .shapeMismatch(context: "ParameterStore.load '\(name)'",
                                     message: "\(data.count) values for shape \(spec.shape)")
            }
            try value(id).copy(from: data)
        }
        if requireAll, let missing = layout.names.first(where: { tensors[$0] == nil }) {
            throw .invalidArgument(context: "ParameterStore.load", message: "missing parameter '\(missing)'")
        }
    }

    /// Every parameter as (name, shape, host values), in layout order (for checkpoints).
    public func exportValues() throws(EngineError) -> [(name: String, shape: [Int], values: [Float])] {
        let all = try values.toArray()
        return layout.specs.map { ($0.name, $0.shape, Array(all[$0.offset ..< $0.offset + $0.count])) }
    }
}
