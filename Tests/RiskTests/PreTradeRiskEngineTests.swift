import Testing
import Trading
@testable import Risk

/// Each rule of the pre-trade risk engine: one accepted and one rejected order, and reducing orders passing
/// where limits and breakers bind.
@Suite struct PreTradeRiskEngineTests {
    let moderate = RiskProfiles.builtIn.profiles["moderate"]!      // 5 positions, exposure 2, 20 orders/min
    let aapl = Instrument(symbol: "AAPL", assetClass: .equities)
    let t0: Int64 = 1_700_000_000_000

    func snapshot(positions: [String: Double] = [:], marks: [String: Double] = ["AAPL": 100],
                  equity: Double = 10_000) -> RiskSnapshot {
        RiskSnapshot(equity: equity, startOfDayEquity: equity, peakEquity: equity, positions: positions, marks: marks,
                     openOrders: 0, time: t0)
    }

    var quiet: CircuitBreakers { CircuitBreakers(config: .builtIn, profile: moderate) }

    func check(_ r: OrderRequest, price: Double = 100, _ s: RiskSnapshot? = nil,
               breakers: CircuitBreakers? = nil) -> RiskDecision {
        var engine = PreTradeRiskEngine(profile: moderate)
        return engine.check(r, instrument: aapl, price: price, snapshot: s ?? snapshot(), breakers: breakers ?? quiet)
    }

    func rule(_ d: RiskDecision) -> String? { d.rejection?.rule }

    @Test func acceptsAnOrdinaryBracketOrder() {
        let r = OrderRequest(symbol: "AAPL", side: .buy, size: .units(50), stopLoss: 98, takeProfit: 104)
        #expect(check(r) == .accept)
    }

    @Test func quantityRule() {
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(0.5)))) == "quantity")
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10.5)))) == "quantity")
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(.nan)))) == "quantity")
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(-3)))) == "quantity")
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .equityFraction(1.5)))) == "quantity")
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .sell, size: .closePosition))) == "quantity")
        let lots = Instrument(symbol: "AAPL", assetClass: .equities, quantityIncrement: 1, minimumQuantity: 10)
        var engine = PreTradeRiskEngine(profile: moderate)
        let d = engine.check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(5)), instrument: lots, price: 100,
                             snapshot: snapshot(), breakers: quiet)
        #expect(rule(d) == "quantity" && d.rejection!.message.contains("minimum 10"))
        #expect(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10))) == .accept)
    }

    @Test func priceRule() {
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10)), price: .nan)) == "price")
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10), kind: .limit(0)))) == "price")
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10), stopLoss: .infinity)))
                == "price")
    }

    @Test func priceBandRule() {
        #expect(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10)), price: 109) == .accept)
        let far = check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10)), price: 111)
        #expect(rule(far) == "price_band" && far.rejection!.message.contains("11.0 %"))
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10), kind: .limit(85)))) == "price_band")
    }

    @Test func bracketRule() {
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10), stopLoss: 101))) == "bracket")
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10), takeProfit: 99))) == "bracket")
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .sell, size: .units(10), stopLoss: 99))) == "bracket")
        #expect(check(OrderRequest(symbol: "AAPL", side: .sell, size: .units(10), stopLoss: 102, takeProfit: 96))
                == .accept)
        // A limit entry's bracket is judged against the limit price.
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10), kind: .limit(95),
                                        stopLoss: 96))) == "bracket")
    }

    @Test func maxPositionsRule() {
        let five = ["A": 1.0, "B": 1, "C": 1, "D": -1, "E": 1]
        var marks = ["AAPL": 100.0]
        for k in five.keys { marks[k] = 10 }
        let full = snapshot(positions: five, marks: marks)
        let d = check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(1)), full)
        #expect(rule(d) == "max_positions" && d.rejection!.message.contains("allows 5"))
        // Adding to a held symbol is not a new position.
        #expect(check(OrderRequest(symbol: "A", side: .buy, size: .units(1)), price: 10, full) == .accept)
        var four = five
        four["E"] = 0
        #expect(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(1)), snapshot(positions: four, marks: marks))
                == .accept)
    }

    @Test func maxExposureRule() {
        // 2 x 10 000 = 20 000: 150 AAPL (15 000) + 60 more (6 000) = 21 000 > 20 000.
        let s = snapshot(positions: ["AAPL": 150])
        let d = check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(60)), s)
        #expect(rule(d) == "max_exposure" && d.rejection!.message.contains("21 000.00"))
        #expect(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(50)), s) == .accept)   // exactly 20 000
        // Other symbols count at their marks; an unpriced holding makes exposure unknown.
        let mixed = snapshot(positions: ["MSFT": -40], marks: ["AAPL": 100, "MSFT": 400])  // 16 000
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(41)), mixed)) == "max_exposure")
        #expect(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(40)), mixed) == .accept)
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(1)),
                           snapshot(positions: ["MSFT": 1], marks: ["AAPL": 100]))) == "max_exposure")
    }

    @Test func equityRule() {
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(1)), snapshot(equity: 0)))
                == "equity")
    }

    @Test func throttleRule() {
        var engine = PreTradeRiskEngine(profile: moderate, throttle: OrderThrottle(maxOrdersPerMinute: 2))
        let r = OrderRequest(symbol: "AAPL", side: .buy, size: .units(1))
        var s = snapshot()
        let r1 = engine.check(r, instrument: aapl, price: 100, snapshot: s, breakers: quiet)
        #expect(r1 == .accept)
        let r2 = engine.check(r, instrument: aapl, price: 100, snapshot: s, breakers: quiet)
        #expect(r2 == .accept)
        let third = engine.check(r, instrument: aapl, price: 100, snapshot: s, breakers: quiet)
        #expect(rule(third) == "throttle" && third.rejection!.message.contains("1 min"))
        // A rejected order by another rule does not use a slot.
        s.time += 60_000
        let r3 = engine.check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(0.5)), instrument: aapl,
                                  price: 100, snapshot: s, breakers: quiet)
        #expect(rule(r3) == "quantity")
        #expect(engine.throttle.count(at: s.time) == 0)
        let r4 = engine.check(r, instrument: aapl, price: 100, snapshot: s, breakers: quiet)
        #expect(r4 == .accept)
    }

    @Test func breakersBlockOpeningOrdersOnly() {
        var breakers = quiet
        _ = breakers.evaluate(BreakerObservation(time: t0 - 1, equity: 9_600, startOfDayEquity: 10_000,
                                                 peakEquity: 10_000, consecutiveLosses: 0, volatilityRatio: 1,
                                                 dataAge: 0, brokerFailures: 0))
        #expect(breakers.isTripped(at: t0))
        let s = snapshot(positions: ["AAPL": 100])
        let open = check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10)), s, breakers: breakers)
        #expect(rule(open) == "circuit_breaker" && open.rejection!.message.contains("daily loss 4.0 %"))
        #expect(check(OrderRequest(symbol: "AAPL", side: .sell, size: .units(40)), s, breakers: breakers) == .accept)
        #expect(check(OrderRequest(symbol: "AAPL", side: .sell, size: .closePosition), s, breakers: breakers) == .accept)
        // Flipping through zero opens a short: blocked.
        #expect(rule(check(OrderRequest(symbol: "AAPL", side: .sell, size: .units(150)), s, breakers: breakers))
                == "circuit_breaker")
    }

    @Test func reducingOrdersPassWhenLimitsBind() {
        // Over the exposure limit (300 x 100 = 30 000 > 20 000), at max positions, far from the mark, throttle full.
        var marks = ["AAPL": 100.0]
        var positions = ["AAPL": 300.0]
        for k in ["A", "B", "C", "D"] { positions[k] = 1; marks[k] = 10 }
        let s = snapshot(positions: positions, marks: marks)
        var engine = PreTradeRiskEngine(profile: moderate, throttle: OrderThrottle(maxOrdersPerMinute: 1))
        let r5 = engine.throttle.admit(at: t0)
        #expect(r5)
        for r in [OrderRequest(symbol: "AAPL", side: .sell, size: .units(100)),
                  OrderRequest(symbol: "AAPL", side: .sell, size: .closePosition),
                  OrderRequest(symbol: "AAPL", side: .sell, size: .units(300), kind: .limit(130))] {
            let r6 = engine.check(r, instrument: aapl, price: 120, snapshot: s, breakers: quiet)
            #expect(r6 == .accept, "\(r)")
        }
        #expect(engine.throttle.count(at: t0) == 4)       // counted, never refused
        let r7 = engine.check(OrderRequest(symbol: "AAPL", side: .buy, size: .units(1)), instrument: aapl,
                                  price: 100, snapshot: s, breakers: quiet)
        #expect(rule(r7) == "max_exposure")
    }
}
