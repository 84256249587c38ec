import Foundation
import Testing
@testable import HTTPService

@Suite("Metrics registry")
struct MetricsRegistryTests {
    @Test("the Prometheus text format: HELP, TYPE, labels escaped, cumulative buckets, sum and count")
    func exposition() {
        let registry = MetricsRegistry()
        let counter = registry.counter("jobs_total", "Jobs done", labels: ["kind", "status"])
        counter.increment(["a\"b", "200"])
        counter.increment(["a\"b", "200"], by: 2)
        counter.increment(["x\ny", "500"])
        counter.increment(["a\"b", "200"], by: -5)   // counters never go down
        let gauge = registry.gauge("in_flight", "Now")
        gauge.add(3)
        gauge.add(-1)
        let histogram = registry.histogram("latency_seconds", "Latency", labels: ["model"], buckets: [0.1, 1, 0.5])
        for v in [0.05, 0.3, 0.3, 2, .nan] { histogram.observe(v, ["m"]) }
        #expect(registry.counter("jobs_total", "again", labels: ["kind", "status"]) === counter)
        let text = registry.exposition()
        #expect(text == """
            # HELP jobs_total Jobs done
            # TYPE jobs_total counter
            jobs_total{kind="a\\"b",status="200"} 3
            jobs_total{kind="x\\ny",status="500"} 1
            # HELP in_flight Now
            # TYPE in_flight gauge
            in_flight 2
            # HELP latency_seconds Latency
            # TYPE latency_seconds histogram
            latency_seconds_bucket{model="m",le="0.1"} 1
            latency_seconds_bucket{model="m",le="0.5"} 3
            latency_seconds_bucket{model="m",le="1"} 3
            latency_seconds_bucket{model="m",le="+Inf"} 4
            latency_seconds_sum{model="m"} 2.65
            latency_seconds_count{model="m"} 4

            """)
    }

    @Test("concurrent updates are all counted")
    func concurrent() {
        let registry = MetricsRegistry()
        let counter = registry.counter("c", "c", labels: ["t"])
        let histogram = registry.histogram("h", "h", buckets: [1])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for _ in 0..<1000 {
                counter.increment([String(i % 2)])
                histogram.observe(0.5)
            }
        }
        #expect(counter.value(["0"]) + counter.value(["1"]) == 8000)
        #expect(histogram.summary().count == 8000)
    }
}
