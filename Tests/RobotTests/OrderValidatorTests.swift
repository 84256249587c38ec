@testable import Robot
import Testing
import Trading

@Suite struct OrderValidatorTests {
    let validator = OrderValidator(limits: .init(tradableSymbols: ["EURUSD", "GBPUSD"], maxUnits: 100_000, maxNotional: 50_000,
                                                 priceBand: 0.02))

    func context(buyingPower: Double = 1_000_000, positions: [String: Double] = [:], open: Bool = true) -> OrderValidator.Context {
        .init(lastQuote: ["EURUSD": 1.1], buyingPower: buyingPower, positions: positions, knownClientOrderIDs: ["r-1"],
              marketOpen: { _ in open })
    }

    func rule(_ r: OrderRequest, id: String = "r-9", _ c: OrderValidator.Context? = nil) -> String? {
        validator.validate(r, clientOrderID: id, context: c ?? context())?.rule
    }

    @Test func eachRuleRefusesWhatItShould() {
        let ok = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000), stopLoss: 1.09, takeProfit: 1.12)
        #expect(rule(ok) == nil)
        #expect(rule(OrderRequest(symbol: "USDJPY", side: .buy, size: .units(1))) == "tradable")
        #expect(rule(OrderRequest(symbol: "GBPUSD", side: .buy, size: .units(1))) == "price_band", "no quote")
        #expect(rule(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(0))) == "size")
        #expect(rule(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(.nan))) == "size")
        #expect(rule(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(100_001))) == "size")
        #expect(rule(OrderRequest(symbol: "EURUSD", side: .buy, size: .equityFraction(1.5))) == "size")
        // The worked example: 1.0700 is 2.73 % below 1.1000, the band is 2 %.
        let far = validator.validate(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1), kind: .limit(1.07)),
                                     clientOrderID: "r-9", context: context())
        #expect(far?.message == "the limit price 1.07 is 2.72727 % from the last quote 1.1; the band is 2 %")
        #expect(rule(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1), stopLoss: 1.11)) == "price_band", "wrong side")
        #expect(rule(OrderRequest(symbol: "EURUSD", side: .sell, size: .units(1), takeProfit: 1.11)) == "price_band")
        #expect(rule(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(50_000))) == "size", "55 000 notional")
        #expect(rule(ok, context(buyingPower: 10_000)) == "buying_power")
        #expect(rule(OrderRequest(symbol: "EURUSD", side: .sell, size: .units(10_000)), context(buyingPower: 0, positions: ["EURUSD": 20_000])) == nil,
                "reducing a position needs no buying power")
        #expect(rule(OrderRequest(symbol: "EURUSD", side: .sell, size: .closePosition), context(buyingPower: 0, positions: ["EURUSD": 20_000])) == nil)
        #expect(rule(ok, id: "r-1") == "duplicate_client_id")
        #expect(rule(ok, context(open: false)) == "market_open")
    }
}
