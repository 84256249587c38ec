import Common
import Dispatch
import Foundation
import HTTPService

/// The HTTP routes of the Open Inference Protocol (KServe v2) as Triton serves them, plus Triton's repository
/// extension and `/metrics`:
///
/// | method | path | answer |
/// |--------|------|--------|
/// | GET | `/v2/health/live` | 200 while the process serves HTTP |
/// | GET | `/v2/health/ready` | 200 when every model is loaded and the server is not draining, else 503 |
/// | GET | `/v2` | server metadata: name, version, extensions |
/// | GET | `/v2/models/{m}[/versions/{v}]` | model metadata: versions, platform, inputs, outputs (datatype, shape), parameters (`checkpoint_sha256`; horizon models also `feature_names`, `run_id`, `timeframe`) |
/// | GET | `/v2/models/{m}[/versions/{v}]/ready` | 200 ready, 400 not loaded |
/// | GET | `/v2/models/{m}[/versions/{v}]/config` | Triton-style config: max_batch_size, dynamic_batching, input, output |
/// | POST | `/v2/models/{m}[/versions/{v}]/infer` | inference (JSON, or the binary tensor data extension) |
/// | POST | `/v2/repository/index` | every model with its state (READY / UNAVAILABLE) and reason |
/// | POST | `/v2/repository/models/{m}/load`, `/unload` | (re)load from disk / unload after draining its queue |
/// | GET | `/metrics` | Prometheus text |
///
/// Errors are `{"error": "..."}`: 400 bad request (the message names the input and what was expected), 401 without
/// the bearer token, 404 unknown model or path, 405 wrong method, 409 the request's `checkpoint_sha256` is not the
/// loaded checkpoint's, 413 body over the limit, 503 (+ Retry-After) queue full or draining, 504 timeout, 500 a
/// model failure.
struct InferenceRoutes: Sendable {
    let service: InferenceService

    var repository: ModelRepository { service.repository }
    var metrics: ServingMetrics { service.metrics }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map { $0.removingPercentEncoding ?? String($0) }
        let isHealth = parts.count == 3 && parts[0] == "v2" && parts[1] == "health"
        if let token = service.configuration.authToken, !isHealth, !Self.authorized(request, token: token) {
            metrics.httpRequests.increment([endpoint(parts), "401"])
            var response = error(.init(status: 401, message: "missing or wrong bearer token (Authorization: Bearer <token>)"))
            response.headers.append(("WWW-Authenticate", "Bearer"))
            return response
        }
        if parts.count >= 3, parts[0] == "v2", parts[1] == "models", parts.last == "infer" {
            return infer(request, parts: parts)
        }
        let response = route(request, parts: parts)
        metrics.httpRequests.increment([endpoint(parts), String(response.status)])
        return response
    }

    private func route(_ request: HTTPRequest, parts: [String]) -> HTTPResponse {
        do throws(InferenceError) {
            switch parts.count {
            case 1 where parts[0] == "metrics":
                try method(request, "GET")
                for name in ModelRepository.modelNames {
                    metrics.queueDepth.set(Double((try? repository.ready(name))?.batcher.queueDepth ?? 0), [name])
                }
                return .text(200, metrics.registry.exposition(), contentType: MetricsRegistry.contentType)
            case 1 where parts[0] == "v2":
                try method(request, "GET")
                return .json(200, #"{"name":"aitrader","version":\#(JSONText.quote(AITraderVersion.string)),"extensions":["binary_tensor_data","model_repository"]}"#)
            case 3 where parts[0] == "v2" && parts[1] == "health":
                try method(request, "GET")
                switch parts[2] {
                case "live": return HTTPResponse(status: 200)
                case "ready":
                    let ready = !service.isDraining && repository.readyModels.count == ModelRepository.modelNames.count
                    return HTTPResponse(status: ready ? 200 : 503)
                default: throw .notFound("no such endpoint: \(request.path)")
                }
            case 3 where parts[0] == "v2" && parts[1] == "repository" && parts[2] == "index":
                try method(request, "POST")
                let rows = repository.index().map {
                    "{\"name\":\(JSONText.quote($0.name)),\"version\":\(JSONText.quote($0.version)),\"state\":\"\($0.state)\""
                        + ($0.reason.isEmpty ? "" : ",\"reason\":\(JSONText.quote($0.reason))") + "}"
                }
                return .json(200, "[" + rows.joined(separator: ",") + "]")
            case 5 where parts[0] == "v2" && parts[1] == "repository" && parts[2] == "models":
                try method(request, "POST")
                switch parts[4] {
                case "load": try repository.load(parts[3])
                case "unload": try repository.unload(parts[3])
                default: throw .notFound("no such endpoint: \(request.path)")
                }
                return HTTPResponse(status: 200)
            default:
                guard parts.count >= 3, parts[0] == "v2", parts[1] == "models" else { throw .notFound("no such endpoint: \(request.path)") }
                let (name, rest) = try modelPath(parts)
                try method(request, "GET")
                switch rest {
                case nil: return .json(200, try metadata(name))
                case "ready":
                    guard (try? repository.ready(name)) != nil else {
                        _ = try repository.ready(name)   // 404 for an unknown name
                        return HTTPResponse(status: 400)
                    }
                    return HTTPResponse(status: 200)
                case "config": return .json(200, try config(name))
                default: throw .notFound("no such endpoint: \(request.path)")
                }
            }
        } catch {
            return self.error(error)
        }
    }

    // MARK: inference

    private func infer(_ request: HTTPRequest, parts: [String]) -> HTTPResponse {
        let start = DispatchTime.now().uptimeNanoseconds
        let name = parts[2]
        let label = ModelRepository.modelNames.contains(name) ? name : "unknown"
        metrics.inFlight.add(1, [label])
        let response: HTTPResponse
        do throws(InferenceError) {
            let (modelName, _) = try modelPath(parts.dropLast() + [])
            try method(request, "POST")
            if service.isDraining { throw .unavailable("the server is shutting down") }
            let (model, batcher) = try repository.ready(modelName)
            let decoded = try InferenceRequest.decode(body: request.body, headerLength: request.header("inference-header-content-length"))
            let validator = RequestValidator(modelName: modelName, signature: model.signature, maxRows: batcher.policy.maxBatch)
            let checked = try validator.check(decoded)
            if let required = decoded.requiredCheckpoint, required != model.checkpointSHA256 {
                throw DynamicBatcher.checkpointConflict(model, required: required)
            }
            let outputs = try batcher.submit(checked.batch, timeoutMicroseconds: decoded.timeoutMicroseconds,
                                             requiringCheckpoint: decoded.requiredCheckpoint).get()
            let byName = Dictionary(outputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let selected = checked.outputs.compactMap { o in byName[o.name].map { (tensor: $0, binary: o.binary) } }
            response = InferenceResponse(modelName: modelName, modelVersion: ModelRepository.version, id: decoded.id,
                                         outputs: selected).encoded()
        } catch {
            response = self.error(error)
        }
        metrics.inFlight.add(-1, [label])
        metrics.requests.increment([label, String(response.status)])
        metrics.latency.observe(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, [label])
        return response
    }

    // MARK: metadata

    private func metadata(_ name: String) throws(InferenceError) -> String {
        let model = try repository.ready(name).model
        func tensors(_ specs: [TensorSpec], input: Bool) -> String {
            "[" + specs.map {
                let shape = input ? $0.inputMetadataShape : $0.metadataShape
                return "{\"name\":\(JSONText.quote($0.name)),\"datatype\":\"\($0.datatype.rawValue)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))]}"
            }.joined(separator: ",") + "]"
        }
        let parameters = model.metadataParameters.map { "\(JSONText.quote($0.name)):\(JSONText.quote($0.value))" }.joined(separator: ",")
        return "{\"name\":\(JSONText.quote(name)),\"versions\":[\"\(ModelRepository.version)\"],\"platform\":\"aitrader\","
            + "\"inputs\":\(tensors(model.signature.inputs, input: true)),\"outputs\":\(tensors(model.signature.outputs, input: false)),"
            + "\"parameters\":{\(parameters)}}"
    }

    private func config(_ name: String) throws(InferenceError) -> String {
        let (model, batcher) = try repository.ready(name)
        let p = batcher.policy
        func tensors(_ specs: [TensorSpec], input: Bool) -> String {
            "[" + specs.map {
                let dims = input ? $0.inputDims : $0.rowShape
                return "{\"name\":\(JSONText.quote($0.name)),\"data_type\":\"\($0.datatype.configName)\",\"dims\":[\(dims.map(String.init).joined(separator: ","))]"
                    + (input && $0.rowShape.isEmpty ? ",\"reshape\":{\"shape\":[]}" : "")
                    + ($0.optional ? ",\"optional\":true" : "") + "}"
            }.joined(separator: ",") + "]"
        }
        let batching = p.enabled
            ? ",\"dynamic_batching\":{\"preferred_batch_size\":[\(p.preferredBatchSizes.map(String.init).joined(separator: ","))],"
                + "\"max_queue_delay_microseconds\":\(p.maxQueueDelayMicroseconds),\"default_queue_policy\":{\"max_queue_size\":\(p.maxQueuedRequests),"
                + "\"default_timeout_microseconds\":\(p.requestTimeoutMicroseconds)}}"
            : ""
        return "{\"name\":\(JSONText.quote(name)),\"platform\":\"aitrader\",\"backend\":\"aitrader\",\"max_batch_size\":\(p.maxBatch)"
            + ",\"input\":\(tensors(model.signature.inputs, input: true)),\"output\":\(tensors(model.signature.outputs, input: false))" + batching
            + ",\"parameters\":{\"device\":{\"string_value\":\(JSONText.quote(service.backend.name))},\"checkpoints\":{\"string_value\":"
            + JSONText.quote(model.checkpointPaths.joined(separator: ",")) + "}}}"
    }

    // MARK: helpers

    /// `["v2", "models", m]` or `["v2", "models", m, "versions", v]`, then an optional action; the version must be 1.
    private func modelPath(_ parts: [String]) throws(InferenceError) -> (name: String, rest: String?) {
        let name = parts[2]
        var i = 3
        if parts.count > 4, parts[3] == "versions" {
            guard parts[4] == ModelRepository.version else {
                _ = try repository.ready(name)
                throw .notFound("model '\(name)' has no version '\(parts[4])' (versions: \(ModelRepository.version))")
            }
            i = 5
        }
        guard parts.count <= i + 1 else { throw .notFound("no such endpoint: /" + parts.joined(separator: "/")) }
        return (name, parts.count == i + 1 ? parts[i] : nil)
    }

    private func method(_ request: HTTPRequest, _ expected: String) throws(InferenceError) {
        guard request.method == expected || (expected == "GET" && request.method == "HEAD") else {
            throw InferenceError(status: 405, message: "\(request.method) is not allowed here; use \(expected)")
        }
    }

    private func error(_ e: InferenceError) -> HTTPResponse {
        var headers: [(String, String)] = []
        if let retry = e.retryAfterSeconds { headers.append(("Retry-After", String(retry))) }
        return .json(e.status, "{\"error\":\(JSONText.quote(e.message))}", headers: headers)
    }

    private func endpoint(_ parts: [String]) -> String {
        guard let first = parts.first else { return "other" }
        if first == "metrics" { return "metrics" }
        guard first == "v2" else { return "other" }
        if parts.count == 1 { return "server_metadata" }
        switch parts[1] {
        case "health": return "health"
        case "repository": return "repository"
        case "models": return parts.last == "ready" ? "model_ready" : (parts.last == "config" ? "model_config" : "model_metadata")
        default: return "other"
        }
    }

    /// Constant-time comparison of the bearer token.
    static func authorized(_ request: HTTPRequest, token: String) -> Bool {
        guard let header = request.header("authorization"), header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst(7).utf8), expected = Array(token.utf8)
        var difference = given.count ^ expected.count
        for i in 0..<expected.count { difference |= Int(expected[i] ^ (i < given.count ? given[i] : 0)) }
        return difference == 0
    }
}
