import Foundation
import Testing
@testable import HTTPService

/// The blocking client against a real `HTTPServer` on 127.0.0.1: every status comes back as a response, and what
/// keeps an answer from arriving (nothing listening, a server too slow, a body too large, a redirect) is a typed
/// error naming the address without its query.
@Suite("Blocking HTTP client")
struct BlockingHTTPClientTests {
    func serve(_ handler: @escaping HTTPServer.Handler) throws -> HTTPServer {
        let server = HTTPServer(configuration: .init(port: 0), handler: handler)
        try server.start()
        return server
    }

    @Test("statuses, headers and bodies come back as sent; the caller's headers and body arrive")
    func roundTrip() throws {
        let server = try serve { request in
            if request.path == "/busy" { return HTTPResponse(status: 503, headers: [("Retry-After", "2")], body: Array("full".utf8)) }
            return HTTPResponse(status: 200, headers: [("X-Echo", request.header("x-token") ?? "")],
                                body: Array("\(request.method) \(request.body.count)".utf8))
        }
        defer { server.stop() }
        let client = BlockingHTTPClient(timeout: 5)
        let ok = try client.send("POST", URL(string: "http://127.0.0.1:\(server.port)/echo")!, headers: ["X-Token": "t1"],
                                 body: [UInt8](repeating: 7, count: 1000))
        #expect(ok.status == 200 && String(decoding: ok.body, as: UTF8.self) == "POST 1000" && ok.header("x-echo") == "t1")
        let busy = try client.send("GET", URL(string: "http://127.0.0.1:\(server.port)/busy")!)
        #expect(busy.status == 503 && busy.header("retry-after") == "2")
    }

    @Test("nothing listening: 'cannot reach' naming the address, without its query")
    func refused() throws {
        let server = try serve { _ in HTTPResponse(status: 200) }
        let port = server.port
        server.stop()
        do {
            _ = try BlockingHTTPClient(timeout: 5).send("GET", URL(string: "http://127.0.0.1:\(port)/v2/health/ready?key=secret")!)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("cannot reach http://127.0.0.1:\(port)/v2/health/ready"), "\(error)")
            #expect(!error.description.contains("secret"))
        }
    }

    @Test("a server slower than the timeout: the call ends at the timeout")
    func timeout() throws {
        let server = try serve { _ in
            Thread.sleep(forTimeInterval: 2)
            return HTTPResponse(status: 200)
        }
        defer { server.stop(waiting: 3) }
        let started = Date()
        do {
            _ = try BlockingHTTPClient(timeout: 30).send("GET", URL(string: "http://127.0.0.1:\(server.port)/slow")!, timeout: 0.3)
            Issue.record("expected a timeout")
        } catch {
            #expect(error == .timeout("http://127.0.0.1:\(server.port)/slow", seconds: 0.3), "\(error)")
        }
        #expect(Date().timeIntervalSince(started) < 1.8)
    }

    @Test("a body over the limit and a redirect are refused")
    func limits() throws {
        let server = try serve { request in
            request.path == "/big" ? HTTPResponse(status: 200, body: [UInt8](repeating: 1, count: 10_000))
                : HTTPResponse(status: 307, headers: [("Location", "http://127.0.0.1:1/elsewhere")])
        }
        defer { server.stop() }
        let client = BlockingHTTPClient(timeout: 5, maxResponseBytes: 1_000)
        #expect(throws: HTTPClientError.tooLarge("http://127.0.0.1:\(server.port)/big", limit: 1_000)) {
            try client.send("GET", URL(string: "http://127.0.0.1:\(server.port)/big")!)
        }
        #expect(throws: HTTPClientError.redirected("http://127.0.0.1:\(server.port)/moved")) {
            try client.send("GET", URL(string: "http://127.0.0.1:\(server.port)/moved")!)
        }
        #expect(throws: HTTPClientError.self) { try client.send("GET", URL(string: "ftp://127.0.0.1/x")!) }
    }
}
