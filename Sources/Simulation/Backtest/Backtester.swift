import Common
import Foundation
import Features
import MarketData

/// The event-driven backtester: steps a `MarketSimulator` from bar close to bar close, lets the
/// `SimulatedBroker` fill working orders against each new bar, marks the account at the close, records equity,
/// then hands the strategy a `MarketView` of closed bars only. Deterministic: the same inputs give the same
/// result bit for bit. Every setting and bar is validated first (`validate()`): bad values are typed errors,
/// never traps.
///
///     let bars = try CSVBarReader().read(path: "data/sample/GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
///     var strategy = SMACross(fast: 10, slow: 20)
///     let config = BacktestConfig(cash: 10_000, models: .backtestingPy(commission: 0.002))
///     let result = try Backtester(series: [bars], config: config).run(&strategy)
///     result.finalEquity, result.trades.count
///
/// Orders for a symbol fill against the first series of that symbol (give the finest timeframe first when a
/// symbol appears in several timeframes).
public struct Backtester: Sendable {
    public let series: [BarSeries]
    public let config: BacktestConfig

    public init(series: [BarSeries], config: BacktestConfig) {
        self.series = series
        self.config = config
    }

    @_specialize(exported: true, where S == SMACross)
    public func run<S: TradingStrategy>(_ strategy: inout S) throws(BacktestError) -> BacktestResult {
        guard let first = series.first, !first.isEmpty else { throw BacktestError.noData }
        try validate()
        let symbols = series.map(\.symbol)
        var setup = StrategySetup(symbols: symbols, series: series)
        do {
            try strategy.prepare(&setup)
        } catch let e as ParameterError {
            throw BacktestError.invalidParameter(e)
        } catch {
            throw BacktestError.strategy("\(strategy.name): \(error)")
        }
        try audit(setup)

        // Orders of a symbol trade on its first series; ATR per trading series when slippage needs it.
        var tradingSeries: [Int?] = Array(repeating: nil, count: series.count)
        var seen: Set<String> = []
        for (s, bars) in series.enumerated() where !seen.contains(bars.symbol) {
            seen.insert(bars.symbol)
            tradingSeries[s] = s
        }
        let atr: [[Double]?] = series.enumerated().map { s, bars in
            guard tradingSeries[s] != nil, let p = config.models.slippage.atrPeriod else { return nil }
            return Indicators.atr(bars, period: p)
        }

        var sim = MarketSimulator(series: series, calendars: config.calendars)
        var lastIndex = Array(repeating: -1, count: series.count)
        if config.start != .min {
            // Bars closing before the start are history: visible to the strategy, never traded or recorded.
            sim.start(at: config.start)
            guard !sim.isFinished else { throw BacktestError.noData }
            for s in series.indices { lastIndex[s] = sim.cursor[s] - 1 }
        }
        var broker = SimulatedBroker(cash: config.cash, models: config.models)
        let calendars = config.calendars
        broker.sessionDay = { symbol, t in
            calendars[symbol]?.sessionDay(at: t) ?? UTCTime.floorDiv(t, UTCTime.msPerDay)
        }
        var view = MarketView(symbols: symbols, series: series, indicatorValues: setup.values,
                              indicatorSymbol: setup.symbolOf, closedCount: Array(repeating: 0, count: series.count),
                              time: .min, updated: [])
        let total = series.map(\.count).max() ?? 0
        var times: [Int64] = [], barTimes: [Int64] = [], equity: [Double] = [], cash: [Double] = []
        var exposure: [Double] = []
        times.reserveCapacity(total); barTimes.reserveCapacity(total)
        equity.reserveCapacity(total); cash.reserveCapacity(total); exposure.reserveCapacity(total)
        let single = series.count == 1
        let slots = series.map { broker.slot(for: $0.symbol) }
        // The strategy trades through an outbox and reads a portfolio kept equal to the broker's books.
        var context = StrategyContext(portfolio: Portfolio(balance: config.cash))
        for s in slots.indices { _ = context.portfolio.slot(for: series[s].symbol) }
        var seenVersion = -1
        var progress = config.progress
            ? ProgressReporter("backtest " + series.map(\.symbol).joined(separator: ","), total: total, unit: "bars")
            : .disabled
        var wipedOut = false

        while sim.advance() {
            for s in sim.updated {
                let i = sim.cursor[s] - 1
                lastIndex[s] = i
                guard tradingSeries[s] != nil else { continue }
                if broker.needsBars {
                    broker.process(symbol: series[s].symbol, bar: series[s][i], index: i,
                                   atr: i > 0 ? atr[s]?[i - 1] : nil)
                }
                broker.mark(slot: slots[s], price: series[s].close[i])
            }
            let e: Double
            var gross: Double
            if single {
                let close = first.close[lastIndex[0]]
                e = broker.account.equity(slot: slots[0], mark: close)
                gross = abs(broker.account.positionSize(slot: slots[0])) * close
            } else {
                e = broker.equity
                gross = 0
                for (k, m) in broker.slotMarks.enumerated() where !m.isNaN {
                    gross += abs(broker.account.positionSize(slot: k)) * m
                }
            }
            times.append(sim.time)
            barTimes.append(lastIndex[0] >= 0 ? first.timestamps[lastIndex[0]] : sim.time)
            equity.append(e)
            cash.append(broker.account.cash)
            exposure.append(gross)
            if e <= 0 {
                // Wiped out: close everything at the marks, stop (backtesting.py's _OutOfMoneyError).
                for s in series.indices where tradingSeries[s] != nil && lastIndex[s] >= 0 {
                    let i = lastIndex[s]
                    broker.closeAll(symbol: series[s].symbol, price: series[s].close[i], time: series[s].timestamps[i],
                                    index: i)
                }
                broker.wipeOut()
                equity[equity.count - 1] = 0
                wipedOut = true
                break
            }
            // Element-wise copies keep the view's buffers uniquely owned (no allocation per bar).
            for s in sim.cursor.indices { view.closedCount[s] = sim.cursor[s] }
            view.time = sim.time
            if view.updated.count == sim.updated.count {
                for k in sim.updated.indices { view.updated[k] = sim.updated[k] }
            } else {
                view.updated = Array(sim.updated)
            }
            broker.decisionTime = sim.time
            if broker.version != seenVersion {
                seenVersion = broker.version
                sync(&context.portfolio, with: broker)
            }
            for s in sim.updated where tradingSeries[s] != nil {
                context.portfolio.setMark(slot: slots[s], price: series[s].close[lastIndex[s]])
            }
            context.nextOrderID = broker.orders.count
            strategy.onBar(view, broker: &context)
            if context.hasCommands {
                for command in context.drainOutbox() {
                    switch command {
                    case .submit(_, let request): broker.submit(request)
                    case .cancel(let id): broker.cancel(orderID: id)
                    }
                }
            }
            progress.step()
        }
        progress.finish()

        if !wipedOut {
            settle(&broker, lastIndex: lastIndex, tradingSeries: tradingSeries)
            if let last = equity.indices.last {
                equity[last] = broker.equity
                cash[last] = broker.account.cash
            }
        }
        broker.cancelAll(at: sim.time)
        return BacktestResult(
            strategy: strategy.name, parameters: strategy.parameters, symbols: symbols, timeframe: first.timeframe,
            initialCash: config.cash, times: times, barTimes: barTimes, equity: equity, cash: cash, exposure: exposure,
            trades: broker.account.closedTrades, openLots: broker.account.lots.values.flatMap { $0 }
                .sorted { ($0.entryTime, $0.symbol) < ($1.entryTime, $1.symbol) },
            orders: broker.orders, fills: broker.fills, totalCommission: broker.account.totalCommission,
            totalFinancing: broker.account.totalFinancing, tradedValue: broker.account.tradedValue,
            wipedOut: wipedOut, ruinFraction: config.ruinFraction,
            ruinIndex: BacktestResult.ruinIndex(equity: equity, initial: config.cash, fraction: config.ruinFraction))
    }

    /// Copies the broker's books (balance, holdings per slot, working orders) into the strategy's portfolio.
    private func sync(_ portfolio: inout Portfolio, with broker: SimulatedBroker) {
        portfolio.setBalance(broker.account.cash)
        for s in broker.account.slotSymbols.indices {
            let slot = portfolio.slot(for: broker.account.slotSymbols[s])
            portfolio.setHolding(slot: slot, quantity: broker.account.positionSize(slot: s),
                                 costBasis: broker.account.positionCost(slot: s))
        }
        portfolio.openOrders = broker.workingOrders
    }

    /// Applies the end-of-data policy to positions still open.
    private func settle(_ broker: inout SimulatedBroker, lastIndex: [Int], tradingSeries: [Int?]) {
        for s in series.indices where tradingSeries[s] != nil && lastIndex[s] >= 0 {
            let i = lastIndex[s]
            let bars = series[s]
            switch config.endOfData {
            case .keepOpen: break
            case .closeAtLastClose:
                broker.closeAll(symbol: bars.symbol, price: bars.close[i], time: bars.timestamps[i], index: i)
            case .closeAtLastOpen:
                broker.finalizeLikeBacktestingPy(symbol: bars.symbol, lastBar: bars[i], index: i)
                broker.mark(symbol: bars.symbol, price: bars.close[i])
            }
        }
    }

    /// Re-computes each indicator on prefixes of its series and compares with the whole-series values.
    private func audit(_ setup: StrategySetup) throws(BacktestError) {
        guard config.lookAheadAudit > 0 else { return }
        for k in setup.values.indices {
            let bars = series[setup.symbolOf[k]]
            let n = bars.count
            guard n > 2 else { continue }
            // Deterministic sample of cut points spread over the series.
            for j in 1...config.lookAheadAudit {
                let cut = max(1, min(n - 1, n * j / (config.lookAheadAudit + 1)))
                let prefix = setup.compute[k](bars[0..<cut])
                let i = cut - 1
                let full = setup.values[k][i]
                let part = prefix.count == cut ? prefix[i] : .nan
                let same = full == part || (full.isNaN && part.isNaN)
                    || abs(full - part) <= 1e-9 * max(1, abs(full))
                if !same { throw BacktestError.lookAhead(indicator: setup.names[k], bar: i, full: full, prefix: part) }
            }
        }
    }
}
