import Common
import Foundation
import MarketData
import Trading

/// What MetaTrader 5 adds to the `Venue` calls: changing a working order, an order by its ticket, the market clock,
/// and a position's stop loss / take profit.
extension MT5Broker {
    // MARK: Replace

    /// Changes a working pending order in place (`order_send` with `TRADE_ACTION_MODIFY`): its price — the limit
    /// price of a limit order, the stop price of a stop order, both of a stop-limit order — and its time in force
    /// (`gtc` or `day`). MetaTrader keeps the ticket, the `magic` and the `comment`, so the order keeps its client
    /// order id: `newClientOrderID` must equal `clientOrderID` (anything else is refused, in words, before any
    /// request). Its stop loss and take profit are sent unchanged (MetaTrader would clear them otherwise).
    ///
    /// Refused before sending: a volume change (MetaTrader cannot change a pending order's volume: cancel and submit
    /// anew), a price the order type does not have (a stop price on a limit order), `ioc`, a finished order. A change
    /// that changes nothing answers the order as it is (MetaTrader would answer 10025, no changes). The server's
    /// refusal (10015 invalid price, ...) is `VenueError.refused` with its return code — the order stands unchanged;
    /// account-wide conditions (10027 AutoTrading disabled, ...) map as for `submit`. After an ambiguous failure the
    /// order is read back: the change is reported done only if the order now has it.
    ///
    ///     let moved = try await broker.replace(clientOrderID: "robot-1", with: OrderChange(limitPrice: 1.0950),
    ///                                          newClientOrderID: "robot-1")   // same ticket, new price
    public func replace(clientOrderID: String, with change: OrderChange, newClientOrderID: String)
        async throws(VenueError) -> OrderReport
    {
        guard newClientOrderID == clientOrderID else {
            throw .refused("MetaTrader 5 modifies a pending order in place: it keeps its ticket and its client order id "
                           + "'\(clientOrderID)' (carried in the order's comment, which cannot change); replace it under "
                           + "the same id, or cancel it and submit a new order as "
                           + "'\(UntrustedText.sanitized(newClientOrderID, limit: 40))'")
        }
        try Self.check(clientOrderID)
        guard let record = try await workingRecord(clientOrderID) else {
            guard let report = try await find(clientOrderID) else { throw .unknownOrder(clientOrderID) }
            throw .refused("order \(clientOrderID) is \(report.status.rawValue): only a working pending order can be changed")
        }
        guard let ticket = Self.int(record["ticket"]), let symbol = record["symbol"] as? String,
              let type = Self.int(record["type"]), let price = Self.double(record["price_open"]),
              let initial = Self.double(record["volume_initial"]) else {
            throw .invalidResponse("order record for \(clientOrderID): missing ticket, symbol, type, price or volume")
        }
        let modify = try await modification(of: record, ticket: ticket, type: type, price: price,
                                            lots: initial, spec: self.symbol(symbol), change: change, clientOrderID: clientOrderID)
        guard let modify else { return try await order(clientOrderID: clientOrderID) }   // nothing to change

        switch try await orderSend(modify) {
        case .ambiguous(let error):
            Log.warning("mt5 order modification failed ambiguously; reading the order back", ["client_order_id": clientOrderID])
            if let now = try await workingRecord(clientOrderID), Self.matches(now, modify) {
                return try await announced(clientOrderID)
            }
            throw .connectivity("the change to order \(clientOrderID) was not confirmed (\(error)); the order stands unchanged")
        case .answered(.executed, _), .answered(.placed, _):
            return try await announced(clientOrderID)
        case .answered(.rejected(let reason), _):
            throw .refused("MetaTrader 5 did not modify order \(clientOrderID) (it stands unchanged): \(reason)")
        case .answered(.venueError(let error), _):
            throw error
        }
    }

    /// The `TRADE_ACTION_MODIFY` request for `change`, nil when it changes nothing; refusals in the user's words.
    private func modification(of record: [String: Any], ticket: Int, type: Int, price: Double, lots: Double,
                              spec: SymbolSpec, change: OrderChange, clientOrderID: String)
        throws(VenueError) -> [String: Any]?
    {
        if let quantity = change.quantity {
            let current = lots * spec.contractSize
            guard abs(quantity - current) <= 1e-9 * max(1, abs(current)) else {
                throw .refused("MetaTrader 5 cannot change the volume of a pending order (order \(clientOrderID): "
                               + "\(current) units, \(quantity) asked); cancel it and submit a new order")
            }
        }
        for (name, value) in [("limit price", change.limitPrice), ("stop price", change.stopPrice)] {
            if let value, !(value.isFinite && value > 0) {
                throw .refused("the new \(name) \(value) of order \(clientOrderID) is not a positive price")
            }
        }
        let stopLimit = Self.double(record["price_stoplimit"]) ?? 0
        var newPrice = price, newStopLimit = stopLimit
        switch type {
        case MT5Trade.typeBuyLimit, MT5Trade.typeSellLimit:
            if change.stopPrice != nil { throw .refused("order \(clientOrderID) is a limit order: it has no stop price") }
            newPrice = change.limitPrice ?? price
        case MT5Trade.typeBuyStop, MT5Trade.typeSellStop:
            if change.limitPrice != nil { throw .refused("order \(clientOrderID) is a stop order: it has no limit price") }
            newPrice = change.stopPrice ?? price
        case MT5Trade.typeBuyStopLimit, MT5Trade.typeSellStopLimit:
            newPrice = change.stopPrice ?? price
            newStopLimit = change.limitPrice ?? stopLimit
        default:
            throw .refused("order \(clientOrderID) is a market order being executed: it cannot be changed")
        }
        let typeTime = Self.int(record["type_time"]) ?? MT5Trade.timeGTC
        var newTypeTime = typeTime
        switch change.timeInForce {
        case nil: break
        case .gtc: newTypeTime = MT5Trade.timeGTC
        case .day: newTypeTime = MT5Trade.timeDay
        case .ioc: throw .refused("MT5 pending orders cannot be immediate-or-cancel (use gtc or day)")
        }
        guard newPrice != price || newStopLimit != stopLimit || newTypeTime != typeTime else { return nil }
        var request: [String: Any] = [
            "action": MT5Trade.actionModify, "order": ticket, "price": newPrice,
            "sl": Self.double(record["sl"]) ?? 0, "tp": Self.double(record["tp"]) ?? 0,
            "type_time": newTypeTime, "type_filling": Self.int(record["type_filling"]) ?? MT5Trade.fillingReturn,
        ]
        if type == MT5Trade.typeBuyStopLimit || type == MT5Trade.typeSellStopLimit { request["stoplimit"] = newStopLimit }
        // A specified expiration (ORDER_TIME_SPECIFIED / _SPECIFIED_DAY) is kept while the time type is.
        if newTypeTime == typeTime, newTypeTime >= MT5Trade.timeSpecified, let expiration = Self.int(record["time_expiration"]) {
            request["expiration"] = expiration
        }
        return request
    }

    /// Whether a working order's record shows the modification (read back after an ambiguous failure).
    private static func matches(_ record: [String: Any], _ modify: [String: Any]) -> Bool {
        double(record["price_open"]) == double(modify["price"]) && int(record["type_time"]) == int(modify["type_time"])
            && (modify["stoplimit"] == nil || double(record["price_stoplimit"]) == double(modify["stoplimit"]))
    }

    /// The order's state now, published to the update stream (the broker changed it).
    private func announced(_ clientOrderID: String) async throws(VenueError) -> OrderReport {
        let report = try await order(clientOrderID: clientOrderID)
        announce(report, modified: true)
        return report
    }

    // MARK: Order by ticket

    /// One of our orders by its MetaTrader ticket: the working orders, then the history (with its deals). An order
    /// that is not ours (another expert's, typed by hand) is reported unknown, as one that does not exist.
    public func order(venueOrderID: String) async throws(VenueError) -> OrderReport {
        guard let ticket = Int(venueOrderID), ticket > 0 else {
            throw .refused("'\(UntrustedText.sanitized(venueOrderID, limit: 40))' is not an MT5 order ticket (a positive integer)")
        }
        let working = try await records("orders_get", ["ticket": ticket], key: "orders")
        if let record = working.first(where: { Self.int($0["ticket"]) == ticket }) {
            if let report = try await report(record, deals: []) { return report }
            throw .unknownOrder("ticket \(ticket) (an order of another expert or placed by hand)")
        }
        guard let report = try await historyOrder(ticket: ticket) else { throw .unknownOrder("ticket \(ticket)") }
        return report
    }

    /// A finished order of ours by ticket, with its average fill price from its deals; nil when the history has no
    /// such order or it is not ours.
    func historyOrder(ticket: Int) async throws(VenueError) -> OrderReport? {
        let past = try await records("history_orders_get", ["ticket": ticket], key: "orders")
        guard let record = past.first(where: { Self.int($0["ticket"]) == ticket }) else { return nil }
        return try await report(record, deals: records("history_deals_get", ["ticket": ticket], key: "deals"))
    }

    // MARK: Clock

    /// The market clock of `options.marketSymbol` (the clock symbol, else the first quote symbol), from the bridge's
    /// `clock`: `time` is the symbol's last tick in UTC (server time converted with `serverTimeZone`), and the market
    /// is open when the terminal is connected to the trade server, the symbol's trade mode lets positions open (full,
    /// long only, short only) and the last tick is at most `staleQuoteAfter` old. MetaTrader's Python package has no
    /// session calendar, so `nextOpen` / `nextClose` are nil.
    ///
    ///     let clock = try await broker.clock()     // MarketClock(time: last EURUSD tick, isOpen: true)
    public func clock() async throws(VenueError) -> MarketClock {
        guard let symbol = options.marketSymbol else {
            throw .refused("MetaTrader 5 has no market-wide clock: set the broker's clock symbol (or a quote symbol), "
                           + "whose last tick and trading mode tell whether its market is open")
        }
        let box = ParamsBox(["symbol": symbol])
        let info = try await call { () async throws(SourceError) in try await source.call("clock", box: box) }
        guard let tick = Self.int(info["time_ms"]), let mode = Self.int(info["trade_mode"]) else {
            throw .invalidResponse("clock for \(symbol): missing time_ms or trade_mode")
        }
        guard UTCTime.supportedRange.contains(Int64(tick)) else {
            throw .invalidResponse("clock for \(symbol): time_ms \(tick) is outside years 1-9999")
        }
        let time = source.configuration.serverTimeZone.utc(fromLocal: Int64(tick))
        let connected = info["connected"] as? Bool ?? false
        let opens = [MT5Trade.symbolTradeFull, MT5Trade.symbolTradeLongOnly, MT5Trade.symbolTradeShortOnly].contains(mode)
        let fresh = tick > 0 && Double(now() - time) <= options.staleQuoteAfter * 1000
        return MarketClock(time: time, isOpen: connected && opens && fresh)
    }

    // MARK: Protection

    /// Moves the stop loss and take profit of our position in `symbol` (`order_send` with `TRADE_ACTION_SLTP`, both
    /// `symbol` and `position` sent, as netting and hedging accounts need). nil keeps a level, 0 removes it (as in
    /// MetaTrader). Refused in words: no position of ours there, several (a hedging account: say which is meant by
    /// closing the others), or the server's refusal (10016 invalid stops: a stop on the wrong side of the market...).
    /// Answers the levels the position has now (0 = none).
    ///
    ///     try await broker.setProtection(symbol: "EURUSD", stopLoss: 1.0950, takeProfit: nil)   // trail the stop
    public func setProtection(symbol: String, stopLoss: Double?, takeProfit: Double?)
        async throws(VenueError) -> (stopLoss: Double, takeProfit: Double)
    {
        for (name, value) in [("stop loss", stopLoss), ("take profit", takeProfit)] {
            if let value, !(value.isFinite && value >= 0) {
                throw .refused("the \(name) \(value) for \(symbol) is not a price (0 removes it)")
            }
        }
        let ours = try await records("positions_get", ["symbol": symbol], key: "positions").filter {
            Self.isOurs($0) && $0["symbol"] as? String == symbol
        }
        guard let position = ours.first, let ticket = Self.int(position["ticket"]) else {
            throw .refused("no \(symbol) position opened by AITrader to protect")
        }
        guard ours.count == 1 else {
            throw .refused("\(ours.count) \(symbol) positions opened by AITrader (a hedging account): close all but one first")
        }
        let current = (Self.double(position["sl"]) ?? 0, Self.double(position["tp"]) ?? 0)
        let wanted = (stopLoss ?? current.0, takeProfit ?? current.1)
        guard wanted != current else { return (current.0, current.1) }
        let request: [String: Any] = ["action": MT5Trade.actionSLTP, "symbol": symbol, "position": ticket,
                                      "sl": wanted.0, "tp": wanted.1]
        switch try await orderSend(request) {
        case .ambiguous(let error):
            throw .connectivity("the new stop loss / take profit of \(symbol) were not confirmed (\(error)); "
                                + "read the position before trying again")
        case .answered(.executed, _), .answered(.placed, _):
            return (wanted.0, wanted.1)
        case .answered(.rejected(let reason), _):
            throw .refused("MetaTrader 5 kept the \(symbol) position's stop loss / take profit: \(reason)")
        case .answered(.venueError(let error), _):
            throw error
        }
    }
}
