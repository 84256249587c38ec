import Common
import Foundation
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

// MARK: - the client's side

extension InferenceResponse {
    /// Reads an infer response as a client: the JSON (all of `body`, or its first `headerLength` bytes) and the binary
    /// outputs after it. Every output's shape, datatype and byte count is checked against the body before a value
    /// is read; a malformed answer is an error saying what is wrong, never a trap.
    ///
    ///     let outputs = try InferenceResponse.decode(body: response.body, headerLength: response.header("Inference-Header-Content-Length"))
    ///     outputs["alpha"]?.values.floats
    public static func decode(body: [UInt8], headerLength: String?) throws(InferenceError) -> [String: OutputTensor] {
        var jsonEnd = body.count
        if let text = headerLength {
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)), n >= 0, n <= body.count else {
                throw .failed("Inference-Header-Content-Length '\(text.prefix(40))' is not a length within the \(body.count)-byte answer")
            }
            jsonEnd = n
        }
        guard let root = (try? JSONSerialization.jsonObject(with: Data(body[0..<jsonEnd]))) as? [String: Any],
              let list = root["outputs"] as? [Any] else {
            throw .failed("the answer is not an inference response (no 'outputs'): "
                + String(decoding: body.prefix(min(jsonEnd, 200)), as: UTF8.self))
        }
        var offset = jsonEnd
        var out: [String: OutputTensor] = [:]
        for (i, item) in list.enumerated() {
            guard let entry = item as? [String: Any], let name = entry["name"] as? String,
                  let typeName = entry["datatype"] as? String, let rawShape = entry["shape"] as? [Any] else {
                throw .failed("outputs[\(i)] lacks a name, datatype or shape")
            }
            let shape: [Int], elements: Int
            switch InferenceRequest.shape(rawShape) {
            case .success(let parsed): (shape, elements) = parsed
            case .failure(.notWholeNumbers): throw .failed("output '\(name)': shape \(rawShape) is not whole numbers")
            case .failure(.tooManyElements): throw .failed("output '\(name)': shape \(rawShape) is too large")
            }
            guard typeName == TensorDatatype.fp32.rawValue || typeName == TensorDatatype.int32.rawValue else {
                throw .failed("output '\(name)': datatype \(typeName.prefix(20)) (expected FP32 or INT32)")
            }
            let isFloat = typeName == TensorDatatype.fp32.rawValue
            let values: TensorValues
            if let size = (entry["parameters"] as? [String: Any])?["binary_data_size"] {
                guard let n = InferenceRequest.integer(size), n == elements * 4, n <= body.count - offset else {
                    throw .failed("output '\(name)': binary_data_size \(size) does not hold shape \(shape) within the \(body.count - offset) bytes left")
                }
                let raw = InferenceRequest.floats(body, from: offset, count: elements)
                values = isFloat ? .fp32(raw) : .int32(raw.map { Int32(bitPattern: $0.bitPattern) })
                offset += n
            } else {
                guard let data = entry["data"] as? [Any], data.count == elements else {
                    throw .failed("output '\(name)': 'data' does not hold the \(elements) values of shape \(shape)")
                }
                var floats: [Float] = []
                floats.reserveCapacity(elements)
                for v in data {
                    if v is NSNull { floats.append(.nan); continue }   // non-finite values are written as null
                    guard let number = v as? NSNumber, !InferenceRequest.isBoolean(number) else {
                        throw .failed("output '\(name)': 'data' holds \(InferenceRequest.describe(v))")
                    }
                    floats.append(Float(number.doubleValue))
                }
                values = isFloat ? .fp32(floats) : .int32(floats.map { $0.isFinite ? Int32(clamping: Int64($0)) : 0 })
            }
            out[name] = OutputTensor(name: name, shape: shape, values: values)
        }
        return out
    }
}
