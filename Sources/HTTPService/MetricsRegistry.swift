import Foundation

/// Prometheus metrics in the text exposition format (version 0.0.4), for `/metrics` of the inference server and of
/// any other long-running part (the robot's monitoring registers its own families in a registry of its own and
/// serves `exposition()` the same way).
///
/// Families are counters, gauges and histograms with fixed label names; each label-value combination is a series,
/// created on first use. Every method is thread-safe (one lock per family); values are Doubles.
///
///     let registry = MetricsRegistry()
///     let requests = registry.counter("aitrader_inference_requests_total", "Inference requests by model and status",
///                                     labels: ["model", "status"])
///     requests.increment(["short_term", "200"])
///     let latency = registry.histogram("aitrader_inference_request_duration_seconds", "End-to-end latency",
///                                      labels: ["model"], buckets: MetricsRegistry.latencyBuckets)
///     latency.observe(0.0012, ["short_term"])
///     print(registry.exposition())
///     // # HELP aitrader_inference_requests_total Inference requests by model and status
///     // # TYPE aitrader_inference_requests_total counter
///     // aitrader_inference_requests_total{model="short_term",status="200"} 1
///     // ...
public final class MetricsRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var families: [MetricFamily] = []

    public init() {}

    /// 50 µs to 10 s, roughly ×2.5 steps: request latencies and queue times.
    public static let latencyBuckets: [Double] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Powers of two up to `max` (and `max`): batch sizes.
    public static func sizeBuckets(max: Int) -> [Double] {
        var out: [Double] = []
        var b = 1
        while b < max { out.append(Double(b)); b *= 2 }
        out.append(Double(max))
        return out
    }

    public func counter(_ name: String, _ help: String, labels: [String] = []) -> Counter {
        register(Counter(name: name, help: help, labelNames: labels))
    }

    public func gauge(_ name: String, _ help: String, labels: [String] = []) -> Gauge {
        register(Gauge(name: name, help: help, labelNames: labels))
    }

    public func histogram(_ name: String, _ help: String, labels: [String] = [], buckets: [Double]) -> Histogram {
        register(Histogram(name: name, help: help, labelNames: labels, buckets: buckets))
    }

    /// A family registered twice under one name is the first one (so parts of a program may share a family).
    private func register<F: MetricFamily>(_ family: F) -> F {
        lock.lock()
        defer { lock.unlock() }
        if let existing = families.first(where: { $0.name == family.name }) as? F { return existing }
        families.append(family)
        return family
    }

    /// Every family, in registration order, in the text format (Content-Type `text/plain; version=0.0.4`).
    public func exposition() -> String {
        lock.lock()
        let all = families
        lock.unlock()
        return all.map { $0.exposition() }.joined()
    }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// `{a="x",b="y"}` with the values escaped (backslash, double quote, newline).
    static func labelText(_ names: [String], _ values: [String], extra: (String, String)? = nil) -> String {
        var pairs = zip(names, values).map { "\($0)=\"\(escape($1))\"" }
        if let extra { pairs.append("\(extra.0)=\"\(escape(extra.1))\"") }
        return pairs.isEmpty ? "" : "{" + pairs.joined(separator: ",") + "}"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}

/// A named family of series with fixed label names.
public class MetricFamily: @unchecked Sendable {
    public let name: String
    public let help: String
    public let labelNames: [String]
    let lock = NSLock()

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    var type: String { "untyped" }

    func exposition() -> String {
        "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))\n"
            + "# TYPE \(name) \(type)\n" + samples()
    }

    func samples() -> String { "" }

    /// The label values, padded or cut to the family's label count (never a trap on a caller's mistake).
    func key(_ values: [String]) -> [String] {
        values.count == labelNames.count ? values
            : Array((values + [String](repeating: "", count: labelNames.count)).prefix(labelNames.count))
    }
}

/// One number per label set, in first-seen order: what a counter and a gauge share.
public class ScalarFamily: MetricFamily, @unchecked Sendable {
    private var values: [[String]: Double] = [:]
    private var order: [[String]] = []

    /// Changes the series of `labels` (created at 0 on first use) under the family's lock.
    func update(_ labels: [String], _ body: (inout Double) -> Void) {
        let k = key(labels)
        lock.lock()
        if values[k] == nil { order.append(k) }
        body(&values[k, default: 0])
        lock.unlock()
    }

    public func value(_ labels: [String] = []) -> Double {
        lock.lock()
        defer { lock.unlock() }
        return values[key(labels)] ?? 0
    }

    override func samples() -> String {
        lock.lock()
        defer { lock.unlock() }
        return order.map { "\(name)\(MetricsRegistry.labelText(labelNames, $0)) \(MetricsRegistry.number(values[$0]!))\n" }.joined()
    }
}

/// A value that only goes up (requests served, errors).
public final class Counter: ScalarFamily, @unchecked Sendable {
    override var type: String { "counter" }

    public func increment(_ labels: [String] = [], by amount: Double = 1) {
        guard amount >= 0, amount.isFinite else { return }
        update(labels) { $0 += amount }
    }
}

/// A value that goes up and down (requests in flight, queue depth).
public final class Gauge: ScalarFamily, @unchecked Sendable {
    override var type: String { "gauge" }

    public func set(_ value: Double, _ labels: [String] = []) { update(labels) { $0 = value } }

    public func add(_ amount: Double, _ labels: [String] = []) { update(labels) { $0 += amount } }
}

/// Observations counted into cumulative buckets (`le`), with their sum and count.
public final class Histogram: MetricFamily, @unchecked Sendable {
    public let buckets: [Double]
    private var series: [[String]: (counts: [UInt64], sum: Double, count: UInt64)] = [:]
    private var order: [[String]] = []
    override var type: String { "histogram" }

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        self.buckets = Array(Set(buckets.filter(\.isFinite))).sorted()
        super.init(name: name, help: help, labelNames: labelNames)
    }

    public func observe(_ value: Double, _ labels: [String] = []) {
        guard !value.isNaN else { return }
        let k = key(labels)
        lock.lock()
        var s = series[k] ?? (counts: [UInt64](repeating: 0, count: buckets.count), sum: 0, count: 0)
        if series[k] == nil { order.append(k) }
        if let i = buckets.firstIndex(where: { value <= $0 }) { s.counts[i] += 1 }
        s.sum += value
        s.count += 1
        series[k] = s
        lock.unlock()
    }

    /// (count, sum) of a series.
    public func summary(_ labels: [String] = []) -> (count: UInt64, sum: Double) {
        lock.lock()
        defer { lock.unlock() }
        let s = series[key(labels)]
        return (s?.count ?? 0, s?.sum ?? 0)
    }

    override func samples() -> String {
        lock.lock()
        defer { lock.unlock() }
        var out = ""
        for k in order {
            let s = series[k]!
            var cumulative: UInt64 = 0
            for (i, bound) in buckets.enumerated() {
                cumulative += s.counts[i]
                out += "\(name)_bucket\(MetricsRegistry.labelText(labelNames, k, extra: ("le", MetricsRegistry.number(bound)))) \(cumulative)\n"
            }
            out += "\(name)_bucket\(MetricsRegistry.labelText(labelNames, k, extra: ("le", "+Inf"))) \(s.count)\n"
            out += "\(name)_sum\(MetricsRegistry.labelText(labelNames, k)) \(MetricsRegistry.number(s.sum))\n"
            out += "\(name)_count\(MetricsRegistry.labelText(labelNames, k)) \(s.count)\n"
        }
        return out
    }
}
