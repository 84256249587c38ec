/// Checks a decoded request against a model's signature and turns it into rows for the batcher; every refusal is a
/// 400 naming the input and what the model expects:
///
///     input 'x': shape [1, 24, 4]; short_term expects [-1, 24, 5] (rows, sequence_length, features)
///     input 'x': datatype FP64; short_term expects FP32
///     short_term has no input 'y' (its inputs: x)
///
/// Values must be finite (a NaN or infinite feature would only come back as a NaN prediction).
public struct RequestValidator: Sendable {
    public let modelName: String
    public let signature: ModelSignature
    public let maxRows: Int

    public init(modelName: String, signature: ModelSignature, maxRows: Int) {
        self.modelName = modelName
        self.signature = signature
        self.maxRows = maxRows
    }

    /// What the batcher runs, and which outputs go back how.
    public struct Checked: Sendable {
        public var batch: TensorBatch
        /// (output name, binary) in response order.
        public var outputs: [(name: String, binary: Bool)]
    }

    public func check(_ request: InferenceRequest) throws(InferenceError) -> Checked {
        let expectedNames = signature.inputs.map(\.name).joined(separator: ", ")
        for input in request.inputs where signature.input(input.name) == nil {
            throw .badRequest("\(modelName) has no input '\(input.name)' (its inputs: \(expectedNames))")
        }
        var rows: Int?
        var inputs: [String: [Float]] = [:]
        for spec in signature.inputs {
            guard let input = request.inputs.first(where: { $0.name == spec.name }) else {
                if spec.optional { continue }
                throw .badRequest("input '\(spec.name)' is missing; \(modelName) expects \(describe(spec))")
            }
            guard input.datatype == spec.datatype.rawValue else {
                throw .badRequest("input '\(spec.name)': datatype \(input.datatype); \(modelName) expects \(spec.datatype.rawValue)")
            }
            guard let n = spec.rows(ofInputShape: input.shape) else {
                throw .badRequest("input '\(spec.name)': shape \(input.shape); \(modelName) expects \(describe(spec))")
            }
            guard n >= 1 else { throw .badRequest("input '\(spec.name)': shape \(input.shape) has no rows") }
            guard n <= maxRows else {
                throw .badRequest("input '\(spec.name)': \(n) rows; \(modelName) takes at most \(maxRows) per request (--max-batch)")
            }
            if let rows, rows != n {
                throw .badRequest("input '\(spec.name)' has \(n) rows but the request's other inputs have \(rows)")
            }
            rows = n
            guard let values = input.values else {
                throw .badRequest("input '\(spec.name)': no values decoded")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw .badRequest("input '\(spec.name)': element \(bad) (row \(bad / max(1, spec.rowElements))) is \(values[bad]); values must be finite")
            }
            inputs[spec.name] = values
        }
        guard let rows else { throw .badRequest("the request has no inputs") }
        for spec in signature.inputs where inputs[spec.name] == nil {
            inputs[spec.name] = [Float](repeating: .nan, count: rows * spec.rowElements)
        }

        var outputs: [(name: String, binary: Bool)] = []
        if let requested = request.outputs {
            var seen: Set<String> = []
            for output in requested {
                guard signature.output(output.name) != nil else {
                    throw .badRequest("\(modelName) has no output '\(output.name)' (its outputs: \(signature.outputs.map(\.name).joined(separator: ", ")))")
                }
                guard seen.insert(output.name).inserted else { throw .badRequest("output '\(output.name)' is requested twice") }
                outputs.append((output.name, output.binary ?? request.binaryOutputByDefault))
            }
        } else {
            outputs = signature.outputs.map { ($0.name, request.binaryOutputByDefault) }
        }
        return Checked(batch: TensorBatch(rows: rows, inputs: inputs), outputs: outputs)
    }

    func describe(_ spec: TensorSpec) -> String {
        "\(spec.inputMetadataShape)" + (spec.rowShape.isEmpty ? " or [-1]" : "") + (spec.meaning.isEmpty ? "" : " (\(spec.meaning))")
    }
}
