import Common
import Foundation
import MarketData

/// Computes technical indicators over a `BarSeries` by name, each indicator in one vectorised pass over the
/// contiguous OHLCV columns (an indicator with several requested outputs is computed once). With `threads` > 1
/// independent indicators run concurrently (each is still single-threaded and deterministic, so results do not
/// depend on the thread count).
///
///     let bars = try CSVBarReader().read(path: "data/sample/GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
///     let calc = TechnicalIndicatorCalculator()
///     let frame = try calc.compute(bars, columns: ["rsi_14", "macd_12_26_9", "bbands_upper_20_2"])
///     let everything = calc.compute(bars, requests: IndicatorRequest.defaultSet)
public struct TechnicalIndicatorCalculator: Sendable {
    /// Indicators computed concurrently (1 = on the calling thread).
    public var threads: Int

    public init(threads: Int = 1) {
        self.threads = max(1, threads)
    }

    /// Parses `columns` (see `IndicatorRequest`) and computes them, in the order given.
    public func compute(_ bars: BarSeries, columns: [String], location: String? = nil) throws(FeatureError) -> FeatureFrame {
        var requests: [IndicatorRequest] = []
        for column in columns { requests.append(try IndicatorRequest(parsing: column, location: location)) }
        return compute(bars, requests: requests)
    }

    /// Computes `requests`, merging requests for the same indicator and parameters into one computation.
    /// Columns come out in request order; a column requested twice appears once.
    public func compute(_ bars: BarSeries, requests: [IndicatorRequest]) -> FeatureFrame {
        var progress = ProgressReporter.disabled
        return compute(bars, requests: requests, progress: &progress)
    }

    /// The same, reporting one step per distinct indicator computation to `progress` (its total is set here).
    public func compute(_ bars: BarSeries, requests: [IndicatorRequest], progress: inout ProgressReporter) -> FeatureFrame {
        // One computation per distinct (indicator, parameters).
        var keys: [String] = []
        var jobs: [IndicatorRequest] = []
        for request in requests {
            let key = request.definitionName + "|" + request.parameters.map { "\($0)" }.joined(separator: ",")
            if !keys.contains(key) { keys.append(key); jobs.append(request) }
        }
        let results = withPriceBuffers(bars) { prices in run(jobs, prices, &progress) }
        var frame = FeatureFrame(timestamps: bars.timestamps.array)
        for request in requests {
            let d = request.definition
            let key = request.definitionName + "|" + request.parameters.map { "\($0)" }.joined(separator: ",")
            let outputs = results[keys.firstIndex(of: key)!]
            let all = d.lookbacks(request.parameters)
            for index in request.outputs {
                let name = d.columnName(output: d.outputs[index], request.parameters)
                if frame.names.contains(name) { continue }
                frame.append(name: name, values: outputs[index], lookback: min(all[index], bars.count))
            }
        }
        return frame
    }

    /// Runs the computations, on `threads` workers pulling from a shared queue when more than one.
    private func run(_ jobs: [IndicatorRequest], _ prices: PriceBuffers, _ progress: inout ProgressReporter) -> [[[Double]]] {
        progress.retotal(jobs.count)
        let workers = min(threads, jobs.count)
        guard workers > 1 else {
            return jobs.map { job in
                defer { progress.step() }
                return job.definition.compute(prices, job.parameters)
            }
        }
        defer { progress.update(done: jobs.count) }
        let shared = SharedResults(count: jobs.count)
        let input = UncheckedPrices(prices: prices)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let j = shared.next() {
                let job = jobs[j]
                shared.store(j, job.definition.compute(input.prices, job.parameters))
            }
        }
        return shared.results.map { $0 ?? [] }
    }

    /// Runs `body` with contiguous buffers over the bar columns (no copies for whole-storage columns).
    public func withPriceBuffers<R>(_ bars: BarSeries, _ body: (PriceBuffers) throws -> R) rethrows -> R {
        try bars.timestamps.withUnsafeBufferPointer { t in
            try bars.open.withUnsafeBufferPointer { o in
                try bars.high.withUnsafeBufferPointer { h in
                    try bars.low.withUnsafeBufferPointer { l in
                        try bars.close.withUnsafeBufferPointer { c in
                            try bars.volume.withUnsafeBufferPointer { v in
                                try body(PriceBuffers(timestamps: t, open: o, high: h, low: l, close: c, volume: v))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The work queue and result slots of a concurrent computation.
private final class SharedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var cursor = 0
    private(set) var results: [[[Double]]?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard cursor < results.count else { return nil }
        cursor += 1
        return cursor - 1
    }

    func store(_ index: Int, _ value: [[Double]]) {
        lock.lock(); defer { lock.unlock() }
        results[index] = value
    }
}

/// Read-only price buffers shared by the workers for the duration of one `compute` call.
private struct UncheckedPrices: @unchecked Sendable {
    let prices: PriceBuffers
}
