import Common
import MarketData

/// A clock over several symbols' bars (any mix of timeframes), stepping from one bar close to the next.
///
/// A bar is closed at `min(open + timeframe, next bar's open)`. Each `advance()` moves the clock to the earliest
/// close time not yet reached and closes every symbol's bar that closes then, so an hourly and a daily series
/// stay aligned (the daily bar closes together with the day's last hourly bar). Only closed bars are visible.
///
///     var sim = MarketSimulator(series: [eurusdH1, eurusdD1], calendars: ["EURUSD": fx])
///     sim.start(at: UTCTime.milliseconds(year: 2017, month: 5, day: 1))
///     while sim.advance() { let bar = sim.currentBar("EURUSD") ... }
public struct MarketSimulator: Sendable {
    public let series: [BarSeries]
    public let symbols: [String]
    public var calendars: [String: any TradingCalendar]
    /// Next bar (not yet closed) per series.
    public private(set) var cursor: [Int]
    /// The clock: the close time of the latest step (UTC epoch ms); `Int64.min` before the first step.
    public private(set) var time: Int64 = .min
    /// Series indices whose bar closed at `time`.
    public private(set) var updated: [Int] = []
    /// Close time of every bar of every series (precomputed: the clock's inner loop reads only these).
    private let closeTimes: [[Int64]]

    public init(series: [BarSeries], calendars: [String: any TradingCalendar] = [:]) {
        self.series = series
        symbols = series.map(\.symbol)
        self.calendars = calendars
        cursor = Array(repeating: 0, count: series.count)
        closeTimes = series.map { bars in
            let ts = bars.timestamps.array, d = bars.timeframe.milliseconds
            return ts.indices.map { i in i + 1 < ts.count ? min(ts[i] + d, ts[i + 1]) : ts[i] + d }
        }
        updated.reserveCapacity(series.count)
    }

    /// The close time of bar `i` of series `s`.
    @inline(__always)
    public func closeTime(series s: Int, bar i: Int) -> Int64 { closeTimes[s][i] }

    /// Positions the clock just before the first bar closing at or after `at` (bars closing earlier count as
    /// already closed: they are history).
    public mutating func start(at: Int64) {
        for s in series.indices {
            var i = 0
            while i < series[s].count, closeTime(series: s, bar: i) < at { i += 1 }
            cursor[s] = i
        }
        time = at - 1
        updated.removeAll(keepingCapacity: true)
    }

    /// Moves to the next bar close; false at the end of the data.
    @discardableResult
    public mutating func advance() -> Bool {
        var next = Int64.max
        for s in cursor.indices where cursor[s] < closeTimes[s].count {
            next = min(next, closeTimes[s][cursor[s]])
        }
        guard next != .max else { return false }
        var n = 0
        for s in cursor.indices where cursor[s] < closeTimes[s].count && closeTimes[s][cursor[s]] == next {
            cursor[s] += 1
            if n < updated.count { updated[n] = s } else { updated.append(s) }
            n += 1
        }
        if n < updated.count { updated.removeLast(updated.count - n) }
        time = next
        return true
    }

    /// Advances `bars` steps; returns how many were taken.
    @discardableResult
    public mutating func advance(bars: Int) -> Int {
        var n = 0
        while n < bars, advance() { n += 1 }
        return n
    }

    /// The latest closed bar of `symbol` (the first series with that symbol), or nil before its first close.
    public func currentBar(_ symbol: String) -> Bar? {
        guard let s = symbols.firstIndex(of: symbol), cursor[s] > 0 else { return nil }
        return series[s][cursor[s] - 1]
    }

    /// Index of the latest closed bar of series `s`, or nil.
    public func currentIndex(series s: Int) -> Int? { cursor[s] > 0 ? cursor[s] - 1 : nil }

    /// Whether `symbol`'s market is open at the clock time (true when no calendar is set for it).
    public func isMarketOpen(_ symbol: String) -> Bool {
        calendars[symbol]?.isOpen(at: time) ?? true
    }

    public var isFinished: Bool { cursor.indices.allSatisfy { cursor[$0] >= series[$0].count } }
}
