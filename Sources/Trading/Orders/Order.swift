/// The life cycle of an order — the same states and transitions in simulation and in live trading.
///
///     new ──accept──▶ accepted ──fill──▶ partiallyFilled ──fill──▶ filled
///      │                 │  │                 │  │
///      └──reject──▶ rejected  └─cancel/expire─┴──┴──▶ cancelled / expired
///
/// `filled`, `cancelled`, `rejected` and `expired` are terminal. `OrderStatus.canMove(to:)` is the whole table;
/// `Order.transition(to:)` refuses anything else.
public enum OrderStatus: String, Sendable, Equatable, CaseIterable, Codable {
    case new, accepted
    case partiallyFilled = "partially_filled"
    case filled, cancelled, rejected, expired

    public var isTerminal: Bool {
        switch self {
        case .filled, .cancelled, .rejected, .expired: true
        default: false
        }
    }

    /// True when the order is still working (can fill).
    public var isWorking: Bool { self == .accepted || self == .partiallyFilled }

    public func canMove(to next: OrderStatus) -> Bool {
        switch (self, next) {
        case (.new, .accepted), (.new, .rejected): true
        case (.accepted, .partiallyFilled), (.accepted, .filled), (.accepted, .cancelled), (.accepted, .expired),
             (.accepted, .rejected): true
        case (.partiallyFilled, .partiallyFilled), (.partiallyFilled, .filled), (.partiallyFilled, .cancelled),
             (.partiallyFilled, .expired): true
        default: false
        }
    }
}

/// An illegal order-state transition (a bug in a broker implementation, never a market condition).
public struct OrderStateError: Error, CustomStringConvertible, Equatable, Sendable {
    public var orderID: Int
    public var from: OrderStatus
    public var to: OrderStatus
    public var description: String { "order \(orderID): illegal transition \(from.rawValue) -> \(to.rawValue)" }
}

/// Why a broker refused or cancelled an order.
public enum OrderReason: String, Sendable, Equatable, Codable {
    case insufficientMargin = "insufficient_margin"
    case invalidPrice = "invalid_price"
    case invalidSize = "invalid_size"
    case noPosition = "no_position"
    case userCancelled = "user_cancelled"
    case ocoSibling = "oco_sibling_filled"
    case positionClosed = "position_closed"
    case immediateOrCancel = "ioc_unfilled"
    case sessionEnded = "session_ended"
    case endOfData = "end_of_data"
}

/// An order the broker knows about: the request plus its state, fills so far and history.
public struct Order: Sendable, Equatable, Identifiable {
    public let id: Int
    public var request: OrderRequest
    public private(set) var status: OrderStatus = .new
    /// Units filled so far (always positive).
    public package(set) var filledQuantity: Double = 0
    /// Volume-weighted average fill price, 0 before the first fill.
    public package(set) var averageFillPrice: Double = 0
    /// Total units the order trades once sized (nil until sized at the first fill for equity-fraction orders).
    public package(set) var quantity: Double?
    public let submittedAt: Int64
    /// The earliest time the order can reach the market (submission + latency).
    public let activeFrom: Int64
    /// Set on stop-limit orders once their stop has triggered (they then work as limit orders).
    public package(set) var stopTriggered = false
    /// For bracket children: the parent order's id; the OCO sibling is the other child.
    public package(set) var parentID: Int?
    public package(set) var ocoSiblingID: Int?
    /// For bracket children: the parent filled inside the bar (not at its open), see `IntrabarPolicy`.
    public package(set) var entryIntrabar = false
    public package(set) var reason: OrderReason?
    /// Every status this order has had, with the time (epoch ms) it entered it.
    public private(set) var history: [(OrderStatus, Int64)] = []

    public init(id: Int, request: OrderRequest, submittedAt: Int64, activeFrom: Int64) {
        self.id = id
        self.request = request
        self.submittedAt = submittedAt
        self.activeFrom = activeFrom
        history.append((.new, submittedAt))
    }

    public var remainingQuantity: Double? { quantity.map { $0 - filledQuantity } }

    public mutating func transition(to next: OrderStatus, at time: Int64,
                                    reason: OrderReason? = nil) throws(OrderStateError) {
        guard status.canMove(to: next) else { throw OrderStateError(orderID: id, from: status, to: next) }
        status = next
        if let reason { self.reason = reason }
        history.append((next, time))
    }

    /// Records a fill of `units` at `price` and moves to `partiallyFilled` or `filled`.
    package mutating func recordFill(units: Double, price: Double, at time: Int64) throws(OrderStateError) {
        let total = filledQuantity + units
        averageFillPrice = (averageFillPrice * filledQuantity + price * units) / total
        filledQuantity = total
        let done = quantity.map { total >= $0 - 1e-9 } ?? true
        try transition(to: done ? .filled : .partiallyFilled, at: time)
    }

    public static func == (a: Order, b: Order) -> Bool {
        a.id == b.id && a.status == b.status && a.filledQuantity == b.filledQuantity && a.request == b.request
    }
}
