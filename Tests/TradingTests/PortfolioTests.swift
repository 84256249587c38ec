import Foundation
import Testing
@testable import Trading

@Suite struct PortfolioTests {
    func fill(_ side: OrderSide, _ units: Double, at price: Double, commission: Double = 0, time: Int64 = 0) -> Fill {
        Fill(orderID: 0, symbol: "X", side: side, units: units, price: price, commission: commission, time: time, bar: 0)
    }

    @Test func theDocumentedExample() {
        var p = Portfolio(balance: 10_000)
        p.apply(fill(.buy, 10, at: 100, commission: 1))
        p.mark("X", price: 110)
        #expect(p.balance == 9_999)
        #expect(p.equity == 10_099)
        p.apply(fill(.sell, 4, at: 110))
        #expect(p.quantity("X") == 6)
        #expect(p.position("X")?.averagePrice == 100)
        #expect(p.balance == 10_039)
        #expect(p.equity == 10_099)            // equity does not move on a fill at the mark
    }

    @Test func aReversalClosesThenOpensTheRestAtTheFillPrice() {
        var p = Portfolio(balance: 1_000)
        p.apply(fill(.buy, 3, at: 10))
        p.apply(fill(.sell, 5, at: 12))
        #expect(p.quantity("X") == -2)
        #expect(p.position("X")?.averagePrice == 12)
        #expect(p.balance == 1_006)            // 3 × (12 − 10) realised
        p.mark("X", price: 11)
        #expect(p.equity == 1_008)             // short 2 from 12 marked at 11
        p.apply(fill(.buy, 2, at: 11))
        #expect(p.quantity("X") == 0 && p.positions.isEmpty)
        #expect(p.balance == 1_008)
    }

    @Test func shortPositionsAddAtTheirOwnAverage() {
        var p = Portfolio(balance: 0)
        p.apply(fill(.sell, 1, at: 100))
        p.apply(fill(.sell, 3, at: 104))
        #expect(p.quantity("X") == -4)
        #expect(p.position("X")?.averagePrice == 103)
        p.apply(fill(.buy, 2, at: 101))
        #expect(p.balance == 4)                // 2 × (103 − 101)
        #expect(p.position("X")?.averagePrice == 103)
    }

    @Test func reconciliationTakesTheVenuesFigures() {
        var p = Portfolio(balance: 500)
        p.apply(fill(.buy, 1, at: 10))
        let report = AccountReport(time: 5, balance: 480, equity: 495, buyingPower: 400,
                                   positions: [PositionReport(symbol: "Y", quantity: -3, averagePrice: 5, mark: 0)])
        p.reconcile(with: report)
        #expect(p.quantity("X") == 0)
        #expect(p.quantity("Y") == -3)
        #expect(p.balance == 480)
        #expect(p.equity == 495)               // 480 + (0 × -3 − (−15))
    }

    @Test func theContextQueuesCommandsAndReadsThePortfolio() {
        var p = Portfolio(balance: 100)
        p.apply(fill(.buy, 2, at: 10))
        var c = StrategyContext(portfolio: p, nextOrderID: 7)
        let id = c.closePosition("X")
        c.cancel(orderID: 3)
        #expect(id == 7 && c.nextOrderID == 8)
        #expect(c.positionSize("X") == 2)      // nothing fills until a runner sends the commands
        let commands = c.drainOutbox()
        #expect(commands == [.submit(id: 7, OrderRequest(symbol: "X", side: .sell, size: .closePosition)), .cancel(id: 3)])
        #expect(!c.hasCommands)
    }
}

@Suite struct InstrumentTests {
    @Test func guessesFromTheSymbol() {
        let eurusd = Instrument.guess(symbol: "EURUSD")
        #expect(eurusd.assetClass == .fx && eurusd.quoteCurrency == "USD" && eurusd.priceIncrement == 0.00001)
        #expect(Instrument.guess(symbol: "USDJPY").priceIncrement == 0.001)
        #expect(Instrument.guess(symbol: "BTC/USD").quantityIncrement == 1e-8)
        #expect(Instrument.guess(symbol: "GOOG").assetClass == .equities)
    }

    @Test func roundsQuantitiesDownAndPricesToTheTick() {
        let e = Instrument.guess(symbol: "EURUSD")
        #expect(e.roundedQuantity(12_345.9) == 12_345)
        #expect(e.roundedQuantity(-7.99) == -7)
        #expect(e.roundedQuantity(0.4) == 0)
        #expect(e.roundedQuantity(.nan) == 0)
        #expect(e.roundedPrice(1.0712349) == 1.07123)
        var lot = Instrument(symbol: "X", assetClass: .fx, quantityIncrement: 1_000, minimumQuantity: 10_000)
        #expect(lot.roundedQuantity(9_999) == 0)
        #expect(lot.roundedQuantity(15_500) == 15_000)
        lot.priceIncrement = 0.25
        #expect(lot.roundedPrice(100.37) == 100.25)
    }

    @Test func ordersAndReportsRoundTripThroughJSON() throws {
        let r = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000), kind: .limit(1.065), timeInForce: .day,
                             stopLoss: 1.06, takeProfit: 1.075, tag: "t")
        let data = try JSONEncoder().encode(r)
        #expect(try JSONDecoder().decode(OrderRequest.self, from: data) == r)
    }
}
