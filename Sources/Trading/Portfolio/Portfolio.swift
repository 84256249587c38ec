/// The local view of an account a strategy and the robot read: settled balance, positions with marks, working
/// orders. It is kept current from the venue's fill events (`apply(_:)`) and marks (`mark(_:price:)`), and replaced
/// by the venue's own figures on reconciliation (`reconcile(with:)`) — the venue is the authority, this is a cache
/// that never blocks on a network call.
///
/// Balance convention (backtesting.py's cash, a margin account's balance): the initial deposit plus realised P&L,
/// minus commissions and financing; equity = balance + Σ unrealised P&L. Fills book with average-cost accounting:
///
///     var p = Portfolio(balance: 10_000)
///     p.apply(Fill(orderID: 0, symbol: "X", side: .buy, units: 10, price: 100, commission: 1, time: 0, bar: 0))
///     p.mark("X", price: 110)           // equity 10 099: balance 9 999 + unrealised 100
///     p.apply(Fill(orderID: 1, symbol: "X", side: .sell, units: 4, price: 110, commission: 0, time: 1, bar: 1))
///     p.position("X")?.quantity         // 6, average price still 100; balance 10 039
public struct Portfolio: Sendable, Equatable {
    /// Settled balance: deposits + realised P&L − commissions − financing.
    public private(set) var balance: Double
    /// Working orders (accepted or partially filled), oldest first.
    public var openOrders: [Order] = []
    /// Time of the latest update (fill, mark or report), UTC ms.
    public private(set) var time: Int64 = .min
    private var slots: [Position] = []
    private var slotOf: [String: Int] = [:]

    public init(balance: Double) {
        self.balance = balance
    }

    /// Balance plus the unrealised P&L of every open position (summed in first-traded order).
    public var equity: Double {
        var e = balance
        for p in slots where p.quantity != 0 { e += p.unrealizedPnL }
        return e
    }

    /// Σ |quantity| × mark over open positions.
    public var grossExposure: Double { slots.reduce(0) { $0 + $1.grossExposure } }

    /// Open (non-flat) positions in first-traded order.
    public var positions: [Position] { slots.filter { !$0.isFlat } }

    public func position(_ symbol: String) -> Position? { slotOf[symbol].map { slots[$0] } }

    /// Signed units held in `symbol` (0 if never traded).
    public func quantity(_ symbol: String) -> Double { slotOf[symbol].map { slots[$0].quantity } ?? 0 }

    /// The latest mark of `symbol` (nil before the first).
    public func mark(of symbol: String) -> Double? {
        guard let s = slotOf[symbol], !slots[s].mark.isNaN else { return nil }
        return slots[s].mark
    }

    /// Updates `symbol`'s mark.
    public mutating func mark(_ symbol: String, price: Double, at time: Int64? = nil) {
        slots[slot(for: symbol)].mark = price
        if let time { self.time = max(self.time, time) }
    }

    /// Books a fill with average-cost accounting: an increase adds units × price to the cost basis; a decrease
    /// realises (price − average) × closed units and keeps the average; a reversal closes, then opens the rest at
    /// the fill price. The commission is paid from the balance.
    public mutating func apply(_ fill: Fill) {
        let s = slot(for: fill.symbol)
        var p = slots[s]
        let d = fill.side.sign * fill.units
        if p.quantity == 0 || (p.quantity > 0) == (d > 0) {
            p.quantity += d
            p.costBasis += d * fill.price
        } else {
            let average = p.averagePrice
            let closing = min(abs(d), abs(p.quantity))
            let direction: Double = p.quantity > 0 ? 1 : -1
            let realized = closing * (fill.price - average) * direction
            p.realizedPnL += realized
            balance += realized
            let remainder = abs(d) - closing
            p.quantity -= direction * closing
            p.costBasis = p.quantity * average
            if abs(p.quantity) < 1e-12 * max(1, closing) { p.quantity = 0; p.costBasis = 0 }
            if remainder > 0 {
                p.quantity = -direction * remainder
                p.costBasis = p.quantity * fill.price
            }
        }
        balance -= fill.commission
        if p.mark.isNaN { p.mark = fill.price }
        slots[s] = p
        time = max(time, fill.time)
    }

    /// Charges (or credits, when negative) an amount to the balance: financing, fees, deposits.
    public mutating func adjustBalance(by amount: Double) { balance += amount }

    /// Replaces balance, positions and marks with the venue's figures. Symbols the venue does not list are flat.
    public mutating func reconcile(with report: AccountReport) {
        balance = report.balance
        for i in slots.indices { slots[i].quantity = 0; slots[i].costBasis = 0 }
        for r in report.positions {
            let s = slot(for: r.symbol)
            slots[s].quantity = r.quantity
            slots[s].costBasis = r.costBasis ?? r.quantity * r.averagePrice
            if let mark = r.mark { slots[s].mark = mark }
        }
        time = max(time, report.time)
    }

    /// The dense index of `symbol`, created on first use (runners keep per-symbol state in the same order).
    package mutating func slot(for symbol: String) -> Int {
        if let s = slotOf[symbol] { return s }
        slotOf[symbol] = slots.count
        slots.append(Position(symbol: symbol))
        return slots.count - 1
    }

    /// A runner's fast path: sets one slot's holding exactly as its venue books it.
    package mutating func setHolding(slot: Int, quantity: Double, costBasis: Double) {
        slots[slot].quantity = quantity
        slots[slot].costBasis = costBasis
    }

    package mutating func setMark(slot: Int, price: Double) { slots[slot].mark = price }
    package mutating func setBalance(_ value: Double) { balance = value }
}
