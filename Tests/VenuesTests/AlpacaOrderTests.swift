import Foundation
import Testing
import Trading
@testable import Venues

/// Alpaca's order JSON as its docs write it: numbers as strings, 18 statuses, nested legs; bad fields are errors
/// naming the field, never a trap.
@Suite struct AlpacaOrderTests {
    static func json(status: String = "new", extra: [String: Any] = [:]) -> [String: Any] {
        var o: [String: Any] = ["id": "61e69015-8549-4bfd-b9c3-01e75843f47d", "client_order_id": "r-7", "symbol": "AAPL",
                                "side": "buy", "type": "limit", "order_class": "", "status": status, "qty": "15",
                                "notional": NSNull(), "filled_qty": "0", "filled_avg_price": NSNull(), "limit_price": "107.00",
                                "stop_price": NSNull(), "time_in_force": "day", "created_at": "2021-03-16T18:38:01.942282Z",
                                "updated_at": "2021-03-16T18:38:01.942282Z"]
        for (k, v) in extra { o[k] = v }
        return o
    }

    @Test func everyStatusMapsOntoOurs() throws {
        let expected: [String: OrderStatus] = [
            "new": .accepted, "accepted": .accepted, "pending_new": .accepted, "accepted_for_bidding": .accepted,
            "held": .accepted, "pending_review": .accepted, "pending_cancel": .accepted, "pending_replace": .accepted,
            "done_for_day": .accepted, "stopped": .accepted, "calculated": .accepted,
            "partially_filled": .partiallyFilled, "filled": .filled, "canceled": .cancelled, "replaced": .cancelled,
            "expired": .expired, "rejected": .rejected, "suspended": .rejected,
        ]
        #expect(Set(expected.keys) == AlpacaOrder.statuses)
        for (status, ours) in expected {
            #expect(try AlpacaOrder(json: Self.json(status: status)).ourStatus == ours, "\(status)")
        }
        // A working order with something filled is partially filled, whatever the pending word.
        #expect(try AlpacaOrder(json: Self.json(status: "pending_cancel", extra: ["filled_qty": "5"])).ourStatus == .partiallyFilled)
    }

    @Test func numbersArriveAsStringsAndLegsAreNested() throws {
        let leg = Self.json(status: "held", extra: ["id": "leg-1", "type": "stop", "side": "sell", "stop_price": "98.50",
                                                    "limit_price": NSNull(), "client_order_id": "generated"])
        let o = try AlpacaOrder(json: Self.json(status: "filled", extra: [
            "order_class": "bracket", "filled_qty": "15", "filled_avg_price": "106.95", "legs": [leg]]))
        #expect(o.quantity == 15 && o.filledQuantity == 15 && o.filledAveragePrice == 106.95 && o.limitPrice == 107)
        #expect(o.createdAt == 1_615_919_881_942)
        #expect(o.legs.count == 1 && o.legs[0].legSuffix == "-sl" && o.legs[0].ourStatus == .accepted)
        let report = o.legs[0].report(as: "r-7-sl")
        #expect(report.clientOrderID == "r-7-sl" && report.venueOrderID == "leg-1" && report.side == .sell)
        let replaced = try AlpacaOrder(json: Self.json(status: "replaced", extra: ["replaced_by": "new-id"])).report(as: "r-7")
        #expect(replaced.status == .cancelled && replaced.reason == "replaced by new-id")
    }

    @Test func badFieldsAreNamed() {
        for (field, value, words) in [("qty", "ten" as Any, "'qty' is not a number"), ("status", "exploded", "unknown status"),
                                      ("side", "sideways", "has side"), ("filled_qty", "inf", "'filled_qty' is not a number"),
                                      ("limit_price", ["x"] as Any, "unexpected type")] {
            #expect(throws: VenueError.self) { try AlpacaOrder(json: Self.json(extra: [field: value])) }
            do { _ = try AlpacaOrder(json: Self.json(extra: [field: value])) } catch {
                #expect("\(error)".contains(words), "\(field): \(error)")
            }
        }
        var missing = Self.json()
        missing["id"] = nil
        #expect(throws: VenueError.invalidResponse("Alpaca order without 'id'")) { try AlpacaOrder(json: missing) }
    }

    @Test func theOrderBodyIsWrittenAsAlpacaWantsIt() {
        let bracket = OrderRequest(symbol: "AAPL", side: .buy, size: .units(10), kind: .limit(107.004), stopLoss: 98.456, takeProfit: 120.001)
        let b = AlpacaOrderBody.make(bracket, quantity: 10, clientOrderID: "r-1", prices: AlpacaPriceRule(assetClass: "us_equity"))
        #expect(b["order_class"] as? String == "bracket" && b["qty"] as? String == "10" && b["limit_price"] as? String == "107.00")
        #expect((b["stop_loss"] as? [String: String])?["stop_price"] == "98.46")
        #expect((b["take_profit"] as? [String: String])?["limit_price"] == "120.00")
        let oto = OrderRequest(symbol: "EURUSD", side: .sell, size: .units(1_234.5), stopLoss: 1.123456)
        let o = AlpacaOrderBody.make(oto, quantity: 1_234.5, clientOrderID: "r-2", prices: AlpacaPriceRule(assetClass: "us_equity", increment: 0.00001))
        #expect(o["order_class"] as? String == "oto" && o["qty"] as? String == "1234.5" && o["type"] as? String == "market")
        #expect((o["stop_loss"] as? [String: String])?["stop_price"] == "1.12346")
        #expect(AlpacaPriceRule(assetClass: "us_equity").text(0.51234) == "0.5123")          // sub-dollar: 4 decimals
        #expect(AlpacaPriceRule(assetClass: "crypto").text(43_210.123456789) == "43210.123456789")
        #expect(AlpacaOrderBody.decimal(1e-9) == "0.000000001" && AlpacaOrderBody.decimal(3) == "3")
    }

    @Test func theSDKShapedInitialiserPicksPaperOrLive() {
        #expect(AlpacaBroker(apiKey: "k", secretKey: "s").name == "alpaca-paper")
        #expect(AlpacaBroker(apiKey: "k", secretKey: "s", paper: false).name == "alpaca-live")
        #expect(AlpacaBroker(apiKey: "k", secretKey: "s", paper: false).configuration.resolvedTradingStreamURL == "wss://api.alpaca.markets/stream")
        var c = AlpacaConfiguration.fromEnvironment(["APCA_API_STREAM_URL": "ws://127.0.0.1:9", "ALPACA_FEED": "sip",
                                                      "ALPACA_REQUESTS_PER_MINUTE": "1000"])
        #expect(c.resolvedDataStreamURL(crypto: false) == "ws://127.0.0.1:9/v2/sip" && c.requestsPerMinute == 1000)
        c.tradingURL = "http://127.0.0.1:8080/"
        #expect(c.resolvedTradingStreamURL == "ws://127.0.0.1:8080/stream" && !c.isLiveTrading)
    }
}
