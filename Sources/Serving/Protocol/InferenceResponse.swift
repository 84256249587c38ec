import Common
import HTTPService

/// The answer to an infer request, encoded as the Open Inference Protocol's JSON, or with Triton's binary tensor
/// data extension for the outputs asked for in binary:
///
///     {"model_name":"short_term","model_version":"1","id":"42",
///      "outputs":[{"name":"p_up","datatype":"FP32","shape":[1],"data":[0.5312]}]}
///
/// Binary outputs carry `"parameters":{"binary_data_size":N}` instead of `data`; their little-endian bytes follow the
/// JSON in output order, and the `Inference-Header-Content-Length` header gives the JSON's length. Floats are
/// written in the shortest form that reads back as the same FP32 (non-finite values, which JSON cannot hold, as
/// null).
public struct InferenceResponse: Sendable {
    public var modelName: String
    public var modelVersion: String
    public var id: String?
    public var outputs: [(tensor: OutputTensor, binary: Bool)]

    public init(modelName: String, modelVersion: String, id: String?, outputs: [(tensor: OutputTensor, binary: Bool)]) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.id = id
        self.outputs = outputs
    }

    public func encoded() -> HTTPResponse {
        var json = "{\"model_name\":" + JSONText.quote(modelName) + ",\"model_version\":" + JSONText.quote(modelVersion)
        if let id { json += ",\"id\":" + JSONText.quote(id) }
        json += ",\"outputs\":["
        var binary: [UInt8] = []
        for (n, (tensor, asBinary)) in outputs.enumerated() {
            if n > 0 { json += "," }
            json += "{\"name\":" + JSONText.quote(tensor.name) + ",\"datatype\":\"" + tensor.values.datatype.rawValue
                + "\",\"shape\":[" + tensor.shape.map(String.init).joined(separator: ",") + "]"
            if asBinary {
                let before = binary.count
                Self.appendBytes(tensor.values, to: &binary)
                json += ",\"parameters\":{\"binary_data_size\":\(binary.count - before)}}"
            } else {
                json += ",\"data\":["
                Self.appendJSON(tensor.values, to: &json)
                json += "]}"
            }
        }
        json += "]}"
        if binary.isEmpty && !outputs.contains(where: \.binary) { return .json(200, json) }
        let header = Array(json.utf8)
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream"),
                                                   ("Inference-Header-Content-Length", String(header.count))],
                            body: header + binary)
    }

    static func appendJSON(_ values: TensorValues, to json: inout String) {
        switch values {
        case .fp32(let v):
            json.reserveCapacity(json.utf8.count + v.count * 12)
            for (i, x) in v.enumerated() {
                if i > 0 { json += "," }
                json += x.isFinite ? x.description : "null"
            }
        case .int32(let v):
            json += v.map(String.init).joined(separator: ",")
        }
    }

    static func appendBytes(_ values: TensorValues, to bytes: inout [UInt8]) {
        switch values {
        case .fp32(let v):
            for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        case .int32(let v):
            for x in v { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
        }
    }
}
