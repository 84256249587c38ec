import Common
import Foundation
import HTTPService

/// How a client reaches an inference server.
///
///     InferenceClientConfiguration(url: "http://127.0.0.1:8000", token: nil, timeoutSeconds: 5, maxRetryWaitSeconds: 10)
public struct InferenceClientConfiguration: Sendable {
    /// The server's base address: `http://host:port` (or https, optionally with a path prefix).
    public var url: String
    /// Sent as `Authorization: Bearer <token>`; never logged or shown.
    public var token: String?
    /// The most one request may take, from sending to the last byte of the answer.
    public var timeoutSeconds: Double
    /// The most one call waits in all on `503 Retry-After` answers (queue full) before it gives up.
    public var maxRetryWaitSeconds: Double
    /// Answers larger than this are refused.
    public var maxResponseBytes: Int

    public init(url: String, token: String? = nil, timeoutSeconds: Double = 10, maxRetryWaitSeconds: Double = 10,
                maxResponseBytes: Int = 64 << 20) {
        self.url = url
        self.token = token
        self.timeoutSeconds = timeoutSeconds
        self.maxRetryWaitSeconds = maxRetryWaitSeconds
        self.maxResponseBytes = maxResponseBytes
    }
}

/// A client of the Open Inference Protocol (KServe v2) as `aitrader serve` (and Triton) speak it over HTTP:
/// model metadata and inference with the binary tensor data extension (FP32 inputs and outputs as raw bytes, no
/// decimal round trip). Blocking — it is called from the robot's synchronous cycle.
///
/// Failures in the user's terms (`InferenceClientError`): nothing listening at the address, no answer within the
/// timeout, a missing or wrong bearer token, a model the server does not have, and a busy server: `503` with
/// `Retry-After` is waited out and retried as long as the waits of one call stay within `maxRetryWaitSeconds`.
///
///     let client = try InferenceClient(InferenceClientConfiguration(url: "http://127.0.0.1:8000"))
///     let meta = try client.modelMetadata("short_term")
///     let out = try client.infer("short_term", inputs: [.init(name: "x", shape: [1, 24, 5], values: window)],
///                                outputs: ["alpha", "beta"])
///     out["alpha"]?.values.floats      // [2.31]
public final class InferenceClient: @unchecked Sendable {
    public let configuration: InferenceClientConfiguration
    /// The base address as shown in messages (no credentials, no query).
    public let address: String
    private let base: URL
    private let http: BlockingHTTPClient
    /// How the client waits before a retry (tests record it instead of sleeping).
    let sleep: @Sendable (Double) -> Void

    public convenience init(_ configuration: InferenceClientConfiguration) throws(InferenceClientError) {
        try self.init(configuration, sleep: { Thread.sleep(forTimeInterval: $0) })
    }

    init(_ configuration: InferenceClientConfiguration, sleep: @escaping @Sendable (Double) -> Void) throws(InferenceClientError) {
        var text = configuration.url.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.query == nil, url.user == nil else {
            throw .invalidURL(UntrustedText.sanitized(String(configuration.url.prefix(200))))
        }
        guard configuration.timeoutSeconds.isFinite, configuration.timeoutSeconds > 0,
              configuration.maxRetryWaitSeconds.isFinite, configuration.maxRetryWaitSeconds >= 0 else {
            throw .invalidURL("\(text) (the timeout must be > 0 s and the retry wait >= 0 s)")
        }
        if let token = configuration.token, token.isEmpty || token.contains(where: { $0.isNewline }) {
            throw .invalidToken
        }
        self.configuration = configuration
        base = url
        address = BlockingHTTPClient.display(url)
        http = BlockingHTTPClient(timeout: configuration.timeoutSeconds, maxResponseBytes: configuration.maxResponseBytes)
        self.sleep = sleep
    }

    // MARK: metadata

    /// One tensor of a model's metadata.
    public struct TensorMetadata: Sendable, Equatable {
        public var name: String
        public var datatype: String
        /// -1 for the batch dimension.
        public var shape: [Int]
    }

    /// `GET /v2/models/{name}`: inputs, outputs and the server's parameters (`checkpoint_sha256`, `feature_names`, ...).
    public struct ModelMetadata: Sendable, Equatable {
        public var name: String
        public var inputs: [TensorMetadata]
        public var outputs: [TensorMetadata]
        public var parameters: [String: String]

        public func input(_ name: String) -> TensorMetadata? { inputs.first { $0.name == name } }
        public func output(_ name: String) -> TensorMetadata? { outputs.first { $0.name == name } }
    }

    public func modelMetadata(_ model: String) throws(InferenceClientError) -> ModelMetadata {
        let response = try call("GET", path: "/v2/models/" + Self.segment(model), model: model, body: nil, headers: [:])
        guard let root = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] else {
            throw .badResponse(address, "the metadata of \(model) is not a JSON object")
        }
        func tensors(_ key: String) throws(InferenceClientError) -> [TensorMetadata] {
            guard let list = root[key] as? [Any] else { throw .badResponse(address, "the metadata of \(model) has no '\(key)'") }
            var out: [TensorMetadata] = []
            for item in list {
                guard let t = item as? [String: Any], let name = t["name"] as? String, let datatype = t["datatype"] as? String,
                      let shape = t["shape"] as? [Any] else {
                    throw .badResponse(address, "the metadata of \(model) lists a tensor without name, datatype or shape")
                }
                out.append(TensorMetadata(name: name, datatype: datatype, shape: shape.map { InferenceRequest.integer($0) ?? -2 }))
            }
            return out
        }
        var parameters: [String: String] = [:]
        for (k, v) in (root["parameters"] as? [String: Any]) ?? [:] {
            if let s = v as? String { parameters[k] = s } else if let d = v as? [String: Any], let s = d["string_value"] as? String { parameters[k] = s }
        }
        return ModelMetadata(name: root["name"] as? String ?? model, inputs: try tensors("inputs"), outputs: try tensors("outputs"),
                             parameters: parameters)
    }

    // MARK: inference

    /// `POST /v2/models/{name}/infer` with binary inputs and binary `outputs`; `parameters` are request parameters
    /// (e.g. `checkpoint_sha256`). Returns every output the server answered, by name.
    public func infer(_ model: String, inputs: [InferenceRequest.OutgoingInput], outputs: [String],
                      parameters: [String: String] = [:]) throws(InferenceClientError) -> [String: OutputTensor] {
        let (body, headerLength) = InferenceRequest.encodeBinary(
            inputs: inputs, outputs: outputs, parameters: parameters,
            timeoutMicroseconds: Int(min(configuration.timeoutSeconds, 3_600) * 1_000_000))
        let response = try call("POST", path: "/v2/models/" + Self.segment(model) + "/infer", model: model, body: body,
                                headers: ["Content-Type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength)])
        do {
            return try InferenceResponse.decode(body: response.body, headerLength: response.header("Inference-Header-Content-Length"))
        } catch {
            throw .badResponse(address, "\(model): \(UntrustedText.sanitized(error.message))")
        }
    }

    // MARK: transport

    /// Sends one call, waiting out `503 Retry-After` within the bound; any other non-2xx is an error.
    func call(_ method: String, path: String, model: String, body: [UInt8]?, headers: [String: String])
        throws(InferenceClientError) -> BlockingHTTPClient.Response
    {
        guard let url = URL(string: base.absoluteString + path) else { throw .invalidURL(address + path) }
        var all = headers
        if let token = configuration.token { all["Authorization"] = "Bearer " + token }
        var waited = 0.0
        while true {
            let response: BlockingHTTPClient.Response
            do { response = try http.send(method, url, headers: all, body: body) }
            catch { throw InferenceClientError(error, server: address) }
            switch response.status {
            case 200..<300:
                return response
            case 503:
                let after = Self.retryAfter(response.header("Retry-After"))
                guard waited + after <= configuration.maxRetryWaitSeconds else {
                    throw .busy(address, model: model, retryAfter: after, waited: waited, message: Self.message(response))
                }
                sleep(after)
                waited += after
            case 401, 403:
                throw configuration.token == nil ? .unauthorized(address, sentToken: false) : .unauthorized(address, sentToken: true)
            case 404:
                throw .unknownModel(address, model: model, message: Self.message(response))
            default:
                throw .refused(address, model: model, status: response.status, message: Self.message(response))
            }
        }
    }

    /// `Retry-After` in seconds (decimals accepted, clamped to [0, 3600]); 1 s when absent or not a number (an
    /// HTTP-date, which `aitrader serve` never sends).
    static func retryAfter(_ text: String?) -> Double {
        guard let text, let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite else { return 1 }
        return min(max(v, 0), 3_600)
    }

    /// The server's `{"error": "..."}`, else the body's start; sanitised.
    static func message(_ response: BlockingHTTPClient.Response) -> String {
        if let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any], let e = object["error"] as? String {
            return UntrustedText.sanitized(e, limit: 500)
        }
        return UntrustedText.sanitized(String(decoding: response.body.prefix(500), as: UTF8.self), limit: 200)
    }

    static func segment(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// Why a call to an inference server failed, naming the server (never the token).
///
///     // "cannot reach the inference server at http://127.0.0.1:8000: connection refused (...); is `aitrader serve` running there?"
///     // "the inference server at http://127.0.0.1:8000 is busy (503: the short_term queue is full ...): it asked for 5 s more, beyond the 10 s a call waits"
public enum InferenceClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String)
    case invalidToken
    case unreachable(String, reason: String)
    case timeout(String, seconds: Double)
    case busy(String, model: String, retryAfter: Double, waited: Double, message: String)
    case unauthorized(String, sentToken: Bool)
    case unknownModel(String, model: String, message: String)
    case refused(String, model: String, status: Int, message: String)
    case badResponse(String, String)

    static func seconds(_ s: Double) -> String { HTTPClientError.seconds(s) }

    init(_ error: HTTPClientError, server: String) {
        switch error {
        case .invalidURL(let url, _): self = .invalidURL(url)
        case .unreachable(_, let reason): self = .unreachable(server, reason: reason)
        case .timeout(_, let seconds): self = .timeout(server, seconds: seconds)
        case .tooLarge(_, let limit): self = .badResponse(server, "an answer larger than \(limit) bytes")
        case .redirected(let url): self = .badResponse(server, "\(url) answered with a redirect; give the server's own address")
        }
    }

    public var description: String {
        switch self {
        case let .invalidURL(text):
            "'\(text)' is not an inference server address: give http://HOST:PORT (or https://), without query or credentials"
        case .invalidToken:
            "the inference token is empty or spans lines; put the token alone in the file (or AITRADER_INFERENCE_TOKEN)"
        case let .unreachable(url, reason):
            "cannot reach the inference server at \(url): \(reason); is `aitrader serve` running there?"
        case let .timeout(url, seconds):
            "the inference server at \(url) did not answer within \(Self.seconds(seconds)) (--inference-timeout)"
        case let .busy(url, model, after, waited, message):
            "the inference server at \(url) is busy (503 for \(model): \(message)): it asks to retry in \(Self.seconds(after))"
                + (waited > 0 ? " after \(Self.seconds(waited)) of waiting" : "") + ", beyond what one call waits"
        case let .unauthorized(url, sent):
            sent ? "the inference server at \(url) refused the bearer token (check --inference-token-file or AITRADER_INFERENCE_TOKEN)"
                : "the inference server at \(url) requires a bearer token: give --inference-token-file FILE or AITRADER_INFERENCE_TOKEN"
        case let .unknownModel(url, model, message):
            "the inference server at \(url) has no model \(model) (\(message))"
        case let .refused(url, model, status, message):
            "the inference server at \(url) refused \(model) (HTTP \(status)): \(message)"
        case let .badResponse(url, message):
            "the inference server at \(url) answered something unreadable: \(message)"
        }
    }
}
