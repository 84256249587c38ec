/// A real broker (Alpaca, MetaTrader 5) as the robot sees it: the `Venue` calls every mode uses, plus what only a
/// live account has — replacing a working order, looking an order up by the broker's own id, the market clock, and
/// a push stream of order updates (and quotes where the broker has them).
///
/// The update stream is a convenience for latency and monitoring, never the truth: brokers do not replay what was
/// pushed while the stream was down (Alpaca says so), so after every `.reconnected` the consumer re-queries
/// `orders(openOnly:)` and `fills(since:)`, and the robot's cycle reconciles through those calls anyway.
///
///     let broker: any BrokerAdapter = try AlpacaBroker(configuration: config)
///     let clock = try await broker.clock()                     // is the market open?
///     for await update in broker.updates() {
///         if case .order(let report) = update { print(report.clientOrderID, report.status) }
///     }
public protocol BrokerAdapter: Venue {
    /// Changes a working order (quantity, limit or stop price, time in force). The broker replaces it with a new
    /// order under `newClientOrderID` (Alpaca: the old one ends `replaced`; MetaTrader: the ticket is modified in
    /// place and keeps its id, so `newClientOrderID` is the old one). Answers the new order's state.
    func replace(clientOrderID: String, with change: OrderChange, newClientOrderID: String) async throws(VenueError)
        -> OrderReport
    /// One order by the broker's own id (an Alpaca UUID, an MT5 ticket).
    func order(venueOrderID: String) async throws(VenueError) -> OrderReport
    /// Open positions (the same as `account().positions`, without the balances).
    func positions() async throws(VenueError) -> [PositionReport]
    /// The broker's clock: its time and whether its market is open.
    func clock() async throws(VenueError) -> MarketClock
    /// Order updates, fills and quotes as the broker pushes them, with the stream's own state changes. Each call
    /// returns a new subscriber; the stream ends when the broker is closed.
    func updates() -> AsyncStream<BrokerUpdate>
    /// Stops streams and background work (idempotent).
    func close() async
}

/// What `BrokerAdapter.replace` changes; nil fields stay as they are.
public struct OrderChange: Sendable, Equatable, Codable {
    public var quantity: Double?
    public var limitPrice: Double?
    public var stopPrice: Double?
    public var timeInForce: TimeInForce?

    public init(quantity: Double? = nil, limitPrice: Double? = nil, stopPrice: Double? = nil, timeInForce: TimeInForce? = nil) {
        self.quantity = quantity
        self.limitPrice = limitPrice
        self.stopPrice = stopPrice
        self.timeInForce = timeInForce
    }
}

/// A broker's clock (UTC ms).
public struct MarketClock: Sendable, Equatable, Codable {
    public var time: Int64
    public var isOpen: Bool
    public var nextOpen: Int64?
    public var nextClose: Int64?

    public init(time: Int64, isOpen: Bool, nextOpen: Int64? = nil, nextClose: Int64? = nil) {
        self.time = time
        self.isOpen = isOpen
        self.nextOpen = nextOpen
        self.nextClose = nextClose
    }
}

/// One trading session of a broker's calendar (UTC ms): `date` is the session's own date (`2024-01-02`), which for
/// a market that opens the evening before (FX) is the day it closes.
public struct MarketSession: Sendable, Equatable, Codable {
    public var date: String
    public var open: Int64
    public var close: Int64

    public init(date: String, open: Int64, close: Int64) {
        self.date = date
        self.open = open
        self.close = close
    }
}

/// One event of a broker's push stream.
public enum BrokerUpdate: Sendable, Equatable {
    /// An order changed state (new, partially filled, filled, cancelled, rejected, replaced, ...).
    case order(OrderReport)
    /// An execution (also reported through `fills(since:)`; `fillID` deduplicates).
    case fill(FillReport)
    /// A quote: best bid and ask at `time`.
    case quote(symbol: String, bid: Double, ask: Double, time: Int64)
    /// A stream (re)connected and is authorised: updates pushed while it was down are lost — re-query now.
    case reconnected(stream: String)
    /// A stream was lost (dropped, silent past its limit, refused); it reconnects with backoff.
    case disconnected(stream: String, reason: String)
}
