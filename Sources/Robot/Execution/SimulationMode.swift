import Common
import Features
import Foundation
import MarketData
import Simulation
import Trading

/// The robot over stored bars as if live: a `MarketSimulator` clock steps from bar close to bar close, the
/// `SimulatedVenue` fills working orders on each new bar exactly as the backtester does, and the robot decides at
/// each close. `speed` paces the cycles (`.max`: as fast as possible; `.times(n)`: n× real time).
///
///     let mode = SimulationMode(series: [eurusdH1], cash: 10_000, models: models, start: t0)
///     let robot = TradingRobot(..., mode: mode)
public final class SimulationMode: ExecutionMode, @unchecked Sendable {
    public enum Speed: Sendable, Equatable {
        case max
        case times(Double)
    }

    public let name = "simulation"
    public let simulatedVenue: SimulatedVenue
    public var venue: any Venue { simulatedVenue }
    public let series: [BarSeries]
    public let speed: Speed
    private let lock = NSLock()
    private var sim: MarketSimulator
    private let atr: [[Double]?]
    private let tradingSeries: [Bool]
    private let start: Int64
    private let end: Int64

    /// `series`: the bars the robot trades on (one per symbol, finest first); bars closing before `start` are
    /// history; the session ends after the bar closing at or before `end`.
    public init(series: [BarSeries], cash: Double, models: ExecutionModels,
                calendars: [String: any TradingCalendar] = [:], start: Int64 = .min, end: Int64 = .max,
                speed: Speed = .max) {
        self.series = series
        self.speed = speed
        self.start = start
        self.end = end
        simulatedVenue = SimulatedVenue(cash: cash, models: models, sessionDay: { symbol, t in
            calendars[symbol]?.sessionDay(at: t) ?? UTCTime.floorDiv(t, UTCTime.msPerDay)
        })
        sim = MarketSimulator(series: series, calendars: calendars)
        var seen: Set<String> = []
        tradingSeries = series.map { seen.insert($0.symbol).inserted }
        atr = series.enumerated().map { _, bars in models.slippage.atrPeriod.map { Indicators.atr(bars, period: $0) } }
        if start != .min { sim.start(at: start) }
    }

    /// The bar-close time of the latest cycle (Int64.min before the first).
    public var time: Int64 { lock.withLock { sim.time } }

    public func nextCycle() async throws(RobotError) -> MarketView? {
        guard let view = advance() else { return nil }
        if case .times(let n) = speed, n > 0, let bars = series.first {
            let seconds = Double(bars.timeframe.milliseconds) / 1000 / n
            try? await Task.sleep(nanoseconds: UInt64(min(seconds, 60) * 1e9))
        }
        return view
    }

    /// One clock step: closes the next bars, fills what they make fillable, marks at the closes.
    func advance() -> MarketView? {
        lock.withLock {
            guard sim.advance(), sim.time <= end else { return nil }
            for s in sim.updated where tradingSeries[s] {
                let i = sim.cursor[s] - 1
                let bars = series[s]
                simulatedVenue.process(symbol: bars.symbol, bar: bars[i], index: i, atr: i > 0 ? atr[s]?[i - 1] : nil)
                simulatedVenue.mark(symbol: bars.symbol, price: bars.close[i])
            }
            simulatedVenue.setDecisionTime(sim.time)
            return MarketView(symbols: sim.symbols, series: series, indicatorValues: [], indicatorSymbol: [],
                              closedCount: sim.cursor, time: sim.time, updated: sim.updated)
        }
    }

    public func restore(through time: Int64, commands: [JournaledCommand]) async throws(RobotError) {
        var pending = commands[...]
        while self.time < time {
            guard let view = advance() else {
                throw .sessionMismatch("the journal's last cycle (\(UTCTime.iso8601(time))) lies beyond the data")
            }
            while let c = pending.first, c.time <= view.time {
                pending.removeFirst()
                guard c.time == view.time else {
                    throw .sessionMismatch("order \(c.clientOrderID) was issued at \(UTCTime.iso8601(c.time)), not at a bar close of the data")
                }
                do {
                    switch c.action {
                    case .submit(let request): _ = try simulatedVenue.submitNow(request, clientOrderID: c.clientOrderID)
                    case .cancel: _ = try simulatedVenue.cancelNow(clientOrderID: c.clientOrderID)
                    }
                } catch {
                    throw .venue(error)
                }
            }
        }
        guard self.time == time else {
            throw .sessionMismatch("the journal's last cycle (\(UTCTime.iso8601(time))) is not a bar close of the data")
        }
    }
}
