import Common
import Foundation
import Trading

/// One order as Alpaca's Trading API v2 writes it (REST responses and the `order` of a `trade_updates` event):
/// numbers arrive as strings (`"qty": "10"`, `"filled_avg_price": null`), times as RFC 3339 with nanoseconds, and
/// a bracket's exit orders nested in `legs` (with `nested=true`).
///
///     let order = try AlpacaOrder(json: object)          // object: [String: Any] from JSONSerialization
///     order.status                                        // "partially_filled"
///     order.ourStatus                                     // .partiallyFilled
struct AlpacaOrder: Sendable, Equatable {
    var id: String
    var clientOrderID: String
    var symbol: String
    var side: OrderSide
    /// market, limit, stop, stop_limit, trailing_stop.
    var type: String
    /// simple, bracket, oco, oto ("" when absent).
    var orderClass: String
    /// Alpaca's status word, one of `AlpacaOrder.statuses`.
    var status: String
    var quantity: Double?
    var notional: Double?
    var filledQuantity: Double
    var filledAveragePrice: Double?
    var limitPrice: Double?
    var stopPrice: Double?
    var timeInForce: String
    var createdAt: Int64
    var updatedAt: Int64
    var replacedBy: String?
    var legs: [AlpacaOrder]

    /// Alpaca's 18 order statuses (docs: "Order Lifecycle").
    static let statuses: Set<String> = [
        "new", "partially_filled", "filled", "done_for_day", "canceled", "expired", "replaced", "pending_cancel",
        "pending_replace", "accepted", "pending_new", "accepted_for_bidding", "stopped", "rejected", "suspended",
        "calculated", "held", "pending_review",
    ]

    init(json o: [String: Any]) throws(VenueError) {
        func text(_ key: String) throws(VenueError) -> String {
            guard let v = o[key] as? String, !v.isEmpty else { throw .invalidResponse("Alpaca order without '\(key)'") }
            return v
        }
        id = try text("id")
        clientOrderID = (o["client_order_id"] as? String) ?? ""
        symbol = try text("symbol")
        switch try text("side") {
        case "buy": side = .buy
        case "sell", "sell_short": side = .sell
        case let s: throw .invalidResponse("Alpaca order \(id) has side '\(UntrustedText.sanitized(s, limit: 20))'")
        }
        type = (o["type"] as? String) ?? (o["order_type"] as? String) ?? "market"
        orderClass = (o["order_class"] as? String) ?? ""
        status = try text("status")
        guard Self.statuses.contains(status) else {
            throw .invalidResponse("Alpaca order \(id) has unknown status '\(UntrustedText.sanitized(status, limit: 30))'")
        }
        quantity = try Self.number(o["qty"], "qty")
        notional = try Self.number(o["notional"], "notional")
        filledQuantity = try Self.number(o["filled_qty"], "filled_qty") ?? 0
        filledAveragePrice = try Self.number(o["filled_avg_price"], "filled_avg_price")
        limitPrice = try Self.number(o["limit_price"], "limit_price")
        stopPrice = try Self.number(o["stop_price"], "stop_price")
        timeInForce = (o["time_in_force"] as? String) ?? "day"
        createdAt = Self.time(o["created_at"]) ?? Self.time(o["submitted_at"]) ?? 0
        updatedAt = Self.time(o["updated_at"]) ?? createdAt
        replacedBy = o["replaced_by"] as? String
        var legs: [AlpacaOrder] = []
        for case let leg as [String: Any] in (o["legs"] as? [Any]) ?? [] { legs.append(try AlpacaOrder(json: leg)) }
        self.legs = legs
    }

    /// A decimal that Alpaca writes as a string (or, leniently, a JSON number); nil for null or absent.
    static func number(_ value: Any?, _ field: String) throws(VenueError) -> Double? {
        switch value {
        case nil, is NSNull: return nil
        case let s as String:
            guard let v = Double(s), v.isFinite else {
                throw .invalidResponse("Alpaca field '\(field)' is not a number: '\(UntrustedText.sanitized(s, limit: 40))'")
            }
            return v
        case let n as NSNumber:
            let v = n.doubleValue
            guard v.isFinite else { throw .invalidResponse("Alpaca field '\(field)' is not finite") }
            return v
        default:
            throw .invalidResponse("Alpaca field '\(field)' has an unexpected type")
        }
    }

    static func time(_ value: Any?) -> Int64? { (value as? String).flatMap { UTCTime.parse($0) } }

    /// Our status for Alpaca's: working states are `accepted` (a bracket's `held` leg too), `replaced` ends the
    /// order as cancelled (its replacement carries on), `done_for_day` keeps working (it resumes next session).
    var ourStatus: OrderStatus {
        switch status {
        case "filled": .filled
        case "partially_filled": .partiallyFilled
        case "canceled", "replaced": .cancelled
        case "expired": .expired
        case "rejected", "suspended": .rejected
        // new, accepted, pending_new, held, pending_cancel, pending_replace, done_for_day, stopped, calculated, ...
        default: filledQuantity > 0 ? .partiallyFilled : .accepted
        }
    }

    /// The report under `clientOrderID` (ours for the parent; `<parent>-sl` / `<parent>-tp` for bracket legs).
    func report(as clientOrderID: String) -> OrderReport {
        OrderReport(clientOrderID: clientOrderID, venueOrderID: id, symbol: symbol, side: side, status: ourStatus,
                    quantity: quantity, filledQuantity: filledQuantity, averageFillPrice: filledAveragePrice ?? 0,
                    reason: status == "replaced" ? "replaced by \(replacedBy ?? "a new order")"
                        : ourStatus == .cancelled || ourStatus == .rejected || ourStatus == .expired ? "alpaca: \(status)" : nil,
                    time: updatedAt)
    }

    /// `-sl` for a leg that is a stop (the stop-loss), `-tp` for a limit (the take-profit).
    var legSuffix: String { type == "stop" || type == "stop_limit" || type == "trailing_stop" ? "-sl" : "-tp" }
}

/// How an asset's prices must be written: its `price_increment` when Alpaca gives one (crypto), else whole cents at
/// $1 and above and 4 decimals below for US equities (Alpaca refuses sub-penny increments there), else as they are.
struct AlpacaPriceRule: Sendable, Equatable {
    var assetClass: String
    var increment: Double?

    func text(_ p: Double) -> String {
        if let increment, increment > 0, increment.isFinite {
            let decimals = max(0, min(9, Int((-log10(increment)).rounded(.up))))
            return String(format: "%.\(decimals)f", (p / increment).rounded() * increment)
        }
        if assetClass == "us_equity" { return String(format: p >= 1 ? "%.2f" : "%.4f", p) }
        return AlpacaOrderBody.decimal(p)
    }
}

/// The JSON body of `POST /v2/orders` for one of our requests: `qty` as a decimal string, prices as the asset's
/// `AlpacaPriceRule` writes them, and a bracket (`order_class`
/// `bracket` with `take_profit.limit_price` and `stop_loss.stop_price`) when both exits are set, `oto` when one is.
enum AlpacaOrderBody {
    static func make(_ r: OrderRequest, quantity: Double, clientOrderID: String, prices: AlpacaPriceRule) -> [String: Any] {
        let price = { (p: Double) in prices.text(p) }
        var body: [String: Any] = [
            "symbol": r.symbol, "qty": decimal(quantity), "side": r.side.rawValue,
            "time_in_force": r.timeInForce.rawValue, "client_order_id": clientOrderID,
        ]
        switch r.kind {
        case .market: body["type"] = "market"
        case .limit(let p):
            body["type"] = "limit"
            body["limit_price"] = price(p)
        case .stop(let p):
            body["type"] = "stop"
            body["stop_price"] = price(p)
        case .stopLimit(let stop, let limit):
            body["type"] = "stop_limit"
            body["stop_price"] = price(stop)
            body["limit_price"] = price(limit)
        }
        if let tp = r.takeProfit { body["take_profit"] = ["limit_price": price(tp)] }
        if let sl = r.stopLoss { body["stop_loss"] = ["stop_price": price(sl)] }
        if r.takeProfit != nil || r.stopLoss != nil {
            body["order_class"] = r.takeProfit != nil && r.stopLoss != nil ? "bracket" : "oto"
        }
        return body
    }

    /// A quantity as Alpaca wants it: a plain decimal string, at most 9 fractional digits, no exponent.
    static func decimal(_ v: Double) -> String {
        var s = String(format: "%.9f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

}
