/// Where orders go: the simulated venue, a paper account or a live broker, behind one asynchronous interface.
///
/// Every order carries a client order id chosen by the robot before it is sent (and journaled first); a venue
/// refuses a second order with an id it already knows (`VenueError.duplicateClientOrderID`), so a robot that
/// restarts after a crash can re-send what its journal says it meant to send without ever doubling an order, and
/// asks `orders(openOnly:)` / `fills(since:)` / `account()` to reconcile.
///
///     let ack = try await venue.submit(request, clientOrderID: "robot-20240102T1500-EURUSD-1")
///     if ack.status == .rejected { ... ack.reason ... }
public protocol Venue: AnyObject, Sendable {
    /// A short name for logs and the journal ("simulation", "alpaca-paper", "mt5-live").
    var name: String { get }
    /// Sends an order; answers the venue's view of it right after acceptance (or rejection).
    func submit(_ request: OrderRequest, clientOrderID: String) async throws(VenueError) -> OrderReport
    /// Asks the venue to cancel a working order; answers its state afterwards (a finished order stays finished).
    func cancel(clientOrderID: String) async throws(VenueError) -> OrderReport
    /// One order by its client order id (`VenueError.unknownOrder` if the venue never received it).
    func order(clientOrderID: String) async throws(VenueError) -> OrderReport
    /// The venue's orders this session (only the working ones with `openOnly`), oldest first.
    func orders(openOnly: Bool) async throws(VenueError) -> [OrderReport]
    /// Executions at or after `since` (UTC ms), oldest first.
    func fills(since: Int64) async throws(VenueError) -> [FillReport]
    /// Balance, equity, buying power and positions now.
    func account() async throws(VenueError) -> AccountReport
}

/// Why a venue call failed, in the user's terms.
public enum VenueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The venue already has an order with this client order id (a re-send after a restart).
    case duplicateClientOrderID(String)
    /// No order with this client order id.
    case unknownOrder(String)
    /// The venue could not be reached or did not answer in time; the call may be retried.
    case connectivity(String)
    /// Too many requests; retry after the given milliseconds.
    case rateLimited(retryAfterMs: Int64)
    /// The venue answered something this client cannot read.
    case invalidResponse(String)
    /// The venue refused the request (bad credentials, account restricted, symbol not tradable...).
    case refused(String)

    public var description: String {
        switch self {
        case .duplicateClientOrderID(let id): "the venue already has an order with client order id \(id)"
        case .unknownOrder(let id): "the venue has no order with client order id \(id)"
        case .connectivity(let why): "cannot reach the venue: \(why)"
        case .rateLimited(let ms): "the venue is rate limiting requests; retry in \(ms) ms"
        case .invalidResponse(let why): "the venue's answer could not be read: \(why)"
        case .refused(let why): "the venue refused the request: \(why)"
        }
    }

    /// True for failures worth retrying (connectivity, rate limits); the broker-connectivity breaker counts these.
    public var isTransient: Bool {
        switch self {
        case .connectivity, .rateLimited: true
        default: false
        }
    }
}
