import Common
import Features
import Foundation
import MarketData
import Models
import Risk
import Trading

/// The robot's decision cycle as a `TradingStrategy` — the one piece of code that decides in backtests (driven by
/// `Backtester`), in simulation, paper and live (driven by `TradingRobot`). At each bar close:
///
/// 1. **State**: equity marks the daily counters (start-of-day equity resets at the market's session boundary);
///    a position that closed since the last cycle books the cycle's balance change as a closed trade (the losing
///    streak); the previous predictions are scored against the bar that just closed (dynamic weights).
/// 2. **Prediction** for the symbols whose bar closed (one batched call). A call that fails (an inference server
///    down or busy, data too old, a model error) is a cycle without predictions — no new signal — and counts as
///    stale data: the newest prediction is then as old as the first failed bar close plus one bar, so
///    `max_age_bars` failed closes in a row trip the stale-data breaker (`predictionsFailingSince`); the first
///    successful call clears it.
/// 3. **Breakers**: daily loss, losing streak, drawdown, volatility spike, stale data, broker failures.
/// 4. **Signal** (`SignalGenerator`): direction, p_win gate, ATR bracket, Kelly size.
/// 5. **Risk** (`PreTradeRiskEngine`): every order checked against the profile's limits and the breakers; reducing
///    orders always pass.
/// 6. **Orders** into the runner's outbox (a market entry with its stop-loss/take-profit bracket; a reversal closes
///    first).
///
/// It never sees an unclosed bar (it reads `MarketView`) and never calls a venue. What it decided is in `log`
/// after each call; `state` is what a restart restores; with `recordsHistory`, `history` keeps every cycle's log
/// over a run (what a backtest report reads).
public struct RobotStrategy: TradingStrategy, @unchecked Sendable {
    /// How a failed prediction call is journaled among the cycle's problems (`prediction failed: WHY`); a replay
    /// reads failures back by it.
    public static let predictionFailedPrefix = "prediction failed: "
    public let settings: RobotSettings
    public var state: RobotState
    public let source: any PredictionSource
    public private(set) var log = CycleLog(time: .min)
    /// Keep every cycle's decisions in `history` (off by default: a live robot journals them instead).
    public var recordsHistory = false
    /// Every cycle's signals, breaker events, rejections and problems since the start (with `recordsHistory`).
    public private(set) var history = RobotHistory()
    private let generator: SignalGenerator
    private var seriesIndex: [String: Int] = [:]

    /// What one cycle decided.
    public struct CycleLog: Sendable, Equatable {
        public var time: Int64
        public var signals: [TradingSignal] = []
        public var rejections: [Rejection] = []
        public var breakerEvents: [BreakerEvent] = []
        public var problems: [String] = []
        public var submitted: [OrderRequest] = []
        /// Why this cycle's prediction call failed (nil: it succeeded, or no bar of a traded symbol closed).
        public var predictionFailure: String?
        /// The data age the breakers saw (ms): the runner's, or the newest prediction's while calls fail.
        public var dataAge: Int64 = 0
    }

    public struct Rejection: Sendable, Equatable {
        public var request: OrderRequest
        public var rejection: RiskRejection
    }

    public init(settings: RobotSettings, source: any PredictionSource, state: RobotState? = nil) {
        self.settings = settings
        self.source = source
        self.state = state ?? RobotState(breakers: CircuitBreakers(config: settings.breakers, profile: settings.profile),
                                         throttle: OrderThrottle(maxOrdersPerMinute: settings.profile.maxOrdersPerMinute))
        generator = SignalGenerator(profile: settings.sizingProfile)
    }

    public var name: String { "ensemble_robot" }
    public var parameters: [(String, String)] {
        [("risk_profile", settings.profile.name), ("symbols", settings.symbols.joined(separator: ",")),
         ("min_p_win", "\(settings.profile.minConfidence)"), ("risk_per_trade", "\(settings.profile.riskPerTrade)")]
    }

    public mutating func prepare(_ setup: inout StrategySetup) throws {
        try bind(symbols: setup.symbols)
    }

    /// Maps the traded symbols to the market view's series (done by `prepare`; the live runner calls it directly).
    public mutating func bind(symbols: [String]) throws(RobotError) {
        seriesIndex = [:]
        for s in settings.symbols {
            guard let i = symbols.firstIndex(of: s) else {
                throw .configuration("no bars for \(s) (the market has \(symbols.joined(separator: ", ")))")
            }
            seriesIndex[s] = i
        }
    }

    public mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
        if seriesIndex.isEmpty { try? bind(symbols: market.symbols) }
        let time = market.time
        log = CycleLog(time: time)
        defer { if recordsHistory { history.record(log) } }
        state.cycles += 1
        let equity = broker.equity

        // 1. State.
        if state.day == nil { state.day = DailyCounters(assetClass: settings.assetClass, equity: equity, time: time) }
        state.day?.observe(equity: equity, at: time)
        var closedTrade = false
        for s in settings.symbols {
            let q = broker.positionSize(s)
            let before = state.lastPositions[s] ?? 0
            if before != 0, q == 0 || (q > 0) != (before > 0) { closedTrade = true }
            state.lastPositions[s] = q
        }
        let balance = broker.cash
        if closedTrade, let last = state.lastBalance { state.day?.recordClosedTrade(pnl: balance - last) }
        state.lastBalance = balance

        let updated = settings.symbols.filter { s in seriesIndex[s].map { market.updated.contains($0) } ?? false }
        for s in updated {
            guard let i = seriesIndex[s], let close = market.close(i), let previous = state.lastPredictions[s],
                  let lastClose = state.lastCloses[s], lastClose > 0 else { continue }
            let r = close / lastClose - 1
            source.recordOutcome(symbol: s, prediction: previous, realizedReturn: r)
            state.outcomes.append(.init(symbol: s, prediction: previous, realizedReturn: r))
            if state.outcomes.count > RobotState.outcomesKept { state.outcomes.removeFirst(state.outcomes.count - RobotState.outcomesKept) }
        }

        // 2. Predictions (a failed call is stale data for the breakers).
        var predictions: [String: EnsemblePrediction] = [:]
        if !updated.isEmpty {
            do {
                predictions = try source.predictions(symbols: updated, at: time)
                state.predictionsFailingSince = nil
            } catch {
                log.predictionFailure = "\(error)"
                log.problems.append(Self.predictionFailedPrefix + "\(error)")
                if state.predictionsFailingSince == nil { state.predictionsFailingSince = time }
            }
        }
        log.dataAge = max(state.dataAge, state.predictionsFailingSince.map { time - $0 + settings.breakers.barInterval } ?? 0)

        // 3. Breakers.
        let day = state.day!
        var ratio = Double.nan
        for s in updated {
            if let i = seriesIndex[s] {
                let v = volatilityRatio(market.bars(i))
                if v.isFinite { ratio = ratio.isNaN ? v : max(ratio, v) }
            }
        }
        let observation = BreakerObservation(
            time: time, equity: equity, startOfDayEquity: day.startOfDayEquity, peakEquity: day.peakEquity,
            consecutiveLosses: day.consecutiveLosses, volatilityRatio: ratio, dataAge: log.dataAge,
            brokerFailures: state.brokerFailures, sessionDay: day.sessionDay)
        log.breakerEvents = state.breakers.evaluate(observation)
        guard !updated.isEmpty else { return }

        // 4–6. Signal, risk, orders.
        var engine = PreTradeRiskEngine(profile: settings.profile, throttle: state.throttle)
        var positions: [String: Double] = [:]
        var marks: [String: Double] = [:]
        for s in settings.symbols {
            positions[s] = broker.positionSize(s)
            if let i = seriesIndex[s], let c = market.close(i) { marks[s] = c }
        }
        let openOrders = broker.workingOrders.count
        for s in updated {
            guard let i = seriesIndex[s], let close = market.close(i) else { continue }
            guard let p = predictions[s] else {
                if log.problems.isEmpty { log.problems.append("\(s): no prediction at \(UTCTime.iso8601(time))") }
                state.lastPredictions[s] = nil
                continue
            }
            state.lastPredictions[s] = p
            state.lastCloses[s] = close
            let instrument = settings.instruments[s] ?? Instrument.guess(symbol: s)
            let atr = trailingATR(market.bars(i))
            let position = positions[s] ?? 0
            let signal = generator.signal(for: p, close: close, atr: atr, position: position, equity: equity,
                                          instrument: instrument)
            log.signals.append(signal)
            state.signalsByAction[signal.action.rawValue, default: 0] += 1

            var requests: [OrderRequest] = []
            if signal.action == .close || signal.action == .reverse {
                requests.append(OrderRequest(symbol: s, side: position > 0 ? .sell : .buy, size: .closePosition, tag: "close"))
            }
            if signal.action == .open || signal.action == .reverse {
                requests.append(OrderRequest(symbol: s, side: signal.direction > 0 ? .buy : .sell, size: .units(signal.units),
                                             stopLoss: signal.stopLoss, takeProfit: signal.takeProfit, tag: "ensemble"))
            }
            for r in requests {
                let snapshot = RiskSnapshot(equity: equity, startOfDayEquity: day.startOfDayEquity, peakEquity: day.peakEquity,
                                            positions: positions, marks: marks, openOrders: openOrders + log.submitted.count,
                                            time: time)
                switch engine.check(r, instrument: instrument, price: close, snapshot: snapshot, breakers: state.breakers) {
                case .accept:
                    broker.submit(r)
                    log.submitted.append(r)
                    state.ordersSubmitted += 1
                    if r.size == .closePosition { positions[s] = 0 }
                case .reject(let why):
                    log.rejections.append(Rejection(request: r, rejection: why))
                    state.ordersRejectedByRisk += 1
                }
            }
        }
        state.throttle = engine.throttle
    }

    /// ATR(`atrPeriod`) over the trailing `atrWindow` closed bars (NaN before enough bars).
    func trailingATR(_ bars: BarSeries) -> Double {
        let n = bars.count
        guard n > settings.atrPeriod else { return .nan }
        let window = bars[max(0, n - settings.atrWindow)..<n]
        return Indicators.atr(window, period: settings.atrPeriod).last ?? .nan
    }

    /// Std of the last `volatilityWindow` log returns over the median of that rolling std across the trailing
    /// `volatilityHistory` bars (NaN with too little history or a zero median).
    func volatilityRatio(_ bars: BarSeries) -> Double {
        let w = settings.volatilityWindow
        let n = bars.count
        let take = min(n, settings.volatilityHistory + w + 1)
        guard take > 2 * w + 1 else { return .nan }
        let close = bars.close
        var r: [Double] = []
        r.reserveCapacity(take - 1)
        for k in (n - take + 1)..<n {
            let a = close[k - 1], b = close[k]
            r.append(a > 0 && b > 0 ? Foundation.log(b / a) : 0)
        }
        var stds: [Double] = []
        stds.reserveCapacity(r.count - w + 1)
        for end in w...r.count {
            let slice = r[(end - w)..<end]
            let mean = slice.reduce(0, +) / Double(w)
            let v = slice.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(w - 1)
            stds.append(v.squareRoot())
        }
        guard let current = stds.last else { return .nan }
        let sorted = stds.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return median > 0 ? current / median : .nan
    }
}
