import Common
import MarketData

/// SimulationMode's broker: keeps the order book, fills orders against bars with the configured execution models,
/// and books the results in an `Account`.
///
/// The backtester drives it bar by bar: for each symbol's new bar it calls `process(symbol:bar:index:atr:)`
/// (fills whatever became fillable during that bar, in submission order, bracket children after their parent),
/// then `mark(symbol:price:)` with the close, then lets the strategy submit new orders with `decisionTime` set to
/// the bar's close time. An order is only eligible for bars that open at or after `decisionTime + latency`, so
/// a decision can never trade on the bar it was made on.
///
/// Fill rules (`OrderKind`): market at the open; limit at the limit or the better open; stop at the stop or the
/// worse open on a gap; stop-limit as a limit once triggered. Slippage worsens market and stop fills.
/// Bracket children (stop-loss = stop order, take-profit = limit order) are one-cancels-other; when both lie
/// inside one bar the `IntrabarPolicy` decides (pessimistic: the stop-loss).
public struct SimulatedBroker: OrderRouting, Sendable {
    public private(set) var account: Account { didSet { version &+= 1 } }
    public let models: ExecutionModels
    public private(set) var orders: [Order] = [] { didSet { version &+= 1 } }
    /// Changes whenever the books or any order change (runners re-sync their portfolio view only then).
    public private(set) var version = 0
    public private(set) var fills: [Fill] = []
    /// Indices into `orders` of the orders still working, oldest first.
    private var working: [Int] = []
    /// Latest price per symbol (the last bar's close, or the open while a bar is being processed).
    public var marks: [String: Double] {
        var d: [String: Double] = [:]
        for (i, m) in slotMarks.enumerated() where !m.isNaN { d[account.slotSymbols[i]] = m }
        return d
    }
    /// Latest price per account slot (NaN before the first).
    public private(set) var slotMarks: [Double] = []
    /// The time strategy decisions are stamped with (the close time of the bar being handed to the strategy).
    public var decisionTime: Int64 = 0
    /// The session day of a time, for `TimeInForce.day` (defaults to the UTC date).
    public var sessionDay: @Sendable (String, Int64) -> Int64 = { _, t in UTCTime.floorDiv(t, UTCTime.msPerDay) }
    private var lastBarTime: [String: Int64] = [:]

    public init(cash: Double, models: ExecutionModels) {
        account = Account(cash: cash, commission: models.commission, leverage: models.maxLeverage)
        self.models = models
    }

    // MARK: OrderRouting

    public var equity: Double { account.equity(slotMarks: slotMarks) }
    public var cash: Double { account.cash }
    public func positionSize(_ symbol: String) -> Double { account.positionSize(symbol) }
    public var workingOrders: [Order] { working.map { orders[$0] } }
    public var hasWorkingOrders: Bool { !working.isEmpty }

    @discardableResult
    public mutating func submit(_ request: OrderRequest) -> Int {
        let id = orders.count
        var order = Order(id: id, request: request, submittedAt: decisionTime,
                          activeFrom: models.latency.activeFrom(decisionTime: decisionTime))
        if let reason = validate(request) {
            try! order.transition(to: .rejected, at: decisionTime, reason: reason)
            orders.append(order)
            return id
        }
        if case .units(let u) = request.size { order.quantity = u }
        try! order.transition(to: .accepted, at: decisionTime)
        orders.append(order)
        working.append(id)
        return id
    }

    public mutating func cancel(orderID: Int) {
        cancel(orderID, reason: .userCancelled, at: decisionTime)
    }

    private func validate(_ r: OrderRequest) -> OrderReason? {
        switch r.size {
        case .units(let u) where !(u > 0 && u.isFinite): return .invalidSize
        case .equityFraction(let f) where !(f > 0 && f <= 1): return .invalidSize
        default: break
        }
        let prices: [Double?]
        switch r.kind {
        case .market: prices = []
        case .limit(let p), .stop(let p): prices = [p]
        case .stopLimit(let s, let l): prices = [s, l]
        }
        for p in prices + [r.stopLoss, r.takeProfit] {
            if let p, !(p > 0 && p.isFinite) { return .invalidPrice }
        }
        if let sl = r.stopLoss, let tp = r.takeProfit {
            if r.side == .buy ? !(sl < tp) : !(tp < sl) { return .invalidPrice }
        }
        return nil
    }

    // MARK: Bar processing

    /// Updates the mark of `symbol` (called with each bar's close by the backtester).
    public mutating func mark(symbol: String, price: Double) { mark(slot: slot(for: symbol), price: price) }

    @inline(__always)
    public mutating func mark(slot: Int, price: Double) { slotMarks[slot] = price }

    /// The account slot of `symbol` (dense index for per-bar work without hashing).
    public mutating func slot(for symbol: String) -> Int {
        let s = account.slot(for: symbol)
        while slotMarks.count <= s { slotMarks.append(.nan) }
        return s
    }

    private func markOr(_ symbol: String, _ fallback: Double) -> Double {
        guard let s = account.existingSlot(symbol), s < slotMarks.count, !slotMarks[s].isNaN else { return fallback }
        return slotMarks[s]
    }

    /// Whether `process` has anything to do (working orders, or financing to accrue).
    public var needsBars: Bool { !working.isEmpty || models.financing != nil }

    /// Fills what `bar` makes fillable for `symbol`'s working orders. `index` is the bar's index in the symbol's
    /// series (recorded on trades), `atr` the ATR of the bars before this one (for ATR slippage).
    public mutating func process(symbol: String, bar: Bar, index: Int, atr: Double? = nil) {
        if let financing = models.financing {
            if let previous = lastBarTime[symbol] {
                let n = financing.rollovers(from: previous, to: bar.timestamp)
                account.chargeFinancing(symbol: symbol, model: financing, price: markOr(symbol, bar.open), rollovers: n)
            }
            lastBarTime[symbol] = bar.timestamp
        }
        guard !working.isEmpty else { return }
        mark(symbol: symbol, price: bar.open)
        // A snapshot in submission order, extended by orders created while processing (bracket children may fill
        // in the bar their parent filled in); orders finished meanwhile (OCO siblings) are skipped.
        var queue = working
        var q = 0
        while q < queue.count {
            let i = queue[q]
            q += 1
            let o = orders[i]
            guard o.status.isWorking, o.request.symbol == symbol, o.activeFrom <= bar.timestamp else { continue }
            if o.request.timeInForce == .day, sessionDay(symbol, bar.timestamp) != sessionDay(symbol, o.submittedAt) {
                finish(i, .expired, reason: .sessionEnded, at: bar.timestamp)
                continue
            }
            let created = orders.count
            execute(i, bar: bar, index: index, atr: atr)
            if orders[i].request.timeInForce == .ioc, orders[i].status.isWorking {
                finish(i, .cancelled, reason: .immediateOrCancel, at: bar.timestamp)
            }
            if orders.count > created { queue += created..<orders.count }
        }
    }

    /// Fills one order against `bar` if its conditions are met.
    private mutating func execute(_ i: Int, bar: Bar, index: Int, atr: Double?) {
        let o = orders[i]
        let side = o.request.side
        let isChild = o.parentID != nil
        let filled = fillPrice(o, bar: bar, isChild: isChild)
        if case .stopLimit(let stop, _) = o.request.kind, !o.stopTriggered,
           side == .buy ? bar.high >= stop : bar.low <= stop {
            orders[i].stopTriggered = true   // from now on it works as a limit order
        }
        guard let (reference, slip) = filled else { return }
        let price = slip ? models.slippage.price(reference, side: side, atr: atr) : reference

        if isChild {
            // A bracket child closes exactly its lot.
            let siblings = account.closeLot(symbol: o.request.symbol, bracketOrderID: o.id, price: price,
                                            time: bar.timestamp, bar: index,
                                            reason: o.request.tag ?? "bracket")
            let units = abs(orders[i].quantity ?? 0)
            recordFill(i, units: units, price: price, bar: bar, index: index)
            for s in siblings { cancel(s, reason: .ocoSibling, at: bar.timestamp) }
            return
        }

        // Size the order.
        let symbol = o.request.symbol
        let position = account.positionSize(symbol)
        var quantity: Double
        switch o.request.size {
        case .units(let u): quantity = u - o.filledQuantity
        case .closePosition:
            guard position != 0, (position > 0) != (side == .buy) else {
                finish(i, .cancelled, reason: .noPosition, at: bar.timestamp)
                return
            }
            quantity = abs(position)
            orders[i].quantity = o.filledQuantity + quantity
        case .equityFraction(let f):
            if let q = o.quantity {
                quantity = q - o.filledQuantity
            } else {
                // Sized from the margin available now (as backtesting.py does: a strategy that wants to reverse
                // closes first, so the close's proceeds count), then netted against any opposite position.
                let units = account.affordableUnits(fraction: f, price: price,
                                                    marginAvailable: account.marginAvailable(slotMarks: slotMarks))
                guard units > 0 else {
                    finish(i, .rejected, reason: .insufficientMargin, at: bar.timestamp)
                    return
                }
                quantity = units
                orders[i].quantity = units
            }
        }
        if let cap = models.maxVolumeParticipation, bar.volume > 0 {
            var allowed = cap * bar.volume
            if quantity == quantity.rounded() { allowed = allowed.rounded(.down) }
            quantity = min(quantity, allowed)
            if quantity <= 0 { return }
        }

        // Net against the opposite position first (FIFO), then open with the remainder.
        var remaining = quantity
        var cancelled: [Int] = []
        if position != 0, (position > 0) != (side == .buy) {
            let r = account.reduce(symbol: symbol, units: min(remaining, abs(position)), price: price,
                                   time: bar.timestamp, bar: index, reason: o.request.tag ?? "signal")
            remaining -= r.closed
            cancelled = r.bracketIDs
        }
        if remaining > 0 {
            let perUnit = price + account.commission.commission(units: remaining, price: price) / remaining
            if remaining * perUnit > account.marginAvailable(slotMarks: slotMarks) * account.leverage {
                for c in cancelled { cancel(c, reason: .positionClosed, at: bar.timestamp) }
                if quantity - remaining > 0 {
                    recordFill(i, units: quantity - remaining, price: price, bar: bar, index: index)
                }
                if orders[i].status.isWorking {
                    finish(i, orders[i].status == .accepted ? .rejected : .cancelled, reason: .insufficientMargin,
                           at: bar.timestamp)
                }
                return
            }
            account.open(symbol: symbol, size: side.sign * remaining, price: price, time: bar.timestamp, bar: index,
                         tag: o.request.tag)
            if o.request.stopLoss != nil || o.request.takeProfit != nil {
                attachBracket(parent: i, units: remaining, bar: bar, intrabar: reference != bar.open)
            }
        }
        for c in cancelled { cancel(c, reason: .positionClosed, at: bar.timestamp) }
        recordFill(i, units: quantity, price: price, bar: bar, index: index)
    }

    /// The reference price at which order `o` fills in `bar`, and whether slippage applies; nil if it doesn't fill.
    private func fillPrice(_ o: Order, bar: Bar, isChild: Bool) -> (Double, Bool)? {
        let buy = o.request.side == .buy
        if isChild, o.entryIntrabar, o.submittedAt == bar.timestamp {
            // The parent filled inside this bar: only the part of the range after the entry is known to follow it,
            // and bars do not say which part that is. Pessimistic / bar direction: only the stop-loss may fill
            // (at its price); optimistic: only the take-profit.
            let isStop: Bool
            let p: Double
            switch o.request.kind {
            case .stop(let x): isStop = true; p = x
            case .limit(let x): isStop = false; p = x
            default: return nil
            }
            guard isStop == (models.intrabar != .optimistic) else { return nil }
            let touched = isStop ? (buy ? bar.high >= p : bar.low <= p) : (buy ? bar.low <= p : bar.high >= p)
            return touched ? (p, isStop) : nil
        }
        switch o.request.kind {
        case .market:
            return (bar.open, true)
        case .limit(let p):
            if buy ? bar.open <= p : bar.open >= p { return (bar.open, false) }
            if buy ? bar.low <= p : bar.high >= p {
                if isChild, !childMayFill(o, bar: bar) { return nil }
                return (p, false)
            }
            return nil
        case .stop(let p):
            if buy ? bar.open >= p : bar.open <= p { return (bar.open, true) }
            if buy ? bar.high >= p : bar.low <= p {
                if isChild, !childMayFill(o, bar: bar) { return nil }
                return (p, true)
            }
            return nil
        case .stopLimit(let s, let l):
            var triggeredAt: Double
            if o.stopTriggered {
                triggeredAt = bar.open
            } else if buy ? bar.open >= s : bar.open <= s {
                triggeredAt = bar.open
            } else if buy ? bar.high >= s : bar.low <= s {
                triggeredAt = s
            } else {
                return nil
            }
            // At the trigger moment the price is `triggeredAt`; fill there if it satisfies the limit.
            if buy ? triggeredAt <= l : triggeredAt >= l { return (triggeredAt, false) }
            // Otherwise the limit must be reached after the trigger within this bar: an intrabar-order question.
            let reachable = buy ? bar.low <= l : bar.high >= l
            guard reachable else { return nil }
            if triggeredAt == bar.open { return (l, false) }
            switch models.intrabar {
            case .pessimistic: return nil
            case .optimistic: return (l, false)
            case .barDirection:
                let up = bar.close >= bar.open   // up bar: open → low → high → close
                return (buy ? !up : up) ? (l, false) : nil
            }
        }
    }

    /// For a bracket child whose price lies inside the bar (no gap): may it fill, given its OCO sibling may too?
    private func childMayFill(_ o: Order, bar: Bar) -> Bool {
        guard let sid = o.ocoSiblingID, orders[sid].status.isWorking else { return true }
        let sibling = orders[sid]
        let siblingHit: Bool
        switch sibling.request.kind {
        case .stop(let p), .limit(let p):
            siblingHit = sibling.request.side == .buy ? bar.high >= p : bar.low <= p
            if case .limit = sibling.request.kind {
                let limitHit = sibling.request.side == .buy ? bar.low <= p : bar.high >= p
                return resolve(o, siblingHit: limitHit, bar: bar)
            }
        default: siblingHit = false
        }
        return resolve(o, siblingHit: siblingHit, bar: bar)
    }

    private func resolve(_ o: Order, siblingHit: Bool, bar: Bar) -> Bool {
        guard siblingHit else { return true }
        let isStopLoss: Bool
        if case .stop = o.request.kind { isStopLoss = true } else { isStopLoss = false }
        switch models.intrabar {
        case .pessimistic: return isStopLoss
        case .optimistic: return !isStopLoss
        case .barDirection:
            // Long lot (children sell): up bar visits the low (stop-loss) first; short lot: the high first.
            let up = bar.close >= bar.open
            let stopFirst = o.request.side == .sell ? up : !up
            return isStopLoss == stopFirst
        }
    }

    /// Creates the stop-loss and take-profit children of parent order `i` for a lot of `units`.
    private mutating func attachBracket(parent i: Int, units: Double, bar: Bar, intrabar: Bool) {
        let p = orders[i].request
        let exitSide = p.side.opposite
        var ids: [Int] = []
        var slID: Int?, tpID: Int?
        let saved = decisionTime
        // Children work from the parent's fill onwards (same bar allowed, see `childMayFill`).
        decisionTime = bar.timestamp
        if let sl = p.stopLoss {
            slID = submitChild(OrderRequest(symbol: p.symbol, side: exitSide, size: .units(units), kind: .stop(sl),
                                            tag: "stop_loss"), parent: i, bar: bar, intrabar: intrabar)
            ids.append(slID!)
        }
        if let tp = p.takeProfit {
            tpID = submitChild(OrderRequest(symbol: p.symbol, side: exitSide, size: .units(units), kind: .limit(tp),
                                            tag: "take_profit"), parent: i, bar: bar, intrabar: intrabar)
            ids.append(tpID!)
        }
        decisionTime = saved
        if let a = slID, let b = tpID {
            orders[a].ocoSiblingID = b
            orders[b].ocoSiblingID = a
        }
        account.attachBracket(symbol: p.symbol, stopLoss: slID, takeProfit: tpID)
    }

    private mutating func submitChild(_ r: OrderRequest, parent: Int, bar: Bar, intrabar: Bool) -> Int {
        let id = orders.count
        var o = Order(id: id, request: r, submittedAt: bar.timestamp, activeFrom: bar.timestamp)
        o.parentID = parent
        o.entryIntrabar = intrabar
        o.quantity = { if case .units(let u) = r.size { return u } else { return 0 } }()
        try! o.transition(to: .accepted, at: bar.timestamp)
        orders.append(o)
        working.append(id)
        return id
    }

    private mutating func recordFill(_ i: Int, units: Double, price: Double, bar: Bar, index: Int) {
        let o = orders[i]
        fills.append(Fill(orderID: o.id, symbol: o.request.symbol, side: o.request.side, units: units, price: price,
                          commission: account.commission.commission(units: units, price: price),
                          time: bar.timestamp, bar: index))
        try! orders[i].recordFill(units: units, price: price, at: bar.timestamp)
        if orders[i].status.isTerminal { working.removeAll { $0 == i } }
    }

    private mutating func cancel(_ id: Int, reason: OrderReason, at time: Int64) {
        guard id >= 0, id < orders.count, orders[id].status.isWorking else { return }
        finish(id, .cancelled, reason: reason, at: time)
    }

    private mutating func finish(_ i: Int, _ status: OrderStatus, reason: OrderReason, at time: Int64) {
        try! orders[i].transition(to: status, at: time, reason: reason)
        working.removeAll { $0 == i }
    }

    // MARK: End of data

    /// Equity reached zero: cancels every order and zeroes cash (positions were closed by the caller).
    public mutating func wipeOut() {
        cancelAll(at: decisionTime)
        account.wipeOut()
    }

    /// Cancels every working order (end of the backtest).
    public mutating func cancelAll(at time: Int64) {
        for i in working { try! orders[i].transition(to: .cancelled, at: time, reason: .endOfData) }
        working.removeAll()
    }

    /// Closes every open lot of `symbol` at `price` (end-of-data settlement).
    public mutating func closeAll(symbol: String, price: Double, time: Int64, index: Int) {
        let size = account.positionSize(symbol)
        guard size != 0 else { return }
        let ids = account.reduce(symbol: symbol, units: abs(size), price: price, time: time, bar: index,
                                 reason: "end_of_data").bracketIDs
        for id in ids { cancel(id, reason: .positionClosed, at: time) }
    }

    /// backtesting.py's `finalize_trades=True`: queue a market close of every position ahead of the working
    /// orders and process the queue once more against the last bar (so they fill at its open).
    public mutating func finalizeLikeBacktestingPy(symbol: String, lastBar: Bar, index: Int) {
        let size = account.positionSize(symbol)
        if size != 0 {
            let saved = decisionTime
            decisionTime = lastBar.timestamp
            let id = submit(OrderRequest(symbol: symbol, side: size > 0 ? .sell : .buy, size: .closePosition,
                                         tag: "end_of_data"))
            decisionTime = saved
            working.removeAll { $0 == id }
            working.insert(id, at: 0)
        }
        process(symbol: symbol, bar: lastBar, index: index)
    }
}
