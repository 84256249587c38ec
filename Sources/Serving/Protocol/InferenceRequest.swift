import Common
import Foundation

/// A `POST /v2/models/{name}/infer` request as the Open Inference Protocol defines it, JSON or with Triton's binary
/// tensor data extension:
///
///     {"id": "42", "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 24, 5], "data": [0.1, ...]}],
///      "outputs": [{"name": "p_up", "parameters": {"binary_data": true}}], "parameters": {"timeout": 5000}}
///
/// Binary: the body is the JSON header (its length in the `Inference-Header-Content-Length` header) followed by the
/// raw little-endian tensors of every input whose `parameters.binary_data_size` is set, in input order.
/// `data` may be flat or nested (row-major). Request parameters read: `binary_data_output` (every output binary
/// unless one says otherwise), `timeout` (microseconds, as Triton's clients send it) and `checkpoint_sha256` (run
/// only on that checkpoint, else 409: what the robot sends, so a server that reloaded another checkpoint never
/// answers features scaled for the old one).
///
/// Decoding checks only the protocol (well-formed JSON, shapes, sizes, numbers); whether the tensors fit the model is
/// `RequestValidator`'s.
public struct InferenceRequest: Sendable {
    public struct Input: Sendable {
        public var name: String
        /// The datatype as the request wrote it (checked against the model's by the validator).
        public var datatype: String
        public var shape: [Int]
        /// The elements as FP32 (decoded for FP32 inputs only; nil for any other datatype, which no model takes).
        public var values: [Float]?
    }

    public struct RequestedOutput: Sendable {
        public var name: String
        /// nil: the request's `binary_data_output` default.
        public var binary: Bool?
    }

    public var id: String?
    public var inputs: [Input]
    /// nil: every output of the model.
    public var outputs: [RequestedOutput]?
    public var binaryOutputByDefault: Bool
    public var timeoutMicroseconds: Int?
    /// The checkpoint the client requires (`parameters.checkpoint_sha256`), nil: whichever is loaded.
    public var requiredCheckpoint: String?

    /// The most elements one input may declare (shape product), checked before anything is allocated.
    public static let maxElements = 1 << 28

    /// Decodes a request body; `headerLength` is the `Inference-Header-Content-Length` header (nil: the body is all
    /// JSON).
    public static func decode(body: [UInt8], headerLength: String?) throws(InferenceError) -> InferenceRequest {
        var jsonEnd = body.count
        if let text = headerLength {
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)), n >= 0, n <= body.count else {
                throw .badRequest("Inference-Header-Content-Length '\(text)' is not a length within the \(body.count)-byte body")
            }
            jsonEnd = n
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(body[0..<jsonEnd]), options: []) }
        catch { throw .badRequest("the request is not valid JSON: \(Self.reason(error))") }
        guard let root = object as? [String: Any] else { throw .badRequest("the request must be a JSON object") }

        var request = InferenceRequest(id: nil, inputs: [], outputs: nil, binaryOutputByDefault: false, timeoutMicroseconds: nil,
                                       requiredCheckpoint: nil)
        if let id = root["id"] {
            guard let text = id as? String else { throw .badRequest("'id' must be a string") }
            request.id = text
        }
        if let parameters = root["parameters"] {
            guard let p = parameters as? [String: Any] else { throw .badRequest("'parameters' must be an object") }
            if let b = p["binary_data_output"] { request.binaryOutputByDefault = try flag(b, "parameters.binary_data_output") }
            if let t = p["timeout"] {
                guard let n = integer(t), n >= 0 else { throw .badRequest("parameters.timeout must be a whole number of microseconds >= 0") }
                request.timeoutMicroseconds = n
            }
            if let c = p["checkpoint_sha256"] {
                guard let text = c as? String, !text.isEmpty, text.utf8.count <= 400 else {
                    throw .badRequest("parameters.checkpoint_sha256 must be a SHA-256 in hex (the model metadata's checkpoint_sha256)")
                }
                request.requiredCheckpoint = text
            }
        }
        guard let inputs = root["inputs"] as? [Any] else {
            throw .badRequest(root["inputs"] == nil ? "the request has no 'inputs'" : "'inputs' must be an array")
        }
        guard !inputs.isEmpty else { throw .badRequest("'inputs' is empty") }
        var binaryOffset = jsonEnd
        var seen: Set<String> = []
        for (i, item) in inputs.enumerated() {
            guard let entry = item as? [String: Any] else { throw .badRequest("inputs[\(i)] must be an object") }
            guard let name = entry["name"] as? String, !name.isEmpty else { throw .badRequest("inputs[\(i)] has no 'name'") }
            guard seen.insert(name).inserted else { throw .badRequest("input '\(name)' is given twice") }
            guard let datatype = entry["datatype"] as? String else { throw .badRequest("input '\(name)' has no 'datatype'") }
            guard let rawShape = entry["shape"] as? [Any] else { throw .badRequest("input '\(name)' has no 'shape' array") }
            let shape: [Int], elements: Int
            switch Self.shape(rawShape) {
            case .success(let parsed): (shape, elements) = parsed
            case .failure(.notWholeNumbers): throw .badRequest("input '\(name)': shape \(describe(rawShape)) must hold whole numbers >= 0")
            case .failure(.tooManyElements): throw .badRequest("input '\(name)': shape \(describe(rawShape)) has too many elements")
            }
            var binarySize: Int?
            if let parameters = entry["parameters"] as? [String: Any], let size = parameters["binary_data_size"] {
                guard let n = integer(size), n >= 0 else { throw .badRequest("input '\(name)': binary_data_size must be a whole number >= 0") }
                binarySize = n
            }
            var input = Input(name: name, datatype: datatype, shape: shape, values: nil)
            let isFP32 = datatype == TensorDatatype.fp32.rawValue
            if let size = binarySize {
                guard entry["data"] == nil else { throw .badRequest("input '\(name)' has both 'data' and binary_data_size") }
                guard size <= body.count - binaryOffset else {
                    throw .badRequest("input '\(name)': binary_data_size \(size) runs past the end of the body (\(body.count - binaryOffset) bytes left)")
                }
                if isFP32 {
                    guard size == elements * 4 else {
                        throw .badRequest("input '\(name)': binary_data_size \(size) bytes, but shape \(shape) of FP32 needs \(elements * 4)")
                    }
                    input.values = floats(body, from: binaryOffset, count: elements)
                }
                binaryOffset += size
            } else {
                guard let data = entry["data"] else { throw .badRequest("input '\(name)' has neither 'data' nor binary_data_size") }
                if isFP32 {
                    var values: [Float] = []
                    values.reserveCapacity(elements)
                    try flatten(data, into: &values, name: name, depth: 0, limit: elements)
                    guard values.count == elements else {
                        throw .badRequest("input '\(name)': 'data' holds \(values.count) values, shape \(shape) needs \(elements)")
                    }
                    input.values = values
                }
            }
            request.inputs.append(input)
        }
        guard binaryOffset == body.count else {
            throw .badRequest("the body has \(body.count - binaryOffset) bytes after the JSON header and the binary inputs it declares")
        }
        if let outputs = root["outputs"] {
            guard let list = outputs as? [Any] else { throw .badRequest("'outputs' must be an array") }
            var requested: [RequestedOutput] = []
            for (i, item) in list.enumerated() {
                guard let entry = item as? [String: Any], let name = entry["name"] as? String else {
                    throw .badRequest("outputs[\(i)] must be an object with a 'name'")
                }
                var output = RequestedOutput(name: name, binary: nil)
                if let parameters = entry["parameters"] as? [String: Any], let b = parameters["binary_data"] {
                    output.binary = try flag(b, "output '\(name)': binary_data")
                }
                requested.append(output)
            }
            request.outputs = requested
        }
        return request
    }

    /// Rows of the request (the first dimension of its first input).
    public var rows: Int { inputs.first?.shape.first ?? 0 }

    // MARK: helpers

    static func floats(_ body: [UInt8], from offset: Int, count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            body.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset ..< offset + count * 4]))
            }
        }
        #if _endian(big)
        out = out.map { Float(bitPattern: $0.bitPattern.byteSwapped) }
        #endif
        return out
    }

    static func flatten(_ value: Any, into out: inout [Float], name: String, depth: Int, limit: Int) throws(InferenceError) {
        if let list = value as? [Any] {
            guard depth < 32 else { throw .badRequest("input '\(name)': 'data' is nested too deeply") }
            for element in list {
                try flatten(element, into: &out, name: name, depth: depth + 1, limit: limit)
                if out.count > limit { return }
            }
            return
        }
        guard let number = value as? NSNumber, !isBoolean(number) else {
            throw .badRequest("input '\(name)': 'data' must hold numbers (found \(describe(value)))")
        }
        out.append(Float(number.doubleValue))
    }

    /// Whether a parsed JSON value came from `true`/`false` (Foundation bridges 0 and 1 to Bool too, so `is Bool`
    /// cannot tell; a JSON boolean's NSNumber has the C type `c`, a number's `i`, `q` or `d`).
    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// Why a JSON shape is not one: a dimension that is not a whole number >= 0, or more than `maxElements` in all.
    enum ShapeProblem: Error { case notWholeNumbers, tooManyElements }

    /// A JSON shape (requests' inputs, responses' outputs) and its element count.
    static func shape(_ raw: [Any]) -> Result<(shape: [Int], elements: Int), ShapeProblem> {
        var shape: [Int] = [], elements = 1
        for d in raw {
            guard let n = integer(d), n >= 0 else { return .failure(.notWholeNumbers) }
            let (product, overflow) = elements.multipliedReportingOverflow(by: n)
            guard !overflow, product <= maxElements else { return .failure(.tooManyElements) }
            shape.append(n)
            elements = product
        }
        return .success((shape, elements))
    }

    static func integer(_ value: Any) -> Int? {
        guard !isBoolean(value), let number = value as? NSNumber else { return nil }
        let d = number.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return Int(d)
    }

    static func flag(_ value: Any, _ what: String) throws(InferenceError) -> Bool {
        if isBoolean(value), let b = value as? Bool { return b }
        throw .badRequest("\(what) must be true or false")
    }

    static func describe(_ value: Any) -> String {
        if let s = value as? String { return "the string \"\(s.prefix(40))\"" }
        if value is NSNull { return "null" }
        if let list = value as? [Any] { return "[" + list.prefix(8).map { "\($0)" }.joined(separator: ", ") + (list.count > 8 ? ", ..." : "") + "]" }
        if value is [String: Any] { return "an object" }
        return "\(value)"
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }
}

// MARK: - the client's side

extension InferenceRequest {
    /// One input tensor a client sends (FP32, row-major).
    public struct OutgoingInput: Sendable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]

        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// A request body with the binary tensor data extension, as Triton's clients send it: the JSON header (every
    /// input with `binary_data_size`, every output asked in binary), then the inputs' little-endian bytes in input
    /// order. `headerLength` goes in `Inference-Header-Content-Length`. `parameters` are request parameters
    /// (strings; `timeoutMicroseconds` is sent as Triton's `timeout`).
    ///
    ///     let (body, n) = InferenceRequest.encodeBinary(inputs: [.init(name: "x", shape: [1, 24, 5], values: window)],
    ///                                                   outputs: ["alpha", "beta"], parameters: [:])
    ///     try InferenceRequest.decode(body: body, headerLength: String(n))   // the server reads back the same floats
    public static func encodeBinary(inputs: [OutgoingInput], outputs: [String], parameters: [String: String],
                                    timeoutMicroseconds: Int? = nil) -> (body: [UInt8], headerLength: Int) {
        var json = "{\"inputs\":["
        for (i, input) in inputs.enumerated() {
            if i > 0 { json += "," }
            json += "{\"name\":" + JSONText.quote(input.name) + ",\"datatype\":\"FP32\",\"shape\":["
                + input.shape.map(String.init).joined(separator: ",") + "],\"parameters\":{\"binary_data_size\":\(input.values.count * 4)}}"
        }
        let requested: [String] = outputs.map { name in "{\"name\":" + JSONText.quote(name) + ",\"parameters\":{\"binary_data\":true}}" }
        json += "],\"outputs\":[" + requested.joined(separator: ",")
        json += "],\"parameters\":{\"binary_data_output\":true"
        if let timeoutMicroseconds { json += ",\"timeout\":\(max(1, timeoutMicroseconds))" }
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) { json += "," + JSONText.quote(name) + ":" + JSONText.quote(value) }
        json += "}}"
        var body = Array(json.utf8)
        let headerLength = body.count
        body.reserveCapacity(headerLength + inputs.reduce(0) { $0 + $1.values.count * 4 })
        for input in inputs {
            input.values.withUnsafeBufferPointer { buffer in
                #if _endian(big)
                for v in buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
                #else
                body.append(contentsOf: UnsafeRawBufferPointer(buffer))
                #endif
            }
        }
        return (body, headerLength)
    }
}
