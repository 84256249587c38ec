import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client for the tests (one request per connection, `Connection: close`), so a test
/// can send exactly the bytes it means — malformed bodies, lying lengths — and read status, headers and body.
struct TestHTTPClient {
    let port: Int

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers[name.lowercased()] }
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
        var errorMessage: String { ((json as? [String: Any])?["error"] as? String) ?? text }
    }

    enum Failure: Error { case connect(Int32), send, malformed(String) }

    func get(_ path: String, headers: [String: String] = [:]) throws -> Response {
        try request("GET", path, headers: headers)
    }

    func post(_ path: String, json: String, headers: [String: String] = [:]) throws -> Response {
        try request("POST", path, headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: Array(json.utf8))
    }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = [],
                 contentLength: Int? = nil) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.connect(errno) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure.connect(errno) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if method == "POST" || !body.isEmpty { head += "Content-Length: \(contentLength ?? body.count)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }   // the server may close early (an oversized body): read what it answered
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        return try Self.parse(received)
    }

    static func parse(_ data: [UInt8]) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, data.count - 3)).first(where: { Array(data[$0..<($0 + 4)]) == separator }) else {
            throw Failure.malformed(String(decoding: data.prefix(200), as: UTF8.self))
        }
        let lines = String(decoding: data[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure.malformed(lines[0]) }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[(end + 4)...])
        if let length = headers["content-length"].flatMap(Int.init), length < body.count { body = Array(body.prefix(length)) }
        return Response(status: status, headers: headers, body: body)
    }
}

/// JSON and binary infer bodies as tritonclient writes them.
enum InferBody {
    static func json(_ inputs: [(name: String, shape: [Int], values: [Float])], datatype: String = "FP32", id: String? = nil,
                     outputs: [String]? = nil, binaryOutputs: Bool = false) -> String {
        var parts: [String] = []
        if let id { parts.append("\"id\":\"\(id)\"") }
        let tensors = inputs.map { input in
            "{\"name\":\"\(input.name)\",\"datatype\":\"\(datatype)\",\"shape\":[\(input.shape.map(String.init).joined(separator: ","))],"
                + "\"data\":[\(input.values.map { "\($0)" }.joined(separator: ","))]}"
        }
        parts.append("\"inputs\":[" + tensors.joined(separator: ",") + "]")
        if let outputs {
            parts.append("\"outputs\":[" + outputs.map { "{\"name\":\"\($0)\",\"parameters\":{\"binary_data\":\(binaryOutputs)}}" }
                .joined(separator: ",") + "]")
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// (body, Inference-Header-Content-Length) with every input binary.
    static func binary(_ inputs: [(name: String, shape: [Int], values: [Float])], outputs: [String]) -> ([UInt8], Int) {
        let tensors = inputs.map { input in
            "{\"name\":\"\(input.name)\",\"datatype\":\"FP32\",\"shape\":[\(input.shape.map(String.init).joined(separator: ","))],"
                + "\"parameters\":{\"binary_data_size\":\(input.values.count * 4)}}"
        }
        let header = "{\"inputs\":[" + tensors.joined(separator: ",") + "],\"outputs\":["
            + outputs.map { "{\"name\":\"\($0)\",\"parameters\":{\"binary_data\":true}}" }.joined(separator: ",") + "]}"
        var body = Array(header.utf8)
        for input in inputs {
            for v in input.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
        }
        return (body, header.utf8.count)
    }

    /// The outputs of a response (JSON or binary) as floats by name.
    static func outputs(_ response: TestHTTPClient.Response) -> [String: (shape: [Int], values: [Float])] {
        var jsonEnd = response.body.count
        if let n = response.header("inference-header-content-length").flatMap(Int.init) { jsonEnd = n }
        guard let root = try? JSONSerialization.jsonObject(with: Data(response.body[0..<jsonEnd])) as? [String: Any],
              let outputs = root["outputs"] as? [[String: Any]] else { return [:] }
        var offset = jsonEnd
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for o in outputs {
            let name = o["name"] as! String
            let shape = (o["shape"] as! [Any]).map { ($0 as! NSNumber).intValue }
            let datatype = o["datatype"] as! String
            if let size = (o["parameters"] as? [String: Any])?["binary_data_size"].flatMap({ ($0 as? NSNumber)?.intValue }) {
                let bytes = Array(response.body[offset..<(offset + size)])
                offset += size
                var values: [Float] = []
                for i in stride(from: 0, to: size, by: 4) {
                    let bits = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
                    values.append(datatype == "INT32" ? Float(Int32(bitPattern: bits)) : Float(bitPattern: bits))
                }
                out[name] = (shape, values)
            } else {
                out[name] = (shape, (o["data"] as! [Any]).map { Float(($0 as! NSNumber).doubleValue) })
            }
        }
        return out
    }
}
