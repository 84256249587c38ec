import HTTPService
/// The inference server's metric families (in its `MetricsRegistry`, served at `/metrics`):
///
/// | metric | type | labels |
/// |--------|------|--------|
/// | `aitrader_inference_requests_total` | counter | model, status (HTTP code) |
/// | `aitrader_inference_request_duration_seconds` | histogram | model (arrival of the body to the response) |
/// | `aitrader_inference_queue_duration_seconds` | histogram | model (queued until its forward pass starts) |
/// | `aitrader_inference_compute_duration_seconds` | histogram | model (one forward pass) |
/// | `aitrader_inference_batch_size` | histogram | model (rows per forward pass) |
/// | `aitrader_inference_batch_requests` | histogram | model (requests per forward pass) |
/// | `aitrader_inference_in_flight` | gauge | model (requests received, not yet answered) |
/// | `aitrader_inference_queue_depth` | gauge | model (requests waiting for a pass, at scrape time) |
/// | `aitrader_http_requests_total` | counter | endpoint (health, metadata, repository, metrics, ...), status |
/// | `aitrader_server_info` | gauge (1) | version, device, device_name |
/// | `aitrader_model_ready` | gauge | model (1 ready, 0 not) |
public final class ServingMetrics: Sendable {
    public let registry: MetricsRegistry
    public let requests: Counter
    public let latency: Histogram
    public let queueTime: Histogram
    public let computeTime: Histogram
    public let batchSize: Histogram
    public let batchRequests: Histogram
    public let inFlight: Gauge
    public let queueDepth: Gauge
    public let httpRequests: Counter
    public let info: Gauge
    public let modelReady: Gauge

    public init(registry: MetricsRegistry = MetricsRegistry(), maxBatch: Int) {
        self.registry = registry
        requests = registry.counter("aitrader_inference_requests_total", "Inference requests by model and HTTP status",
                                    labels: ["model", "status"])
        latency = registry.histogram("aitrader_inference_request_duration_seconds",
                                     "Inference request latency in the server, body received to response ready",
                                     labels: ["model"], buckets: MetricsRegistry.latencyBuckets)
        queueTime = registry.histogram("aitrader_inference_queue_duration_seconds",
                                       "Time a request waited in its model's queue before its forward pass started",
                                       labels: ["model"], buckets: MetricsRegistry.latencyBuckets)
        computeTime = registry.histogram("aitrader_inference_compute_duration_seconds", "Duration of one batched forward pass",
                                         labels: ["model"], buckets: MetricsRegistry.latencyBuckets)
        batchSize = registry.histogram("aitrader_inference_batch_size", "Rows per forward pass", labels: ["model"],
                                       buckets: MetricsRegistry.sizeBuckets(max: maxBatch))
        batchRequests = registry.histogram("aitrader_inference_batch_requests", "Requests coalesced into one forward pass",
                                           labels: ["model"], buckets: MetricsRegistry.sizeBuckets(max: maxBatch))
        inFlight = registry.gauge("aitrader_inference_in_flight", "Inference requests received and not yet answered", labels: ["model"])
        queueDepth = registry.gauge("aitrader_inference_queue_depth", "Requests waiting in a model's queue", labels: ["model"])
        httpRequests = registry.counter("aitrader_http_requests_total", "Non-inference HTTP requests by endpoint and status",
                                        labels: ["endpoint", "status"])
        info = registry.gauge("aitrader_server_info", "The server's version and compute device (value 1)",
                              labels: ["version", "device", "device_name"])
        modelReady = registry.gauge("aitrader_model_ready", "1 when the model is loaded and serving", labels: ["model"])
    }

    /// The batcher hooks that feed the queue, compute and batch-size families of `model`.
    public func observer(model: String) -> DynamicBatcher.Observer {
        var o = DynamicBatcher.Observer()
        o.batchRan = { [self] rows, count, seconds in
            batchSize.observe(Double(rows), [model])
            batchRequests.observe(Double(count), [model])
            computeTime.observe(seconds, [model])
        }
        o.queued = { [self] seconds in queueTime.observe(seconds, [model]) }
        return o
    }
}
