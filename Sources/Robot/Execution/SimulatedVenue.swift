import Foundation
import MarketData
import Simulation
import Trading

/// The simulated broker behind the `Venue` protocol: the same fills as the backtester (it *is* the backtester's
/// `SimulatedBroker`), addressed by client order ids, with the duplicate-id refusal a real broker has. The
/// simulation mode drives its clock (`process(symbol:bar:index:atr:)`, `mark`, `decisionTime`); the robot only
/// sees the asynchronous venue calls.
///
/// Bracket children the broker creates when an entry fills get ids derived from their parent's:
/// `<parent>-sl` (the stop-loss) and `<parent>-tp` (the take-profit).
public final class SimulatedVenue: Venue, @unchecked Sendable {
    public let name = "simulation"
    private let lock = NSLock()
    private var broker: SimulatedBroker
    private var clientOf: [Int: String] = [:]
    private var idOf: [String: Int] = [:]

    public init(cash: Double, models: ExecutionModels, sessionDay: (@Sendable (String, Int64) -> Int64)? = nil) {
        broker = SimulatedBroker(cash: cash, models: models)
        if let sessionDay { broker.sessionDay = sessionDay }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: Driven by the simulation clock

    /// The time orders sent now are stamped with (the close of the bar the robot is deciding on).
    public func setDecisionTime(_ time: Int64) { locked { broker.decisionTime = time } }

    /// Fills what `bar` makes fillable (the backtester's per-bar step).
    public func process(symbol: String, bar: Bar, index: Int, atr: Double?) {
        locked {
            if broker.needsBars { broker.process(symbol: symbol, bar: bar, index: index, atr: atr) }
            nameChildren()
        }
    }

    public func mark(symbol: String, price: Double) { locked { broker.mark(symbol: symbol, price: price) } }

    /// A copy of the broker (orders, fills, account) for reports.
    public var snapshot: SimulatedBroker { locked { broker } }

    private func nameChildren() {
        guard broker.orders.count > clientOf.count else { return }
        for o in broker.orders where clientOf[o.id] == nil {
            guard let parent = o.parentID, let p = clientOf[parent] else { continue }
            let id: String = if case .stop = o.request.kind { p + "-sl" } else { p + "-tp" }
            clientOf[o.id] = id
            idOf[id] = o.id
        }
    }

    private func report(_ o: Order) -> OrderReport {
        OrderReport(clientOrderID: clientOf[o.id] ?? "order-\(o.id)", venueOrderID: String(o.id), symbol: o.request.symbol,
                    side: o.request.side, status: o.status, quantity: o.quantity, filledQuantity: o.filledQuantity,
                    averageFillPrice: o.averageFillPrice, reason: o.reason?.rawValue,
                    time: o.history.last?.1 ?? o.submittedAt)
    }

    // MARK: Venue

    public func submit(_ request: OrderRequest, clientOrderID: String) async throws(VenueError) -> OrderReport {
        try submitNow(request, clientOrderID: clientOrderID)
    }

    /// `submit` without suspension (the backtest-speed path of the simulation mode).
    public func submitNow(_ request: OrderRequest, clientOrderID: String) throws(VenueError) -> OrderReport {
        lock.lock()
        defer { lock.unlock() }
        guard idOf[clientOrderID] == nil else { throw .duplicateClientOrderID(clientOrderID) }
        let id = broker.submit(request)
        clientOf[id] = clientOrderID
        idOf[clientOrderID] = id
        return report(broker.orders[id])
    }

    public func cancel(clientOrderID: String) async throws(VenueError) -> OrderReport {
        try cancelNow(clientOrderID: clientOrderID)
    }

    public func cancelNow(clientOrderID: String) throws(VenueError) -> OrderReport {
        lock.lock()
        defer { lock.unlock() }
        guard let id = idOf[clientOrderID] else { throw .unknownOrder(clientOrderID) }
        broker.cancel(orderID: id)
        return report(broker.orders[id])
    }

    public func order(clientOrderID: String) async throws(VenueError) -> OrderReport { try orderNow(clientOrderID: clientOrderID) }

    public func orderNow(clientOrderID: String) throws(VenueError) -> OrderReport {
        lock.lock()
        defer { lock.unlock() }
        guard let id = idOf[clientOrderID] else { throw .unknownOrder(clientOrderID) }
        return report(broker.orders[id])
    }

    public func orders(openOnly: Bool) async throws(VenueError) -> [OrderReport] { ordersNow(openOnly: openOnly) }

    public func ordersNow(openOnly: Bool) -> [OrderReport] {
        locked { (openOnly ? broker.workingOrders : broker.orders).map(report) }
    }

    public func fills(since: Int64) async throws(VenueError) -> [FillReport] { fillsNow(since: since) }

    public func fillsNow(since: Int64, from index: Int = 0) -> [FillReport] {
        locked {
            var out: [FillReport] = []
            let fills = broker.fills
            guard index < fills.count else { return out }
            for k in index..<fills.count where fills[k].time >= since {
                let f = fills[k]
                out.append(FillReport(clientOrderID: clientOf[f.orderID] ?? "order-\(f.orderID)", fillID: "fill-\(k)",
                                      symbol: f.symbol, side: f.side, units: f.units, price: f.price,
                                      commission: f.commission, time: f.time))
            }
            return out
        }
    }

    /// How many fills the venue has booked (a cursor for `fillsNow(since:from:)`).
    public var fillCount: Int { locked { broker.fills.count } }

    public func account() async throws(VenueError) -> AccountReport { accountNow() }

    public func accountNow() -> AccountReport {
        locked {
            let a = broker.account
            var positions: [PositionReport] = []
            let marks = broker.slotMarks
            for (s, symbol) in a.slotSymbols.enumerated() where a.positionSize(slot: s) != 0 {
                let q = a.positionSize(slot: s)
                positions.append(PositionReport(symbol: symbol, quantity: q, averagePrice: a.positionCost(slot: s) / q,
                                                mark: s < marks.count && !marks[s].isNaN ? marks[s] : nil,
                                                costBasis: a.positionCost(slot: s)))
            }
            let equity = broker.equity
            return AccountReport(time: broker.decisionTime, balance: a.cash, equity: equity,
                                 buyingPower: a.marginAvailable(slotMarks: marks) * models.maxLeverage, positions: positions)
        }
    }

    private var models: ExecutionModels { broker.models }
}
