import MarketData

/// Computes technical indicators over a `BarSeries` by name, each indicator in one vectorised pass over the
/// contiguous OHLCV columns (an indicator with several requested outputs is computed once).
///
///     let bars = try CSVBarReader().read(path: "data/sample/GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
///     let calc = TechnicalIndicatorCalculator()
///     let frame = try calc.compute(bars, columns: ["rsi_14", "macd_12_26_9", "bbands_upper_20_2"])
///     let everything = calc.compute(bars, requests: IndicatorRequest.defaultSet)
public struct TechnicalIndicatorCalculator: Sendable {
    public init() {}

    /// Parses `columns` (see `IndicatorRequest`) and computes them, in the order given.
    public func compute(_ bars: BarSeries, columns: [String], location: String? = nil) throws(FeatureError) -> FeatureFrame {
        var requests: [IndicatorRequest] = []
        for column in columns { requests.append(try IndicatorRequest(parsing: column, location: location)) }
        return compute(bars, requests: requests)
    }

    /// Computes `requests`, merging requests for the same indicator and parameters into one computation.
    /// Columns come out in request order; a column requested twice appears once.
    public func compute(_ bars: BarSeries, requests: [IndicatorRequest]) -> FeatureFrame {
        var frame = FeatureFrame(timestamps: bars.timestamps.array)
        withPriceBuffers(bars) { prices in
            var cache: [String: [[Double]]] = [:]
            for request in requests {
                let d = request.definition
                let key = d.name + "|" + request.parameters.map { "\($0)" }.joined(separator: ",")
                let outputs: [[Double]]
                if let cached = cache[key] { outputs = cached } else {
                    outputs = d.compute(prices, request.parameters)
                    cache[key] = outputs
                }
                let all = d.lookbacks(request.parameters)
                for index in request.outputs {
                    let name = d.columnName(output: d.outputs[index], request.parameters)
                    if frame.names.contains(name) { continue }
                    frame.append(name: name, values: outputs[index], lookback: min(all[index], bars.count))
                }
            }
        }
        return frame
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
