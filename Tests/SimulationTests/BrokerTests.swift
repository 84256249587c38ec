import Common
import MarketData
import Testing
@testable import Simulation

/// A scripted strategy: submits the requests listed for a bar index when that bar closes.
struct ScriptedStrategy: TradingStrategy {
    var script: [Int: [OrderRequest]]
    var cancels: [Int: [Int]] = [:]
    var submitted: [Int] = []
    var name: String { "scripted" }
    var parameters: [(String, String)] { [] }
    mutating func prepare(_ setup: inout StrategySetup) throws {}
    mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
        let i = market.closedCount[0] - 1
        for r in script[i] ?? [] { submitted.append(broker.submit(r)) }
        for id in cancels[i] ?? [] { broker.cancel(orderID: id) }
    }
}

func runScript(_ bars: BarSeries, _ script: [Int: [OrderRequest]], models: ExecutionModels = ExecutionModels(),
               cash: Double = 100_000, cancels: [Int: [Int]] = [:],
               endOfData: EndOfDataPolicy = .keepOpen) throws -> BacktestResult {
    var s = ScriptedStrategy(script: script, cancels: cancels)
    return try Backtester(series: [bars], config: BacktestConfig(cash: cash, models: models, endOfData: endOfData))
        .run(&s)
}

func buy(_ units: Double, _ kind: OrderKind = .market, tif: TimeInForce = .gtc, sl: Double? = nil,
         tp: Double? = nil) -> OrderRequest {
    OrderRequest(symbol: "TEST", side: .buy, size: .units(units), kind: kind, timeInForce: tif, stopLoss: sl,
                 takeProfit: tp)
}

func sell(_ units: Double, _ kind: OrderKind = .market, tif: TimeInForce = .gtc, sl: Double? = nil,
          tp: Double? = nil) -> OrderRequest {
    OrderRequest(symbol: "TEST", side: .sell, size: .units(units), kind: kind, timeInForce: tif, stopLoss: sl,
                 takeProfit: tp)
}

@Suite struct OrderStateMachineTests {
    @Test func legalAndIllegalTransitions() throws {
        var o = Order(id: 1, request: buy(10), submittedAt: 0, activeFrom: 0)
        #expect(o.status == .new)
        #expect(throws: OrderStateError.self) { try o.transition(to: .filled, at: 1) }
        try o.transition(to: .accepted, at: 1)
        o.quantity = 10
        try o.recordFill(units: 4, price: 100, at: 2)
        #expect(o.status == .partiallyFilled)
        try o.recordFill(units: 6, price: 110, at: 3)
        #expect(o.status == .filled)
        #expect(abs(o.averageFillPrice - 106) < 1e-12)
        #expect(throws: OrderStateError.self) { try o.transition(to: .cancelled, at: 4) }
        #expect(o.history.map(\.0) == [.new, .accepted, .partiallyFilled, .filled, ])
        for s in OrderStatus.allCases where s.isTerminal {
            #expect(OrderStatus.allCases.allSatisfy { !s.canMove(to: $0) })
        }
        #expect(OrderStatus.new.canMove(to: .rejected))
        #expect(!OrderStatus.new.canMove(to: .expired))
    }

    @Test func invalidRequestsAreRejectedAtSubmission() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99, 100)])
        let r = try runScript(bars, [0: [buy(0), buy(5, .limit(-1)), buy(5, sl: 110, tp: 105)]])
        #expect(r.orders.map(\.status) == [.rejected, .rejected, .rejected])
        #expect(r.orders.map(\.reason) == [.invalidSize, .invalidPrice, .invalidPrice])
    }
}

@Suite struct FillRuleTests {
    // Bars: 0 decision bar, then the bar the order may fill on.
    @Test func marketFillsAtNextOpenNeverTheDecisionBar() throws {
        let bars = makeSeries([(100, 101, 99, 100), (102, 103, 101, 102.5), (104, 105, 103, 104)])
        let r = try runScript(bars, [0: [buy(10)]])
        #expect(r.fills.count == 1)
        #expect(r.fills[0].price == 102 && r.fills[0].bar == 1)
        #expect(r.orders[0].status == .filled)
        #expect(r.equity[1] == 100_000 + 10 * (102.5 - 102))
    }

    @Test func limitFillsAtLimitOrBetterOpen() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 100.5, 98, 99), (97, 98, 96, 97)])
        // Buy limit 98.5: bar 1 trades down to 98 -> fills at 98.5. Buy limit 99 placed at bar 1: bar 2 opens at 97
        // below it -> fills at the better open 97.
        let r = try runScript(bars, [0: [buy(1, .limit(98.5))], 1: [buy(1, .limit(99))]])
        #expect(r.fills.map(\.price) == [98.5, 97])
        // Not reached: stays working until the end.
        let r2 = try runScript(bars, [0: [buy(1, .limit(90))]])
        #expect(r2.fills.isEmpty && r2.orders[0].status == .cancelled && r2.orders[0].reason == .endOfData)
    }

    @Test func stopFillsAtStopOrWorseOpenOnGap() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 103, 99.5, 102), (106, 107, 105, 106)])
        let r = try runScript(bars, [0: [buy(1, .stop(102))], 1: [buy(1, .stop(104))]])
        #expect(r.fills.map(\.price) == [102, 106])    // intrabar at the stop; gap: the worse open
        let sellStop = try runScript(bars, [0: [sell(1, .stop(99.8))]])
        #expect(sellStop.fills.map(\.price) == [99.8])
    }

    @Test func stopLimitTriggersThenWorksAsLimit() throws {
        // Buy stop 102 limit 102.5: bar 1 trades through 102 -> fills at 102 (trigger price satisfies the limit).
        let bars = makeSeries([(100, 101, 99, 100), (101, 103, 100.5, 102), (104, 105, 103, 104), (103, 104, 102, 103)])
        let r = try runScript(bars, [0: [buy(1, .stopLimit(stop: 102, limit: 102.5))]])
        #expect(r.fills.map(\.price) == [102])
        // Gap through the stop: triggered at the open 104 (above the 103.5 limit); the bar then trades down to
        // 103, all of it after the trigger, so the limit fills at 103.5.
        let r2 = try runScript(bars, [1: [buy(1, .stopLimit(stop: 103.5, limit: 103.5))]])
        #expect(r2.fills.map(\.price) == [103.5])
        #expect(r2.orders[0].stopTriggered)
        // Triggered at bar 2's open (104) but bar 2 stays above the 102.5 limit; it keeps working as a limit and
        // fills when bar 3 trades down to it.
        let r4 = try runScript(bars, [1: [buy(1, .stopLimit(stop: 103.5, limit: 102.5))]])
        #expect(r4.fills.map(\.price) == [102.5] && r4.fills.map(\.bar) == [3])
        #expect(r4.orders[0].stopTriggered)
        // Limit below the stop (buy the pull-back after a breakout): needs the low after the trigger. Pessimistic:
        // not in the trigger bar; the next bar (low 102 <= 102.5... limit 102.2) fills at the limit.
        let r3 = try runScript(bars, [0: [buy(1, .stopLimit(stop: 102, limit: 101))]])
        #expect(r3.fills.isEmpty)       // bar 1 low 100.5 < 101 but only before/after trigger is unknown
        let optimistic = try runScript(bars, [0: [buy(1, .stopLimit(stop: 102, limit: 101))]],
                                       models: ExecutionModels(intrabar: .optimistic))
        #expect(optimistic.fills.map(\.price) == [101])
    }

    @Test func timeInForceIOCAndDay() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 100.5, 99.5, 100), (99, 99.5, 97, 98)])
        // IOC limit not reachable in the first eligible bar -> cancelled there, even though bar 2 would fill it.
        let ioc = try runScript(bars, [0: [buy(1, .limit(98), tif: .ioc)]])
        #expect(ioc.fills.isEmpty && ioc.orders[0].status == .cancelled && ioc.orders[0].reason == .immediateOrCancel)
        // DAY: daily bars; the order expires when the session (UTC day) changes.
        let daily = makeSeries([(100, 101, 99, 100), (100, 100.5, 99.5, 100), (99, 99.5, 97, 98)], timeframe: .d1)
        let day = try runScript(daily, [0: [buy(1, .limit(98), tif: .day)]])
        #expect(day.fills.isEmpty && day.orders[0].status == .expired)
        let gtc = try runScript(daily, [0: [buy(1, .limit(98))]])
        #expect(gtc.fills.map(\.price) == [98])
    }

    @Test func cancelledOrdersNeverFill() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 95, 100)])
        let r = try runScript(bars, [0: [buy(1, .limit(96))]], cancels: [1: [0]])
        #expect(r.fills.isEmpty && r.orders[0].status == .cancelled && r.orders[0].reason == .userCancelled)
    }
}

@Suite struct BracketAndIntrabarTests {
    @Test func bracketTakeProfitCancelsStopLoss() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99.5, 100.5), (101, 106, 100.5, 105), (105, 106, 104, 105)])
        let r = try runScript(bars, [0: [buy(10, sl: 95, tp: 105)]])
        #expect(r.trades.count == 1)
        #expect(r.trades[0].exitPrice == 105 && r.trades[0].exitReason == "take_profit")
        let sl = r.orders.first { $0.request.tag == "stop_loss" }!
        #expect(sl.status == .cancelled && sl.reason == .ocoSibling)
    }

    @Test func stopAndTargetInsideOneBarIsPessimisticByDefault() throws {
        // Bar 2 touches both the stop (95) and the target (105).
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99.5, 100.5), (100, 106, 94, 101)])
        let pessimistic = try runScript(bars, [0: [buy(10, sl: 95, tp: 105)]])
        #expect(pessimistic.trades.map(\.exitPrice) == [95])
        #expect(pessimistic.trades[0].exitReason == "stop_loss")
        let optimistic = try runScript(bars, [0: [buy(10, sl: 95, tp: 105)]], models: ExecutionModels(intrabar: .optimistic))
        #expect(optimistic.trades.map(\.exitPrice) == [105])
        // Bar direction: closes up (101 > 100) -> open, low, high: the stop first.
        let direction = try runScript(bars, [0: [buy(10, sl: 95, tp: 105)]], models: ExecutionModels(intrabar: .barDirection))
        #expect(direction.trades.map(\.exitPrice) == [95])
        // Short bracket: stop above, target below; pessimistic again takes the stop.
        let short = try runScript(bars, [0: [sell(10, sl: 105, tp: 95)]])
        #expect(short.trades.map(\.exitPrice) == [105])
    }

    @Test func bracketStopGapFillsAtTheWorseOpen() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99.5, 100.5), (90, 92, 89, 91)])
        let r = try runScript(bars, [0: [buy(10, sl: 95, tp: 110)]])
        #expect(r.trades.map(\.exitPrice) == [90])
    }

    @Test func childrenOfAnIntrabarEntryOnlyStopOutInTheSameBar() throws {
        // Limit entry at 99 inside bar 1, whose range also reaches the target 101.5 and the stop 98: pessimistic
        // assumes the stop came after the entry; the target is not taken in the entry bar.
        let bars = makeSeries([(100, 101, 99.5, 100), (100, 102, 97, 100), (100, 100.5, 99.5, 100)])
        let r = try runScript(bars, [0: [buy(10, .limit(99), sl: 98, tp: 101.5)]])
        #expect(r.trades.map(\.exitPrice) == [98])
    }

    @Test func closingThePositionCancelsItsBracket() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99.5, 100.5), (101, 102, 100.5, 101), (101, 102, 100, 101)])
        var script: [Int: [OrderRequest]] = [0: [buy(10, sl: 90, tp: 120)]]
        script[1] = [OrderRequest(symbol: "TEST", side: .sell, size: .closePosition)]
        let r = try runScript(bars, script)
        #expect(r.trades.count == 1 && r.trades[0].exitPrice == 101)
        #expect(r.orders.filter { $0.parentID != nil }.allSatisfy { $0.status == .cancelled && $0.reason == .positionClosed })
    }
}

@Suite struct ExecutionModelTests {
    @Test func partialFillsUnderAVolumeParticipationCap() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99, 100), (101, 102, 100, 101), (102, 103, 101, 102)],
                              volume: 1_000)
        let models = ExecutionModels(maxVolumeParticipation: 0.1)   // 100 units per bar
        let r = try runScript(bars, [0: [buy(250)]], models: models)
        #expect(r.fills.map(\.units) == [100, 100, 50])
        #expect(r.fills.map(\.price) == [100, 101, 102])
        #expect(r.orders[0].status == .filled)
        #expect(r.orders[0].history.map(\.0) == [.new, .accepted, .partiallyFilled, .partiallyFilled, .filled])
        #expect(abs(r.orders[0].averageFillPrice - (100 * 100 + 100 * 101 + 50 * 102) / 250) < 1e-12)
        // IOC: the unfilled remainder is cancelled after the first bar.
        let ioc = try runScript(bars, [0: [buy(250, tif: .ioc)]], models: models)
        #expect(ioc.fills.map(\.units) == [100])
        #expect(ioc.orders[0].status == .cancelled)
    }

    @Test func slippageModels() {
        #expect(SlippageModel.fixedBps(10).price(100, side: .buy, atr: nil) == 100.1)
        #expect(SlippageModel.fixedBps(10).price(100, side: .sell, atr: nil) == 99.9)
        #expect(SlippageModel.halfSpread(0.0002).price(1.1, side: .buy, atr: nil) == 1.1 + 0.0001)
        #expect(SlippageModel.atr(multiple: 0.5).price(100, side: .sell, atr: 2) == 99)
        #expect(SlippageModel.none.price(100, side: .buy, atr: 5) == 100)
    }

    @Test func slippageWorsensMarketAndStopFillsButNotLimits() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 98, 100), (100, 101, 99, 100)])
        let models = ExecutionModels(slippage: .fixedBps(10))
        let r = try runScript(bars, [0: [buy(1), buy(1, .limit(99)), sell(1, .stop(98.5))]], models: models)
        #expect(r.fills.map(\.price) == [100 * 1.001, 99, 98.5 * 0.999])
    }

    @Test func atrSlippageUsesOnlyClosedBars() throws {
        var ohlc: [(Double, Double, Double, Double)] = (0..<20).map { _ in (100, 101, 99, 100) }
        ohlc.append((100, 140, 60, 100))   // a huge bar: its range must not affect its own fill
        let bars = makeSeries(ohlc)
        let r = try runScript(bars, [19: [buy(1)]], models: ExecutionModels(slippage: .atr(multiple: 1, period: 14)))
        #expect(abs(r.fills[0].price - 102) < 1e-12)   // ATR of the earlier bars is 2
    }

    @Test func commissionModels() {
        #expect(CommissionModel.fractionOfNotional(0.002).commission(units: 100, price: 50) == 10)
        #expect(CommissionModel.perUnit(0.005, minimum: 1).commission(units: 100, price: 50) == 1)
        #expect(CommissionModel.perUnit(0.005, minimum: 1).commission(units: 1_000, price: 50) == 5)
        #expect(CommissionModel.perLot(3.5, lotSize: 100_000, minimum: 0).commission(units: 250_000, price: 1.1) == 8.75)
        #expect(CommissionModel.perLot(3.5, lotSize: 100_000, minimum: 2).commission(units: 10_000, price: 1.1) == 2)
        #expect(CommissionModel.none.commission(units: 5, price: 5) == 0)
    }

    @Test func commissionIsChargedOnEntryAndExit() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99, 100), (110, 111, 109, 110)])
        let r = try runScript(bars, [0: [buy(10)], 1: [sell(10)]],
                              models: ExecutionModels(commission: .perUnit(0.5, minimum: 1)))
        #expect(r.trades[0].commission == 10)
        #expect(r.trades[0].pnl == 10 * 10 - 10)
        #expect(r.finalEquity == 100_000 + 90)
    }

    @Test func latencyDelaysFillsOnFineBars() throws {
        let bars = makeSeries([(100, 101, 99, 100), (101, 102, 100, 101), (102, 103, 101, 102), (103, 104, 102, 103)],
                              timeframe: .m1)
        // 30 s latency with 1-minute bars: the decision at bar 0's close (= bar 1's open) reaches the market 30 s
        // into bar 1, so it fills at bar 2's open; 90 s skips to bar 3.
        let r = try runScript(bars, [0: [buy(1)]], models: ExecutionModels(latency: LatencyModel(milliseconds: 30_000)))
        #expect(r.fills.map(\.bar) == [2])
        let r90 = try runScript(bars, [0: [buy(1)]], models: ExecutionModels(latency: LatencyModel(milliseconds: 90_000)))
        #expect(r90.fills.map(\.bar) == [3])
        let hourly = makeSeries([(100, 101, 99, 100), (101, 102, 100, 101)])
        let h = try runScript(hourly, [0: [buy(1)]], models: ExecutionModels(latency: LatencyModel(milliseconds: 300)))
        #expect(h.fills.isEmpty)   // 300 ms after the close of bar 0 is after bar 1's open: no bar left
    }

    @Test func overnightFinancing() throws {
        let daily = makeSeries([(100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 99, 100)],
                               timeframe: .d1)
        let model = FinancingModel(longRate: 0.0365, shortRate: 0)
        let r = try runScript(daily, [0: [buy(100)]], models: ExecutionModels(financing: model))
        // Held from bar 1 to bar 3: two daily rollovers at 100 × 100 × 0.0365 / 365 = 1 each.
        #expect(abs(r.totalFinancing - 2) < 1e-9)
        #expect(abs(r.finalEquity - (100_000 - 2)) < 1e-9)
        #expect(model.rollovers(from: 0, to: 3 * UTCTime.msPerDay) == 3)
    }

    @Test func leverageLimitsRejectOversizedOrders() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 99, 100)])
        let r = try runScript(bars, [0: [buy(1_500)]], cash: 100_000)
        #expect(r.orders[0].status == .rejected && r.orders[0].reason == .insufficientMargin)
        let levered = try runScript(bars, [0: [buy(1_500)]], models: ExecutionModels(maxLeverage: 2), cash: 100_000)
        #expect(levered.orders[0].status == .filled)
        // Equity fraction sizing uses whole units and the leverage.
        let fraction = try runScript(bars, [0: [OrderRequest(symbol: "TEST", side: .buy, size: .equityFraction(0.5))]],
                                     models: ExecutionModels(maxLeverage: 2), cash: 100_000)
        #expect(fraction.fills.map(\.units) == [1_000])
    }

    @Test func accountTracksAveragePriceAndPnL() {
        var a = Account(cash: 10_000, commission: .none)
        a.open(symbol: "X", size: 10, price: 100, time: 0, bar: 0)
        a.open(symbol: "X", size: 10, price: 110, time: 1, bar: 1)
        #expect(a.positionSize("X") == 20 && a.averagePrice("X") == 105)
        #expect(a.unrealizedPnL("X", mark: 120) == 300)
        a.reduce(symbol: "X", units: 15, price: 120, time: 2, bar: 2, reason: "signal")   // FIFO: 10 @100, 5 @110
        #expect(a.closedTrades.map(\.pnl) == [200, 50])
        #expect(a.positionSize("X") == 5 && a.averagePrice("X") == 110)
        #expect(a.realizedPnL == 250 && a.cash == 10_250)
        #expect(a.equity(marks: ["X": 100]) == 10_250 - 50)
    }

    @Test func pythonFloorDivisionMatchesCPython() {
        #expect(pythonFloorDivide(7, 2) == 3)
        #expect(pythonFloorDivide(-7, 2) == -4)
        #expect(pythonFloorDivide(1, 0.1) == 9)     // CPython: 1 // 0.1 == 9.0
        #expect(pythonFloorDivide(0.3, 0.1) == 2)   // CPython: 0.3 // 0.1 == 2.0
    }
}

@Suite struct OrderQueueTests {
    @Test func ordersAfterOneThatCancelsEarlierOrdersStillFillInThatBar() throws {
        // Bar 1: a bracketed long opens (children SL/TP). Bar 2: a close order (cancels the bracket children that
        // sit before it in the book) and a later, unrelated limit buy both become eligible in bar 3; both must act.
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99.5, 100.5), (101, 102, 100.5, 101),
                               (101, 102, 100, 101), (101, 102, 100, 101)])
        var script: [Int: [OrderRequest]] = [0: [buy(10, sl: 90, tp: 120)]]
        script[1] = [OrderRequest(symbol: "TEST", side: .sell, size: .closePosition), buy(5, .limit(101.5))]
        let r = try runScript(bars, script)
        #expect(r.trades.count == 1 && r.trades[0].exitBar == 2)
        let limit = r.orders.last { $0.request.kind == .limit(101.5) }!
        #expect(limit.status == .filled)
        #expect(r.fills.last?.bar == 2)
    }
}
