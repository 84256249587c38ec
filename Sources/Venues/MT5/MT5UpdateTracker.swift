import Trading

/// What `MT5Broker`'s poll has already told its subscribers, so that each poll turns MetaTrader's snapshots (working
/// orders, recent deals, ticks) into only the news: an order's state change once, each deal once, a quote when it
/// moves. A value type with no I/O: the broker feeds it reports and publishes what it answers.
///
/// What counts as news: an order or deal stamped at or after `since` (the stream's start, less a small margin for
/// clocks), and any later change of an order already known. An order never goes back: after a final state
/// (filled, cancelled, rejected, expired) it is silent, and a stale read (less filled than already reported) is
/// ignored. Memory stays bounded: finished orders and deals older than the deal window are forgotten (`prune`).
///
///     var tracker = MT5UpdateTracker(since: start)
///     tracker.order(report)       // .order(report) the first time, nil when nothing changed
///     tracker.fill(fill)          // .fill(fill) once per fillID
struct MT5UpdateTracker {
    /// Orders and deals stamped before this (UTC ms) existed before the stream started: recorded, not announced.
    let since: Int64
    /// The last state announced (or recorded) per ticket.
    private(set) var orders: [String: OrderReport] = [:]
    /// Deals seen, by fill id (the deal ticket), with their time.
    private(set) var deals: [String: Int64] = [:]
    /// The newest deal time seen (UTC ms); deals are asked for from a little before it.
    private(set) var dealCursor: Int64
    /// Polls in a row a working order has been missing from both the working list and the history.
    private var misses: [String: Int] = [:]
    private var quotes: [String: Quote] = [:]

    struct Quote: Equatable { var bid: Double, ask: Double, time: Int64 }

    /// Polls a vanished order is looked for in the history before it is forgotten (with a warning).
    static let maxMisses = 30

    init(since: Int64) {
        self.since = since
        dealCursor = since
    }

    /// Records an order's state; answers the update to publish when it is news. `announced`: the broker itself just
    /// sent or cancelled it (news whatever its time, once); `modified`: the broker changed what the report does not
    /// show (a price, by `replace`), so it is news even unchanged.
    mutating func order(_ report: OrderReport, announced: Bool = false, modified: Bool = false) -> BrokerUpdate? {
        let ticket = report.venueOrderID
        misses[ticket] = nil
        guard let previous = orders[ticket] else {
            orders[ticket] = report
            return announced || modified || report.time >= since ? .order(report) : nil
        }
        if previous.status.isTerminal || report.filledQuantity < previous.filledQuantity { return nil }
        let changed = report.status != previous.status || report.filledQuantity != previous.filledQuantity
            || report.quantity != previous.quantity
        guard changed || modified else { return nil }
        orders[ticket] = report
        return .order(report)
    }

    /// Records a deal; `.fill` the first time its id is seen, if it is news.
    mutating func fill(_ fill: FillReport) -> BrokerUpdate? {
        guard deals[fill.fillID] == nil else { return nil }
        deals[fill.fillID] = fill.time
        dealCursor = Swift.max(dealCursor, fill.time)
        return fill.time >= since ? .fill(fill) : nil
    }

    /// Records a quote; `.quote` when bid, ask or time moved.
    mutating func quote(symbol: String, bid: Double, ask: Double, time: Int64) -> BrokerUpdate? {
        let quote = Quote(bid: bid, ask: ask, time: time)
        guard quotes[symbol] != quote else { return nil }
        quotes[symbol] = quote
        return .quote(symbol: symbol, bid: bid, ask: ask, time: time)
    }

    /// Whether this order's final state is known (its deals need no order lookup).
    func isFinished(ticket: String) -> Bool { orders[ticket]?.status.isTerminal == true }

    /// Working orders known from earlier polls that are not in `working` now: filled, cancelled or expired
    /// meanwhile (their final state is in the history).
    func vanished(working: Set<String>) -> [String] {
        orders.compactMap { ticket, report in !report.status.isTerminal && !working.contains(ticket) ? ticket : nil }.sorted()
    }

    /// A vanished order was not found in the history this poll; after `maxMisses` polls it is forgotten (answers true).
    mutating func missed(ticket: String) -> Bool {
        let count = (misses[ticket] ?? 0) + 1
        guard count >= Self.maxMisses else {
            misses[ticket] = count
            return false
        }
        misses[ticket] = nil
        orders[ticket] = nil
        return true
    }

    /// Forgets deals and finished orders older than `cutoff` (UTC ms): deals are only asked for after it, and a
    /// finished order's deals are as old as it is.
    mutating func prune(before cutoff: Int64) {
        deals = deals.filter { $0.value >= cutoff }
        orders = orders.filter { !$0.value.status.isTerminal || $0.value.time >= cutoff }
    }
}
