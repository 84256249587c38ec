/// What a strategy trades through: an outbox for its order commands and the local `Portfolio` it reads. The
/// strategy stays synchronous and never talks to a venue; a runner — the backtester (synchronous) or the robot
/// (asynchronous) — drains the outbox after each `onBar`, passes each command through the risk engine to the venue,
/// and keeps the portfolio current from the venue's fills and reports.
///
///     var context = StrategyContext(portfolio: Portfolio(balance: 10_000))
///     strategy.onBar(view, broker: &context)
///     for command in context.drainOutbox() { ... risk → venue ... }
///
/// Order ids handed to the strategy are local sequence numbers (`nextOrderID`, which the runner sets to what its
/// venue will number the next order); commands keep them so the runner can map them to client order ids.
public struct StrategyContext: OrderRouting, Sendable {
    public var portfolio: Portfolio
    /// The id `submit` hands out next.
    public var nextOrderID: Int
    public private(set) var outbox: [OrderCommand] = []

    public init(portfolio: Portfolio, nextOrderID: Int = 0) {
        self.portfolio = portfolio
        self.nextOrderID = nextOrderID
    }

    @discardableResult
    public mutating func submit(_ request: OrderRequest) -> Int {
        let id = nextOrderID
        nextOrderID += 1
        outbox.append(.submit(id: id, request))
        return id
    }

    public mutating func cancel(orderID: Int) { outbox.append(.cancel(id: orderID)) }

    public func positionSize(_ symbol: String) -> Double { portfolio.quantity(symbol) }
    public var equity: Double { portfolio.equity }
    public var cash: Double { portfolio.balance }
    public var workingOrders: [Order] { portfolio.openOrders }

    /// The commands queued since the last drain, in the order the strategy gave them; the outbox is left empty.
    public mutating func drainOutbox() -> [OrderCommand] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    public var hasCommands: Bool { !outbox.isEmpty }
}

/// One thing a strategy asked for.
public enum OrderCommand: Sendable, Equatable, Codable {
    case submit(id: Int, OrderRequest)
    case cancel(id: Int)
}
