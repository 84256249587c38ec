import Trading

/// MetaTrader 5's trade constants as the `MetaTrader5` package defines them (MQL5 reference: "Trade Operation
/// Types", "Order Properties", "Trade Server Return Codes"), and what each return code means for an order we sent.
///
///     MT5Retcode.outcome(10009) == .executed          // TRADE_RETCODE_DONE
///     MT5Retcode.outcome(10027) == .venueError(...)   // AutoTrading disabled in the terminal: no order will pass
enum MT5Trade {
    static let actionDeal = 1, actionPending = 5, actionSLTP = 6, actionModify = 7, actionRemove = 8
    static let typeBuy = 0, typeSell = 1, typeBuyLimit = 2, typeSellLimit = 3, typeBuyStop = 4, typeSellStop = 5
    static let typeBuyStopLimit = 6, typeSellStopLimit = 7
    static let fillingFOK = 0, fillingIOC = 1, fillingReturn = 2
    static let timeGTC = 0, timeDay = 1, timeSpecified = 2, timeSpecifiedDay = 3
    /// `SYMBOL_TRADE_MODE_*`: what the server lets this symbol do now.
    static let symbolTradeDisabled = 0, symbolTradeLongOnly = 1, symbolTradeShortOnly = 2, symbolTradeCloseOnly = 3
    static let symbolTradeFull = 4
    /// `SYMBOL_FILLING_FOK` / `SYMBOL_FILLING_IOC` bits of `symbol_info().filling_mode`.
    static let symbolFillingFOK = 1, symbolFillingIOC = 2
    static let dealBuy = 0, dealSell = 1
    static let positionBuy = 0

    /// `ORDER_STATE_*` -> our order status.
    static func status(state: Int, filledLots: Double) -> OrderStatus {
        switch state {
        case 0: .new                                           // STARTED: checked, not yet accepted
        case 1: filledLots > 0 ? .partiallyFilled : .accepted  // PLACED
        case 2: .cancelled                                     // CANCELED
        case 3: .partiallyFilled                               // PARTIAL
        case 4: .filled                                        // FILLED
        case 5: .rejected                                      // REJECTED
        case 6: .expired                                       // EXPIRED
        default: .accepted                                     // REQUEST_ADD / _MODIFY / _CANCEL: in flight
        }
    }
}

/// What an `order_send` return code means.
enum MT5Retcode {
    enum Outcome: Equatable {
        /// 10009 DONE / 10010 DONE_PARTIAL: executed (wholly or partly).
        case executed
        /// 10008 PLACED: a pending order now rests at the server.
        case placed
        /// The server refused this order (bad volume, price, stops, no money, requote...): a rejected report.
        case rejected(String)
        /// Not about this order: the terminal or account cannot trade now (AutoTrading off, no connection, too many
        /// requests): an error the robot's breakers count.
        case venueError(VenueError)
    }

    static let names: [Int: String] = [
        10004: "requote", 10006: "request rejected", 10007: "request canceled by trader", 10008: "order placed",
        10009: "request completed", 10010: "only part of the request was completed", 10011: "request processing error",
        10012: "request canceled by timeout", 10013: "invalid request", 10014: "invalid volume",
        10015: "invalid price", 10016: "invalid stops", 10017: "trade is disabled", 10018: "market is closed",
        10019: "not enough money", 10020: "prices changed", 10021: "no quotes to process the request",
        10022: "invalid order expiration date", 10023: "order state changed", 10024: "too frequent requests",
        10025: "no changes in request", 10026: "autotrading disabled by server",
        10027: "autotrading disabled by client terminal", 10028: "request locked for processing",
        10029: "order or position frozen", 10030: "invalid order filling type", 10031: "no connection with the trade server",
        10032: "operation is allowed only for live accounts", 10033: "pending orders limit reached",
        10034: "order/position volume limit for the symbol reached", 10035: "incorrect or prohibited order type",
        10036: "position already closed", 10038: "close volume exceeds the position volume",
        10039: "a close order already exists for this position", 10040: "open positions limit reached",
        10041: "pending order activation rejected", 10042: "only long positions allowed",
        10043: "only short positions allowed", 10044: "only position closing allowed",
        10045: "position closing allowed only by FIFO rule", 10046: "opposite positions prohibited (hedging disabled)",
    ]

    /// "retcode 10019 (not enough money): No money" — the code, MetaQuotes' meaning, the server's comment.
    static func describe(_ code: Int, comment: String) -> String {
        "retcode \(code) (\(names[code] ?? "unknown return code"))" + (comment.isEmpty ? "" : ": \(comment)")
    }

    static func outcome(_ code: Int, comment: String) -> Outcome {
        let text = describe(code, comment: comment)
        switch code {
        case 10009, 10010: return .executed
        case 10008: return .placed
        case 10027: return .venueError(.refused("\(text); enable AutoTrading (Algo Trading) in the MetaTrader 5 terminal"))
        case 10026: return .venueError(.refused("\(text); the broker's server does not allow expert trading on this account"))
        case 10017, 10032: return .venueError(.refused(text))
        case 10024: return .venueError(.rateLimited(retryAfterMs: 1_000))
        case 10031, 10011, 10028: return .venueError(.connectivity(text))
        default: return .rejected(text)
        }
    }
}
