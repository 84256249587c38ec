import Common
import Foundation
import MarketData
import Trading

/// Bars from a broker's market-data API as they close: at every poll the broker's clock is read and, once a bar
/// period has ended, the new bars are fetched (`fetch`, e.g. `AlpacaSource.fetchOHLCV` or the MT5 bridge's), kept
/// (`record`, e.g. appended to the local store the forecaster reads) and delivered as one `MarketView` at the
/// newest close. The broker's clock, not this machine's, says when a bar has closed — a server replaying history
/// at an accelerated clock (the soak test's fake Alpaca) and the real market are driven the same way.
///
/// A bar closes at `timestamp + timeframe`; only bars whose close has passed are taken. When several closed at
/// once (the robot was down or slow), the view covers them all and the cycle decides at the newest (deciding on
/// stale bars would trade on old prices); `skippedCloses` counts the closes not decided on. A failed fetch or clock
/// read is retried at the next poll (the robot's stale-data breaker sees bars stop arriving).
///
///     let feed = LiveBarFeed(symbols: ["AAPL"], timeframe: .h1, history: [stored],
///                            clock: { try await broker.clock().time },
///                            fetch: { s, start, end in try await source.fetchOHLCV(symbol: s, timeframe: .h1, start: start, end: end) },
///                            pollInterval: 2)
public final class LiveBarFeed: BarFeed, @unchecked Sendable {
    public typealias Clock = @Sendable () async throws -> Int64
    public typealias Fetch = @Sendable (_ symbol: String, _ start: Int64, _ end: Int64) async throws -> BarSeries
    public typealias Record = @Sendable (_ bars: BarSeries) throws -> Void

    public let name: String
    public let symbols: [String]
    public let timeframe: Timeframe
    /// Seconds between polls of the clock (and of the bars once a period has ended).
    public let pollInterval: Double
    /// The feed ends (nil) once the clock reaches this time (UTC ms) and every bar closing by then was delivered;
    /// bars closing later are never delivered.
    public let end: Int64
    private let clock: Clock
    private let fetch: Fetch
    private let record: Record?
    private let lock = NSLock()
    private var series: [BarSeries]
    private var delivered: Int64
    private var skipped = 0
    private var failures = 0
    private var lastClock: Int64?

    public init(name: String = "live", symbols: [String], timeframe: Timeframe, history: [BarSeries], clock: @escaping Clock,
                fetch: @escaping Fetch, record: Record? = nil, pollInterval: Double = 2, end: Int64 = .max) {
        self.name = name
        self.symbols = symbols
        self.timeframe = timeframe
        self.clock = clock
        self.fetch = fetch
        self.record = record
        self.pollInterval = pollInterval.isFinite && pollInterval > 0 ? min(pollInterval, 60) : 2
        self.end = end
        series = symbols.map { s in history.first { $0.symbol == s } ?? BarSeries(symbol: s, timeframe: timeframe, bars: []) }
        delivered = series.compactMap { $0.timestamps.last.map { $0 + timeframe.milliseconds } }.max() ?? .min
    }

    /// Bar closes that arrived together with a newer one and were not decided on.
    public var skippedCloses: Int { lock.withLock { skipped } }
    /// The broker's clock at the last poll (UTC ms): the robot's "now" for data age, so a server replaying history
    /// at an accelerated clock is judged by its own time.
    public var brokerTime: Int64? { lock.withLock { lastClock } }
    /// Consecutive failed polls (clock or bars).
    public var consecutiveFailures: Int { lock.withLock { failures } }

    public func next() async throws(RobotError) -> MarketView? {
        let step = timeframe.milliseconds
        while !Task.isCancelled {
            do {
                // Bars closing after `end` are not this session's.
                let clockNow = try await clock()
                lock.withLock { lastClock = clockNow }
                let now = min(clockNow, end)
                let last = lock.withLock { delivered }
                let view = now >= last + step || last == .min ? try await poll(now: now) : nil
                lock.withLock { failures = 0 }
                if let view { return view }
                if clockNow >= end { return nil }
            } catch {
                let n = lock.withLock { () -> Int in
                    failures += 1
                    return failures
                }
                Log.warning("bar feed poll failed", ["feed": name, "consecutive": "\(n)", "error": "\(error)"])
            }
            try? await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
        }
        return nil
    }

    public func skip(through time: Int64) async throws(RobotError) {
        lock.withLock { delivered = max(delivered, time) }
    }

    /// New closed bars of every symbol since the last delivery; a view when any arrived.
    private func poll(now: Int64) async throws -> MarketView? {
        let step = timeframe.milliseconds
        var fresh: [Int: BarSeries] = [:]
        for (i, symbol) in symbols.enumerated() {
            let last = lock.withLock { series[i].count > 0 ? series[i].timestamps[series[i].count - 1] : nil }
            let after = last.map { $0 + 1 } ?? (now - 1000 * step)
            // Bars that have closed by `now` (open time <= now - step), after the last one kept: a server that
            // answers older or unfinished bars is not believed.
            let got = try await fetch(symbol, after, now - step + 1)
            let closed = got.bars.filter { b in last.map { b.timestamp > $0 } ?? true && b.timestamp + step <= now }
                .sorted { $0.timestamp < $1.timestamp }
            var unique: [Bar] = []
            for b in closed where unique.last?.timestamp != b.timestamp { unique.append(b) }
            if !unique.isEmpty { fresh[i] = BarSeries(symbol: symbol, timeframe: timeframe, bars: unique) }
        }
        guard !fresh.isEmpty else { return nil }
        for (_, bars) in fresh.sorted(by: { $0.key < $1.key }) { try record?(bars) }
        return lock.withLock { () -> MarketView in
            for (i, bars) in fresh { series[i] = series[i].appending(bars) }
            let lastOpen = { (b: BarSeries) in b.timestamps[b.count - 1] }
            let newest = (fresh.values.map(lastOpen).max() ?? 0) + step
            let closes = Set(fresh.values.flatMap { $0.bars.map { $0.timestamp + step } }.filter { $0 > delivered })
            skipped += max(0, closes.count - 1)
            delivered = newest
            let updated = fresh.filter { lastOpen($0.value) + step == newest }.map(\.key).sorted()
            return MarketView(symbols: symbols, series: series, indicatorValues: [], indicatorSymbol: [],
                              closedCount: series.map(\.count), time: newest, updated: updated)
        }
    }
}
