/// The tensor element types of the Open Inference Protocol (KServe v2), by their protocol names.
public enum TensorDatatype: String, Sendable, CaseIterable {
    case bool = "BOOL", uint8 = "UINT8", uint16 = "UINT16", uint32 = "UINT32", uint64 = "UINT64"
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case fp16 = "FP16", fp32 = "FP32", fp64 = "FP64", bytes = "BYTES"

    /// Bytes per element in the binary tensor data extension (BYTES: variable, 0 here).
    public var byteSize: Int {
        switch self {
        case .bool, .uint8, .int8: 1
        case .uint16, .int16, .fp16: 2
        case .uint32, .int32, .fp32: 4
        case .uint64, .int64, .fp64: 8
        case .bytes: 0
        }
    }

    /// Triton's model-configuration name (`TYPE_FP32`; BYTES is `TYPE_STRING`).
    public var configName: String { self == .bytes ? "TYPE_STRING" : "TYPE_" + rawValue }
}

/// One input or output of a served model: name, datatype and the shape of one row (the batch dimension, -1 in the
/// metadata, is implicit).
///
///     TensorSpec(name: "x", datatype: .fp32, rowShape: [24, 5])   // metadata shape [-1, 24, 5]
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var datatype: TensorDatatype
    public var rowShape: [Int]
    /// An optional input may be left out of a request.
    public var optional: Bool
    /// What it holds (for the model's README and error messages).
    public var meaning: String

    public init(name: String, datatype: TensorDatatype = .fp32, rowShape: [Int], optional: Bool = false, meaning: String = "") {
        self.name = name
        self.datatype = datatype
        self.rowShape = rowShape
        self.optional = optional
        self.meaning = meaning
    }

    /// The shape in the model metadata: `[-1] + rowShape`.
    public var metadataShape: [Int] { [-1] + rowShape }
    /// An input's `dims` as Triton declares them: the row shape, and `[1]` for one value per row (a Triton model
    /// configuration never has empty dims; it writes `dims: [1]` with `reshape: { shape: [] }`). Triton's tools size
    /// their requests from it: perf_analyzer cannot send an input whose dims are empty.
    public var inputDims: [Int] { rowShape.isEmpty ? [1] : rowShape }
    /// An input's shape in the model metadata: `[-1] + inputDims` (`[-1, 1]` for one value per row).
    public var inputMetadataShape: [Int] { [-1] + inputDims }

    /// Whether a request's input shape is `rows` rows of this spec: `[rows] + rowShape`, and for one value per row
    /// also `[rows, 1]` (the shape the metadata gives). nil when it is not.
    public func rows(ofInputShape shape: [Int]) -> Int? {
        guard let rows = shape.first else { return nil }
        let rest = Array(shape.dropFirst())
        return rest == rowShape || (rowShape.isEmpty && rest == [1]) ? rows : nil
    }
    /// Elements per row.
    public var rowElements: Int { rowShape.reduce(1, *) }
}

/// What a served model takes and returns.
public struct ModelSignature: Sendable, Equatable {
    public var inputs: [TensorSpec]
    public var outputs: [TensorSpec]

    public init(inputs: [TensorSpec], outputs: [TensorSpec]) {
        self.inputs = inputs
        self.outputs = outputs
    }

    public func input(_ name: String) -> TensorSpec? { inputs.first { $0.name == name } }
    public func output(_ name: String) -> TensorSpec? { outputs.first { $0.name == name } }
}

/// The values of one tensor (all rows, row-major).
public enum TensorValues: Sendable, Equatable {
    case fp32([Float])
    case int32([Int32])

    public var count: Int {
        switch self {
        case .fp32(let v): v.count
        case .int32(let v): v.count
        }
    }

    public var datatype: TensorDatatype {
        switch self {
        case .fp32: .fp32
        case .int32: .int32
        }
    }

    /// Elements `range` (a row block).
    public func slice(_ range: Range<Int>) -> TensorValues {
        switch self {
        case .fp32(let v): .fp32(Array(v[range]))
        case .int32(let v): .int32(Array(v[range]))
        }
    }

    /// As floats (INT32 converted), for tests and comparisons.
    public var floats: [Float] {
        switch self {
        case .fp32(let v): v
        case .int32(let v): v.map(Float.init)
        }
    }
}

/// One output tensor: name, shape (batch first) and values.
public struct OutputTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: TensorValues

    public init(name: String, shape: [Int], values: TensorValues) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// The rows of one forward pass: per input, the values of every row concatenated (row-major), `rows` rows.
/// An optional input a request left out is filled with NaN for its rows (requests may not send NaN themselves).
public struct TensorBatch: Sendable {
    public var rows: Int
    public var inputs: [String: [Float]]

    public init(rows: Int, inputs: [String: [Float]]) {
        self.rows = rows
        self.inputs = inputs
    }
}
