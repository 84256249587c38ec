import Foundation
import MarketData
import Venues

/// Logs runs to an MLflow tracking server through its REST API 2.0 (`HTTPClient`: redirects vetted, errors
/// sanitised): `experiments/get-by-name` (then `experiments/create` when there is none), `runs/create`,
/// `runs/log-batch` for params, metrics and tags (in MLflow's batch limits), `runs/update` for the status, and
/// artifacts PUT through the server's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/...`, a server started
/// with artifact serving, MLflow's default). `MLFLOW_TRACKING_TOKEN`, when set, is sent as a bearer token.
///
///     let mlflow = try MLflowTracker(uri: "http://127.0.0.1:5000")
///     let id = try await mlflow.startRun(experiment: "train-short_term", name: "r", params: ["seed": "42"], tags: [:])
///     try await mlflow.endRun(runID: id, status: .finished)
public final class MLflowTracker: Tracker, @unchecked Sendable {
    /// The server's base URI (no trailing slash).
    public let uri: String
    /// The URI without any user:password part (for messages).
    public var destination: String {
        guard var components = URLComponents(string: uri), components.user != nil || components.password != nil else { return uri }
        components.user = nil
        components.password = nil
        return components.string ?? uri
    }
    let client: HTTPClient
    let headers: [String: String]
    private let lock = NSLock()
    /// run id → the run's artifact URI (`mlflow-artifacts:/<experiment>/<run>/artifacts`).
    private var artifactURIs: [String: String] = [:]

    /// MLflow's per-request limits of `runs/log-batch` and its value lengths.
    static let maxMetricsPerBatch = 1000, maxParamsPerBatch = 100, maxTagsPerBatch = 100
    static let maxParamValueLength = 6000, maxTagValueLength = 8000

    /// The tracking URI from `--mlflow-uri`, else `MLFLOW_TRACKING_URI`; nil when neither names an http(s) server.
    public static func configuredURI(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let text = option ?? environment["MLFLOW_TRACKING_URI"]
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    public init(uri: String, timeout: Double = 15,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws(TrackingError) {
        var base = uri
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              url.host != nil else {
            throw .server(uri: uri, call: "configuration", message: "the tracking URI must be http(s)://host[:port][/path]")
        }
        self.uri = base
        client = HTTPClient(timeout: timeout)
        var headers: [String: String] = [:]
        if let token = environment["MLFLOW_TRACKING_TOKEN"], !token.isEmpty { headers["Authorization"] = "Bearer \(token)" }
        self.headers = headers
    }

    // MARK: requests

    /// POSTs (or GETs, with `query`) one API 2.0 call and returns the decoded JSON object.
    @discardableResult
    func call(_ path: String, method: String = "POST", query: [(String, String)] = [], body: (any Encodable)? = nil)
        async throws(TrackingError) -> [String: Any]
    {
        var data: Data?
        if let body {
            let encoder = JSONEncoder()
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
            do { data = try encoder.encode(body) } catch {
                throw .server(uri: uri, call: path, message: "cannot encode the request: \(error)")
            }
        }
        let response: HTTPClient.Response
        do {
            response = try await client.send(method, uri + "/api/2.0/mlflow/" + path, query: query, body: data, headers: headers)
        } catch {
            throw .server(uri: uri, call: path, message: error.description)
        }
        guard let object = try? JSONSerialization.jsonObject(with: response.body.isEmpty ? Data("{}".utf8) : response.body) as? [String: Any] else {
            throw .server(uri: uri, call: path, message: "the answer is not a JSON object")
        }
        return object
    }

    struct KeyValue: Encodable { var key: String; var value: String }
    struct Metric: Encodable { var key: String; var value: Double; var timestamp: Int64; var step: Int }
    struct CreateExperiment: Encodable { var name: String }
    struct CreateRun: Encodable {
        var experiment_id: String
        var run_name: String
        var start_time: Int64
        var tags: [KeyValue]
    }
    struct LogBatch: Encodable {
        var run_id: String
        var metrics: [Metric] = []
        var params: [KeyValue] = []
        var tags: [KeyValue] = []
    }
    struct UpdateRun: Encodable { var run_id: String; var status: String; var end_time: Int64 }

    /// The experiment's id, creating the experiment when the server has none of that name.
    public func experimentID(_ name: String) async throws(TrackingError) -> String {
        if let found = try? await call("experiments/get-by-name", method: "GET", query: [("experiment_name", name)]),
           let experiment = found["experiment"] as? [String: Any], let id = experiment["experiment_id"] as? String {
            return id
        }
        let created = try await call("experiments/create", body: CreateExperiment(name: name))
        guard let id = created["experiment_id"] as? String else {
            throw .server(uri: uri, call: "experiments/create", message: "no experiment_id in the answer")
        }
        return id
    }

    static func truncated(_ s: String, _ limit: Int) -> String { s.count > limit ? String(s.prefix(limit)) : s }

    // MARK: Tracker

    public func startRun(experiment: String, name: String, params: [String: String], tags: [String: String])
        async throws(TrackingError) -> String
    {
        let experimentID = try await experimentID(experiment)
        let created = try await call("runs/create", body: CreateRun(
            experiment_id: experimentID, run_name: name, start_time: TrackedMetric.now(),
            tags: tags.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: Self.truncated($0.value, Self.maxTagValueLength)) }))
        guard let run = created["run"] as? [String: Any], let info = run["info"] as? [String: Any],
              let id = (info["run_id"] ?? info["run_uuid"]) as? String else {
            throw .server(uri: uri, call: "runs/create", message: "no run id in the answer")
        }
        if let artifactURI = info["artifact_uri"] as? String { lock.withLock { artifactURIs[id] = artifactURI } }
        let sorted = params.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: Self.truncated($0.value, Self.maxParamValueLength)) }
        for start in stride(from: 0, to: sorted.count, by: Self.maxParamsPerBatch) {
            try await call("runs/log-batch", body: LogBatch(run_id: id, params: Array(sorted[start ..< min(sorted.count, start + Self.maxParamsPerBatch)])))
        }
        return id
    }

    public func logMetrics(runID: String, _ metrics: [TrackedMetric]) async throws(TrackingError) {
        let all = metrics.map { Metric(key: $0.key, value: $0.value, timestamp: $0.timestamp, step: $0.step) }
        for start in stride(from: 0, to: all.count, by: Self.maxMetricsPerBatch) {
            try await call("runs/log-batch", body: LogBatch(run_id: runID, metrics: Array(all[start ..< min(all.count, start + Self.maxMetricsPerBatch)])))
        }
    }

    public func setTags(runID: String, _ tags: [String: String]) async throws(TrackingError) {
        let all = tags.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: Self.truncated($0.value, Self.maxTagValueLength)) }
        for start in stride(from: 0, to: all.count, by: Self.maxTagsPerBatch) {
            try await call("runs/log-batch", body: LogBatch(run_id: runID, tags: Array(all[start ..< min(all.count, start + Self.maxTagsPerBatch)])))
        }
    }

    /// PUTs the file to the artifact proxy under the run's artifact path.
    public func logArtifact(runID: String, path: String, name: String) async throws(TrackingError) {
        var artifactURI = lock.withLock { artifactURIs[runID] }
        if artifactURI == nil {
            let run = try await call("runs/get", method: "GET", query: [("run_id", runID)])
            artifactURI = ((run["run"] as? [String: Any])?["info"] as? [String: Any])?["artifact_uri"] as? String
        }
        let prefix = "mlflow-artifacts:"
        guard let artifactURI, artifactURI.hasPrefix(prefix) else {
            throw .server(uri: uri, call: "artifacts", message: "the run's artifact store (\(artifactURI ?? "none")) is not "
                          + "served by the tracking server (start it with artifact serving)")
        }
        var location = String(artifactURI.dropFirst(prefix.count))
        while location.hasPrefix("/") { location.removeFirst() }
        let encodedName = name.split(separator: "/").map { HTTPClient.encodePathSegment(String($0)) }.joined(separator: "/")
        let body: Data
        do { body = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .server(uri: uri, call: "artifacts", message: "cannot read \(path): \(error.localizedDescription)")
        }
        do {
            _ = try await client.send("PUT", uri + "/api/2.0/mlflow-artifacts/artifacts/" + location + "/" + encodedName,
                                      body: body, contentType: "application/octet-stream", headers: headers)
        } catch {
            throw .server(uri: uri, call: "artifacts PUT \(name)", message: error.description)
        }
    }

    public func endRun(runID: String, status: RunStatus) async throws(TrackingError) {
        try await call("runs/update", body: UpdateRun(run_id: runID, status: status.rawValue, end_time: TrackedMetric.now()))
    }
}
