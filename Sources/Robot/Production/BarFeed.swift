import Foundation
import MarketData
import Simulation
import Trading

/// Where a production robot's bars come from: one `MarketView` per bar close, closed bars only. A broker's live
/// feed (Alpaca's bars stream, the MT5 bridge) and stored bars replayed on an accelerated clock implement it.
public protocol BarFeed: AnyObject, Sendable {
    var name: String { get }
    /// Waits for the next bar close; nil when the feed has ended.
    func next() async throws(RobotError) -> MarketView?
    /// After a restart: moves past the bar close at `time` (the last cycle the journal completed).
    func skip(through time: Int64) async throws(RobotError)
}

/// Stored bars delivered as if live: a `MarketSimulator` clock steps from close to close, optionally paced at
/// `acceleration`× real time (an hourly bar every 3.6 s at 1000×; nil: as fast as possible). `onClose` sees each
/// closed bar first (a stand-in broker fills its orders on it).
///
///     let feed = StoredBarFeed(series: [eurusdH1], start: t0, acceleration: 1_000)
///     let mode = ProductionMode(broker: broker, killSwitch: ks, validator: v, feed: feed, journal: journal)
public final class StoredBarFeed: BarFeed, @unchecked Sendable {
    public let name = "stored"
    public let series: [BarSeries]
    public let acceleration: Double?
    private let onClose: (@Sendable (_ symbol: String, _ bar: Bar, _ index: Int) -> Void)?
    private let lock = NSLock()
    private var sim: MarketSimulator
    private let end: Int64

    public init(series: [BarSeries], calendars: [String: any TradingCalendar] = [:], start: Int64 = .min, end: Int64 = .max,
                acceleration: Double? = nil,
                onClose: (@Sendable (_ symbol: String, _ bar: Bar, _ index: Int) -> Void)? = nil) {
        self.series = series
        self.acceleration = acceleration
        self.onClose = onClose
        self.end = end
        sim = MarketSimulator(series: series, calendars: calendars)
        if start != .min { sim.start(at: start) }
    }

    public func next() async throws(RobotError) -> MarketView? {
        guard let view = step() else { return nil }
        if let a = acceleration, a > 0, let bars = series.first {
            let seconds = min(60, Double(bars.timeframe.milliseconds) / 1000 / a)
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        }
        return view
    }

    public func skip(through time: Int64) async throws(RobotError) {
        while lock.withLock({ sim.time }) < time {
            guard step() != nil else { throw .sessionMismatch("the journal's last cycle lies beyond the feed's bars") }
        }
    }

    private func step() -> MarketView? {
        lock.withLock {
            guard sim.advance(), sim.time <= end else { return nil }
            for s in sim.updated {
                let i = sim.cursor[s] - 1
                onClose?(series[s].symbol, series[s][i], i)
            }
            return MarketView(symbols: sim.symbols, series: series, indicatorValues: [], indicatorSymbol: [],
                              closedCount: sim.cursor, time: sim.time, updated: sim.updated)
        }
    }
}
