import Common
import Foundation
import HTTPService
import Models
import Prediction
import Testing
@testable import Serving

/// The client the robot uses against the real server (small checkpoints on 127.0.0.1): the binary wire format both
/// ways, metadata with the checkpoint's identity, the checks `RemoteNetworks` makes before standing in for a
/// checkpoint, and failures in the user's terms — nothing listening, tokens, a busy server's Retry-After, a
/// checkpoint reloaded under a running client.
@Suite("Inference client", .serialized)
struct InferenceClientTests {
    static let fixture = Result { try ServingFixture() }

    func client(_ service: InferenceService, token: String? = nil, retryWait: Double = 10) throws -> InferenceClient {
        try InferenceClient(InferenceClientConfiguration(url: "http://127.0.0.1:\(service.port)/", token: token, timeoutSeconds: 10,
                                                         maxRetryWaitSeconds: retryWait))
    }

    func checkpoint(_ fixture: ServingFixture, _ model: ModelType) throws -> HorizonCheckpoint {
        let c = try ServingFixture.configuration(model)
        return HorizonCheckpoint(modelType: model, path: fixture.path(model), sequenceLength: c.sequenceLength,
                                 inputFeatures: c.inputFeatures, featureNames: (0..<5).map { "f\($0)" }, regimeHeadTrained: false,
                                 sha256: try HorizonCheckpoint.sha256(of: fixture.path(model)))
    }

    @Test("the binary request the client writes is what the server reads; the server's answer is what the client reads")
    func wireRoundTrip() throws {
        let x: [Float] = [1.5, -0, .leastNonzeroMagnitude, 3.4e38, -2.25, 7]
        let (body, n) = InferenceRequest.encodeBinary(inputs: [.init(name: "x", shape: [1, 3, 2], values: x),
                                                               .init(name: "close", shape: [1, 3], values: [1, 2, 3])],
                                                      outputs: ["alpha", "beta"], parameters: ["checkpoint_sha256": "ab\"c"],
                                                      timeoutMicroseconds: 2_000_000)
        let decoded = try InferenceRequest.decode(body: body, headerLength: String(n))
        #expect(decoded.inputs.map(\.name) == ["x", "close"] && decoded.inputs[0].shape == [1, 3, 2])
        #expect(decoded.inputs[0].values!.map(\.bitPattern) == x.map(\.bitPattern))
        #expect(decoded.requiredCheckpoint == "ab\"c" && decoded.timeoutMicroseconds == 2_000_000)
        #expect(decoded.outputs?.map(\.name) == ["alpha", "beta"] && decoded.outputs?.allSatisfy { $0.binary == true } == true)

        let tensors = [OutputTensor(name: "alpha", shape: [2], values: .fp32([1.25, .nan])),
                       OutputTensor(name: "direction", shape: [2], values: .int32([-1, 1]))]
        for binary in [true, false] {
            let encoded = InferenceResponse(modelName: "m", modelVersion: "1", id: nil, outputs: tensors.map { ($0, binary) }).encoded()
            let back = try InferenceResponse.decode(body: encoded.body, headerLength: encoded.header("Inference-Header-Content-Length"))
            #expect(back["direction"] == tensors[1])
            #expect(back["alpha"]?.values.floats.first == 1.25 && back["alpha"]?.values.floats.last?.isNaN == true)
        }
        // A lying answer is an error, not a trap.
        let lying = Array(#"{"outputs":[{"name":"alpha","datatype":"FP32","shape":[4],"parameters":{"binary_data_size":16}}]}"#.utf8)
        #expect(throws: InferenceError.self) { try InferenceResponse.decode(body: lying + [0, 0, 0], headerLength: String(lying.count)) }
        #expect(throws: InferenceError.self) { try InferenceResponse.decode(body: Array("<html>".utf8), headerLength: nil) }
    }

    @Test("metadata reports the checkpoint's SHA-256 and features; infer equals the in-process forward bit for bit")
    func metadataAndInfer() throws {
        let fixture = try Self.fixture.get()
        let (service, _) = try fixture.serve()
        defer { service.shutdown() }
        let client = try client(service)
        for model in ModelType.allCases {
            let meta = try client.modelMetadata(model.rawValue)
            #expect(meta.parameters["checkpoint_sha256"] == (try HorizonCheckpoint.sha256(of: fixture.path(model))))
            #expect(meta.parameters["feature_names"] == "f0,f1,f2,f3,f4" && meta.parameters["timeframe"] == "1h")
            let (x, close, l) = try ServingFixture.inputs(model, rows: 1, seed: 11)
            var inputs = [InferenceRequest.OutgoingInput(name: "x", shape: [1, l, 5], values: x)]
            if let close { inputs.append(.init(name: "close", shape: [1, l], values: close)) }
            let out = try client.infer(model.rawValue, inputs: inputs, outputs: ["alpha", "beta"],
                                       parameters: ["checkpoint_sha256": meta.parameters["checkpoint_sha256"]!])
            let reference = try fixture.reference(model, x: x, close: close, rows: 1)
            // One row alone in its pass, on the same backend as the reference: the same floats (FP32 sent as bytes).
            #expect(out["alpha"]?.values.floats == reference["alpha"] && out["beta"]?.values.floats == reference["beta"], "\(model)")
            #expect(out.keys.sorted() == ["alpha", "beta"])
        }
        let ensemble = try client.modelMetadata("ensemble")
        #expect(ensemble.parameters["checkpoint_sha256"]?.split(separator: "+").count == 3)
    }

    @Test("RemoteNetworks refuses a server that cannot stand in for the checkpoint, naming the model and the difference")
    func standInChecks() throws {
        let fixture = try Self.fixture.get()
        let (service, _) = try fixture.serve()
        defer { service.shutdown() }
        let remote = RemoteNetworks(client: try client(service))
        let good = try checkpoint(fixture, .mediumTerm)
        _ = try remote.network(for: good)
        var cases: [(HorizonCheckpoint, String)] = []
        var c = good
        c.inputFeatures = 6
        c.featureNames.append("f5")
        cases.append((c, "medium_term takes 'x' as FP32 [-1, 12, 5], the checkpoint FP32 [-1, 12, 6] (sequence_length 12, 6 features)"))
        c = good
        c.sequenceLength = 16
        cases.append((c, "the checkpoint FP32 [-1, 16, 5]"))
        c = good
        c.featureNames.swapAt(1, 2)
        cases.append((c, "medium_term feature 2 is 'f1', the checkpoint's is 'f2'"))
        c = good
        c.sha256 = String(repeating: "0", count: 64)
        cases.append((c, "medium_term runs another checkpoint (sha256 \(good.sha256.prefix(16))..., run serving-test-medium_term-22)"))
        c = good
        c.regimeHeadTrained = true
        cases.append((c, "has no FP32 output 'regime'"))
        for (checkpoint, expected) in cases {
            do {
                _ = try remote.network(for: checkpoint)
                Issue.record("expected a refusal: \(expected)")
            } catch {
                #expect("\(error)".contains(expected), "\(error) should say \(expected)")
                #expect("\(error)".contains("http://127.0.0.1:\(service.port)") && "\(error)".contains(good.path))
            }
        }
        #expect(throws: InferenceClientError.unknownModel("http://127.0.0.1:\(service.port)", model: "daily",
                                                          message: "unknown model 'daily' (this server has: short_term, medium_term, long_term, ensemble)")) {
            try remote.client.modelMetadata("daily")
        }
    }

    @Test("nothing listening, a missing or wrong token, a bad address: errors naming the server, never the token")
    func failures() throws {
        let fixture = try Self.fixture.get()
        let (service, _) = try fixture.serve(token: "s3cret-token")
        let port = service.port
        #expect(try client(service, token: "s3cret-token").modelMetadata("short_term").name == "short_term")
        for (token, expected) in [(nil as String?, "requires a bearer token"), ("wrong-token", "refused the bearer token")] {
            do {
                _ = try client(service, token: token).modelMetadata("short_term")
                Issue.record("expected 401")
            } catch {
                #expect("\(error)".contains(expected) && !"\(error)".contains("s3cret") && !"\(error)".contains("wrong-token"),
                        "\(error)")
            }
        }
        service.shutdown()
        do {
            _ = try client(service).modelMetadata("short_term")
            Issue.record("expected unreachable")
        } catch {
            #expect("\(error)".hasPrefix("cannot reach the inference server at http://127.0.0.1:\(port): "), "\(error)")
            #expect("\(error)".contains("aitrader serve"))
        }
        for bad in ["127.0.0.1:8000", "ftp://h/x", "http://u:p@h:1", "http://h:1/?k=v", ""] {
            #expect(throws: InferenceClientError.self) { try InferenceClient(InferenceClientConfiguration(url: bad)) }
        }
        #expect(throws: InferenceClientError.invalidToken) {
            try InferenceClient(InferenceClientConfiguration(url: "http://h:1", token: "a\nb"))
        }
    }

    @Test("503 with Retry-After is waited out and retried within the bound, then reported")
    func busyServer() throws {
        let fixture = try Self.fixture.get()
        let (service, _) = try fixture.serve()
        defer { service.shutdown() }
        // A stand-in in front of the server: the first `busy` infer calls get 503 Retry-After 0.25, the rest pass.
        let state = BusyState(busy: 2)
        let upstream = BlockingHTTPClient(timeout: 10)
        let proxy = HTTPServer(configuration: .init(port: 0)) { request in
            if request.path.hasSuffix("/infer"), state.take() {
                return .json(503, #"{"error":"the short_term queue is full (8 requests waiting); retry shortly"}"#, headers: [("Retry-After", "0.25")])
            }
            let url = URL(string: "http://127.0.0.1:\(service.port)\(request.path)")!
            var headers: [String: String] = [:]
            for name in ["inference-header-content-length", "content-type"] { if let v = request.header(name) { headers[name] = v } }
            guard let r = try? upstream.send(request.method, url, headers: headers, body: request.body.isEmpty ? nil : request.body) else {
                return .text(502, "upstream failed")
            }
            return HTTPResponse(status: r.status, headers: r.headers.map { ($0.key, $0.value) }.filter { $0.0.lowercased() != "content-length" },
                                body: r.body)
        }
        try proxy.start()
        defer { proxy.stop() }
        let waits = WaitLog()
        let configuration = InferenceClientConfiguration(url: "http://127.0.0.1:\(proxy.port)", timeoutSeconds: 10, maxRetryWaitSeconds: 0.6)
        let client = try InferenceClient(configuration, sleep: { waits.add($0); Thread.sleep(forTimeInterval: $0) })
        let (x, _, l) = try ServingFixture.inputs(.shortTerm, rows: 1, seed: 2)
        let input = InferenceRequest.OutgoingInput(name: "x", shape: [1, l, 5], values: x)
        let out = try client.infer("short_term", inputs: [input], outputs: ["alpha"])
        #expect(out["alpha"]?.values.count == 1)
        #expect(waits.all == [0.25, 0.25])
        state.reset(busy: 3)   // 3 × 0.25 s > 0.6 s: the third refusal is reported
        do {
            _ = try client.infer("short_term", inputs: [input], outputs: ["alpha"])
            Issue.record("expected busy")
        } catch {
            #expect(error == .busy("http://127.0.0.1:\(proxy.port)", model: "short_term", retryAfter: 0.25, waited: 0.5,
                                   message: "the short_term queue is full (8 requests waiting); retry shortly"))
            #expect("\(error)".contains("is busy (503 for short_term"), "\(error)")
        }
        #expect(waits.all == [0.25, 0.25, 0.25, 0.25])
    }

    @Test("a checkpoint reloaded under a running client: its requests are refused (409), never answered by other weights")
    func reloadedCheckpoint() throws {
        let fixture = try ServingFixture()
        let (service, _) = try fixture.serve()
        defer { service.shutdown() }
        let remote = RemoteNetworks(client: try client(service))
        let network = try remote.network(for: try checkpoint(fixture, .shortTerm))
        let (x, _, _) = try ServingFixture.inputs(.shortTerm, rows: 2, seed: 5)
        let before = try network.forward(features: x, close: nil, rows: 2)
        #expect(before.alpha.count == 2)
        try fixture.writeCheckpoint(.shortTerm, seed: 999)
        try service.repository.load("short_term")
        do {
            _ = try network.forward(features: x, close: nil, rows: 2)
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains("HTTP 409") && "\(error)".contains("short_term runs the checkpoint with sha256"), "\(error)")
        }
    }
}

/// How many infer calls the stand-in still refuses.
final class BusyState: @unchecked Sendable {
    private let lock = NSLock()
    private var busy: Int
    init(busy: Int) { self.busy = busy }
    func take() -> Bool { lock.withLock { busy > 0 ? { busy -= 1; return true }() : false } }
    func reset(busy n: Int) { lock.withLock { busy = n } }
}

/// The waits a client asked for.
final class WaitLog: @unchecked Sendable {
    private let lock = NSLock()
    private var waits: [Double] = []
    func add(_ s: Double) { lock.withLock { waits.append(s) } }
    var all: [Double] { lock.withLock { waits } }
}
