import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `serve` suite's load generator: one keep-alive HTTP/1.1 connection per simulated client (as perf_analyzer
/// drives a server), sending the same prepared request again and again and reading each response by its
/// Content-Length. Not a general HTTP client: it expects the server's own responses.
final class ServeLoadClient {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServeLoadError.io("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw ServeLoadError.io("connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// A POST with a binary-extension body, as bytes ready to send.
    static func request(path: String, port: Int, body: [UInt8], headerLength: Int) -> [UInt8] {
        Array(("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/octet-stream\r\n"
            + "Inference-Header-Content-Length: \(headerLength)\r\nContent-Length: \(body.count)\r\n\r\n").utf8) + body
    }

    /// Sends `request` and returns the response status.
    func send(_ request: [UInt8]) throws -> Int {
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ServeLoadError.io("send: errno \(errno)") }
            sent += n
        }
        // Headers, then Content-Length bytes.
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = Self.find(buffer)
            if headerEnd == nil { try fill() }
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var length = 0
        for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
            length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let total = headerEnd! + 4 + length
        while buffer.count < total { try fill() }
        buffer.removeFirst(total)
        return status
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { throw ServeLoadError.io("the server closed the connection") }
        buffer += chunk[0..<n]
    }

    private static func find(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        return nil
    }
}

enum ServeLoadError: Error, CustomStringConvertible {
    case io(String)
    var description: String {
        switch self {
        case .io(let m): "serve benchmark client: \(m)"
        }
    }
}
