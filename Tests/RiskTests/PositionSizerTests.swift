import Testing
import Trading
@testable import Risk

/// Kelly and sizing on worked examples (README "Position sizing"); tolerances are a few ulps of the arithmetic.
@Suite struct PositionSizerTests {
    let moderate = RiskProfiles.builtIn.profiles["moderate"]!
    let aapl = Instrument(symbol: "AAPL", assetClass: .equities)

    @Test func kellyWorkedExamples() {
        #expect(abs(PositionSizer.kellyFraction(pWin: 0.6, payoff: 2) - 0.4) < 1e-15)
        #expect(abs(PositionSizer.kellyFraction(pWin: 0.55, payoff: 1) - 0.1) < 1e-15)
        #expect(PositionSizer.kellyFraction(pWin: 0.5, payoff: 1) == 0)          // fair coin: no edge
        #expect(PositionSizer.kellyFraction(pWin: 0.3, payoff: 1.5) == 0)        // negative edge clamped
        #expect(PositionSizer.kellyFraction(pWin: .nan, payoff: 2) == 0)
        #expect(PositionSizer.kellyFraction(pWin: 0.6, payoff: 0) == 0)
        #expect(PositionSizer.kellyFraction(pWin: 1.2, payoff: 2) == 0)
    }

    /// equity 10 000, long 100, stop 98, target 104, p 0.6: b = 2, f* = 0.4, quarter Kelly 0.1 → capped at 1 %:
    /// 100.00 at risk / 2.00 per share = 50 shares.
    @Test func cappedByRiskPerTrade() {
        let d = PositionSizer(profile: moderate).size(equity: 10_000, entryPrice: 100, stopPrice: 98,
                                                      takeProfitPrice: 104, pWin: 0.6, instrument: aapl)
        #expect(d.units == 50)
        #expect(abs(d.kellyFraction - 0.4) < 1e-15)
        #expect(abs(d.appliedFraction - 0.01) < 1e-15)
        #expect(abs(d.riskAmount - 100) < 1e-9)
        #expect(d.notional == 5_000)
        #expect(d.cappedBy == "risk_per_trade")
    }

    /// Quarter Kelly below the cap is used as is: p 0.61, b 1 → f* = 0.22, f = 0.055 of 10 000 = 550 at risk
    /// with a 25 % risk-per-trade cap; stop distance 5 → 110 shares.
    @Test func quarterKellyBelowTheCap() {
        var p = moderate
        p.riskPerTrade = 0.25
        p.maxExposure = 100
        let d = PositionSizer(profile: p).size(equity: 10_000, entryPrice: 50, stopPrice: 55, takeProfitPrice: 45,
                                               pWin: 0.61, instrument: aapl)   // a short: stop above
        #expect(abs(d.kellyFraction - 0.22) < 1e-12)
        #expect(d.units == 110)
        #expect(d.cappedBy == nil)
        #expect(abs(d.appliedFraction - 0.055) < 1e-12)
    }

    @Test func unitsRoundDownToTheInstrumentStep() {
        // 100 at risk over a 0.0030 stop = 33 333.33 EUR → 33 333 units on a 1-unit step.
        // (Exposure cap raised: 33 333 EUR at 1.07 is 3.6 x equity.)
        var wide = moderate
        wide.maxExposure = 10
        let eurusd = Instrument.guess(symbol: "EURUSD")
        let d = PositionSizer(profile: wide).size(equity: 10_000, entryPrice: 1.0700, stopPrice: 1.0670,
                                                      takeProfitPrice: 1.0775, pWin: 0.62, instrument: eurusd)
        #expect(d.units == 33_333)
        #expect(d.riskAmount < 100 && d.riskAmount > 99.99)
        // Lots of 1 000: 33 000.
        let lots = Instrument(symbol: "EURUSD", assetClass: .fx, quantityIncrement: 1_000, priceIncrement: 0.00001)
        #expect(PositionSizer(profile: wide).size(equity: 10_000, entryPrice: 1.0700, stopPrice: 1.0670,
                                                      takeProfitPrice: 1.0775, pWin: 0.62, instrument: lots).units
                == 33_000)
    }

    @Test func exposureCap() {
        // 1 % risk over a 0.5 stop = 200 shares = 20 200 notional > 2 x 10 000: capped at 20 000 / 101 = 198.02
        // → 198 shares, risking 99.
        let d = PositionSizer(profile: moderate).size(equity: 10_000, entryPrice: 101, stopPrice: 100.5,
                                                      takeProfitPrice: 102.25, pWin: 0.65, instrument: aapl)
        #expect(d.units == 198)
        #expect(d.cappedBy == "max_exposure")
        #expect(d.notional <= 2 * 10_000)
        #expect(abs(d.riskAmount - 99) < 1e-9)
    }

    @Test func noEdgeMinimumAndBadInput() {
        let sizer = PositionSizer(profile: moderate)
        // p 0.6 at payoff 0.5: f* = 0.6 - 0.4 / 0.5 = -0.2 → no edge.
        let flat = sizer.size(equity: 10_000, entryPrice: 100, stopPrice: 98, takeProfitPrice: 101, pWin: 0.6,
                              instrument: aapl)
        #expect(flat.units == 0 && flat.cappedBy == "no_edge" && flat.kellyFraction == 0)
        // Below min confidence 0.6.
        #expect(sizer.size(equity: 10_000, entryPrice: 100, stopPrice: 98, takeProfitPrice: 104, pWin: 0.55,
                           instrument: aapl).cappedBy == "min_confidence")
        // 1 % of 1 000 = 10 over a 20-point stop = 0.5 share → below one share.
        let small = sizer.size(equity: 1_000, entryPrice: 400, stopPrice: 380, takeProfitPrice: 450, pWin: 0.7,
                               instrument: aapl)
        #expect(small.units == 0 && small.cappedBy == "instrument_minimum")
        for d in [sizer.size(equity: .nan, entryPrice: 100, stopPrice: 98, takeProfitPrice: 104, pWin: 0.6, instrument: aapl),
                  sizer.size(equity: 10_000, entryPrice: 100, stopPrice: 100, takeProfitPrice: 104, pWin: 0.6, instrument: aapl),
                  sizer.size(equity: 10_000, entryPrice: 100, stopPrice: 98, takeProfitPrice: 97, pWin: 0.6, instrument: aapl),
                  sizer.size(equity: 10_000, entryPrice: 100, stopPrice: 98, takeProfitPrice: 104, pWin: 1.5, instrument: aapl),
                  sizer.size(equity: -5, entryPrice: 100, stopPrice: 98, takeProfitPrice: 104, pWin: 0.6, instrument: aapl)] {
            #expect(d.units == 0 && d.cappedBy == "invalid_input", "\(d)")
        }
    }

    @Test func cryptoFractionalUnits() {
        // 2 % (aggressive) of 10 000 = 200 over a 1 500 stop = 0.13333333 BTC at 1e-8 steps.
        let btc = Instrument.guess(symbol: "BTCUSD")
        let d = PositionSizer(profile: RiskProfiles.builtIn.profiles["aggressive"]!)
            .size(equity: 10_000, entryPrice: 60_000, stopPrice: 58_500, takeProfitPrice: 63_000, pWin: 0.6,
                  instrument: btc)
        #expect(abs(d.units - 0.13333333) < 1e-15)
        #expect(d.cappedBy == "risk_per_trade")
    }
}
