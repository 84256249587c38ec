import Trading

/// The robot's positions: a `Portfolio` taken from the venue's account at every cycle (the venue is the authority;
/// its fills are journaled by the `OrderManager`), marked with each closed bar, and the position changes the journal
/// records.
///
///     var positions = PositionManager(symbols: ["EURUSD"], balance: 10_000)
///     positions.reconcile(with: try await venue.account(), open: openOrders)
///     positions.mark("EURUSD", price: close, at: barClose)
public struct PositionManager: Sendable {
    public private(set) var portfolio: Portfolio
    /// Signed quantity per symbol at the last `changes()` call.
    private var recorded: [String: Double] = [:]

    /// Slots are created in `symbols` order, so equity sums in the same order as the backtester's portfolio.
    public init(symbols: [String], balance: Double) {
        var p = Portfolio(balance: balance)
        for s in symbols { _ = p.slot(for: s) }
        portfolio = p
    }

    public mutating func mark(_ symbol: String, price: Double, at time: Int64) { portfolio.mark(symbol, price: price, at: time) }

    /// The venue's balance and positions replace the local ones; its working orders become the portfolio's open
    /// orders (what the strategy counts).
    public mutating func reconcile(with account: AccountReport, open: [OrderReport]) {
        portfolio.reconcile(with: account)
        portfolio.openOrders = open.enumerated().map { k, r in
            Order(id: k, request: OrderRequest(symbol: r.symbol, side: r.side, size: .units(r.quantity ?? 0)),
                  submittedAt: r.time, activeFrom: r.time)
        }
    }

    /// Gross exposure / equity.
    public var exposureRatio: Double { portfolio.equity > 0 ? portfolio.grossExposure / portfolio.equity : .infinity }

    /// Positions whose quantity changed since the last call (for the journal).
    public mutating func changes() -> [Position] { changes(from: recorded, tolerance: 0) }

    /// After a restart: the journal's last quantities are what was recorded; returns the positions that differ from
    /// them now (beyond the last bits: a rebuilt simulation matches exactly) — what happened while the robot was down.
    public mutating func changes(since journaled: [String: Double]) -> [Position] { changes(from: journaled, tolerance: 1e-9) }

    /// Positions whose quantity differs from `before` by more than `tolerance` (relative), and those gone flat; the
    /// quantities now become what was recorded.
    private mutating func changes(from before: [String: Double], tolerance: Double) -> [Position] {
        var out = portfolio.positions.filter { abs($0.quantity - (before[$0.symbol] ?? 0)) > tolerance * max(1, abs($0.quantity)) }
        for (symbol, q) in before where q != 0 && portfolio.quantity(symbol) == 0 { out.append(Position(symbol: symbol)) }
        recorded = [:]
        for p in portfolio.positions { recorded[p.symbol] = p.quantity }
        return out.sorted { $0.symbol < $1.symbol }
    }
}
