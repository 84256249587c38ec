import MarketData

/// A handle to an indicator a strategy declared in `prepare` (see `StrategySetup`).
public struct IndicatorID: Hashable, Sendable {
    public let index: Int
    public let symbol: Int
}

/// What a strategy sees of the market at a decision point: only bars that have CLOSED, and indicator values up
/// to the last closed bar. The future is not reachable through this type — `bars(_:)` is a prefix of the data,
/// and `close(_:ago:)` / `value(_:ago:)` answer nil for `ago < 0` or beyond the history — so look-ahead cannot
/// happen by accident (see `LookAheadAudit` for indicators computed up front).
///
///     if let fast = market.value(sma10), let slow = market.value(sma20),
///        let fastPrev = market.value(sma10, ago: 1), let slowPrev = market.value(sma20, ago: 1),
///        fastPrev < slowPrev && fast > slow { ... }           // crossed above on the last closed bar
public struct MarketView: @unchecked Sendable {
    /// The symbols in the order given to the backtester.
    public let symbols: [String]
    let series: [BarSeries]
    let indicatorValues: [[Double]]
    let indicatorSymbol: [Int]
    /// Closed bars per symbol (the index of the last closed bar + 1).
    public package(set) var closedCount: [Int]
    /// The decision time: the close time of the latest closed bar (UTC epoch ms).
    public package(set) var time: Int64
    /// Symbols whose bar closed at `time` (indices into `symbols`).
    public package(set) var updated: [Int]

    /// A view over `series` with the given closed-bar counts (the runner — backtester or live robot — advances it).
    package init(symbols: [String], series: [BarSeries], indicatorValues: [[Double]], indicatorSymbol: [Int],
                 closedCount: [Int], time: Int64, updated: [Int]) {
        self.symbols = symbols
        self.series = series
        self.indicatorValues = indicatorValues
        self.indicatorSymbol = indicatorSymbol
        self.closedCount = closedCount
        self.time = time
        self.updated = updated
    }

    public func symbolIndex(_ symbol: String) -> Int? { symbols.firstIndex(of: symbol) }

    /// The closed bars of `symbol` (a zero-copy prefix of its series; the last element is the latest closed bar).
    public func bars(_ symbol: Int = 0) -> BarSeries { series[symbol][0..<closedCount[symbol]] }

    /// The closed bar `ago` bars back (0 = the latest), or nil.
    @inline(__always)
    public func bar(_ symbol: Int = 0, ago: Int = 0) -> Bar? {
        let i = closedCount[symbol] - 1 - ago
        guard ago >= 0, i >= 0 else { return nil }
        return series[symbol][i]
    }

    /// The close `ago` bars back (0 = the latest closed bar), or nil.
    @inline(__always)
    public func close(_ symbol: Int = 0, ago: Int = 0) -> Double? {
        let i = closedCount[symbol] - 1 - ago
        guard ago >= 0, i >= 0 else { return nil }
        return series[symbol].close[i]
    }

    /// The indicator's value `ago` bars back (0 = at the latest closed bar), or nil (NaN warm-up values are
    /// returned as they are).
    @inline(__always)
    public func value(_ id: IndicatorID, ago: Int = 0) -> Double? {
        let i = closedCount[id.symbol] - 1 - ago
        guard ago >= 0, i >= 0 else { return nil }
        return indicatorValues[id.index][i]
    }

    /// True when `series1` crossed above `series2` on the latest closed bar: previous value strictly below,
    /// current strictly above (backtesting.py's `crossover`; NaN compares false).
    @inline(__always)
    public func crossedAbove(_ a: IndicatorID, _ b: IndicatorID) -> Bool {
        guard let a1 = value(a), let b1 = value(b), let a0 = value(a, ago: 1), let b0 = value(b, ago: 1) else {
            return false
        }
        return a0 < b0 && a1 > b1
    }
}

