import Common
import Foundation
import MarketData
import Trading

/// `updates()`: MetaTrader pushes nothing to a Python client, so while the stream has subscribers the broker polls
/// the bridge every `options.pollInterval` seconds and publishes what changed (an `MT5UpdateTracker` keeps what was
/// already told):
///
/// - `.order` on every state change of our orders (comment + magic, as everywhere): working orders from
///   `orders_get`; an order that left the working list is read from the history by ticket (filled, cancelled,
///   expired); the order of each new deal likewise; and at once what `submit`, `cancel` and `replace` did.
/// - `.fill` once per deal of ours (deal ticket = `fillID`, never twice across polls): `history_deals_get` over a
///   window from a little before the newest deal seen.
/// - `.quote` for `options.quoteSymbols` when bid, ask or time moved.
/// - `.disconnected(stream: "mt5-bridge", reason)` when a poll cannot reach the bridge (or the terminal behind it),
///   once per outage, and `.reconnected` at the first poll that gets through again; a reconnect that happened between
///   two polls (the connection reopened on the next call, unseen) is reported as both. A `.reconnected` alone never
///   starts the stream: the first successful poll says nothing.
///
/// The first subscriber starts the poll, the last one leaving stops it, `close()` ends it and every stream. Each
/// subscriber has its own buffer of `options.bufferSize` updates (the oldest dropped first). Orders and deals stamped
/// before the poll started (less 5 s for clocks) are history, not news: ask `orders(openOnly:)` / `fills(since:)`.
///
///     for await update in broker.updates() {
///         switch update {
///         case .fill(let fill): print(fill.fillID, fill.units, fill.price)
///         case .reconnected: try await reconcile()            // what happened meanwhile was not pushed
///         default: break
///         }
///     }
extension MT5Broker {
    /// The stream name in `.disconnected` / `.reconnected`.
    public static let bridgeStream = "mt5-bridge"
    /// Deals are asked for from this long before the newest deal seen (deals booked late, clock differences).
    static let dealOverlapMs: Int64 = 5 * 60_000
    /// Orders and deals stamped up to this long before the poll started still count as news (this machine's clock
    /// against the trade server's).
    static let startMarginMs: Int64 = 5_000

    public nonisolated func updates() -> AsyncStream<BrokerUpdate> {
        let (stream, continuation) = AsyncStream.makeStream(of: BrokerUpdate.self,
                                                            bufferingPolicy: .bufferingNewest(options.bufferSize))
        Task { await self.subscribe(continuation) }
        return stream
    }

    /// Stops the poll and finishes every update stream (idempotent; later `updates()` streams end at once). The
    /// bridge connection stays: orders, account and bars keep working, and reconnect when needed.
    public func close() async {
        closed = true
        stopPolling()
        let all = subscribers.values
        subscribers = [:]
        for continuation in all { continuation.finish() }
    }

    /// Whether the poll is running (tests: it stops with the last subscriber and on close).
    var isPolling: Bool { pollTask != nil }

    // MARK: Subscribers

    func subscribe(_ continuation: AsyncStream<BrokerUpdate>.Continuation) {
        guard !closed else {
            continuation.finish()
            return
        }
        let id = nextSubscriber
        nextSubscriber += 1
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        if pollTask == nil { startPolling() }
    }

    func unsubscribe(_ id: Int) {
        subscribers[id] = nil
        if subscribers.isEmpty { stopPolling() }
    }

    /// Sends an update to every subscriber (dropping those whose stream ended).
    func publish(_ update: BrokerUpdate?) {
        guard let update else { return }
        for (id, continuation) in subscribers {
            if case .terminated = continuation.yield(update) { subscribers[id] = nil }
        }
    }

    /// What `submit`, `cancel` or `replace` (`modified`) just did to an order, told to the subscribers at once.
    func announce(_ report: OrderReport, modified: Bool = false) {
        guard !subscribers.isEmpty else { return }
        // A refusal before MetaTrader gave a ticket has nothing to track.
        guard !report.venueOrderID.isEmpty else { return publish(.order(report)) }
        publish(tracker?.order(report, announced: true, modified: modified))
    }

    // MARK: Polling

    private func startPolling() {
        tracker = MT5UpdateTracker(since: now() - Self.startMarginMs)
        bridgeUp = nil
        lastHandshakes = nil
        lastProblem = nil
        let interval = UInt64(options.pollInterval * 1_000_000_000)
        pollTask = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                await self.poll()
                try? await Task.sleep(nanoseconds: interval)
            }
        }
    }

    private func stopPolling() {
        pollTask?.cancel()
        pollTask = nil
        tracker = nil
    }

    /// One poll: orders, deals, quotes, then the connection's state.
    func poll() async {
        var problems: [String] = []
        do throws(VenueError) {
            try await pollOrders()
            try await pollDeals()
            problems = try await pollQuotes()
        } catch {
            guard !Task.isCancelled else { return }
            if case .connectivity(let why) = error {
                if bridgeUp != false {
                    Log.warning("mt5 bridge unreachable; the update stream keeps polling", ["reason": why])
                    publish(.disconnected(stream: Self.bridgeStream, reason: why))
                }
                bridgeUp = false
                return
            }
            problems = ["\(error)"]
        }
        guard !Task.isCancelled else { return }
        let problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
        if let problem, problem != lastProblem { Log.warning("mt5 update poll incomplete", ["error": problem]) }
        lastProblem = problem
        let handshakes = await source.connection.handshakes
        if bridgeUp == false {
            Log.info("mt5 bridge reachable again; the update stream goes on")
            publish(.reconnected(stream: Self.bridgeStream))
        } else if let last = lastHandshakes, last != handshakes {
            publish(.disconnected(stream: Self.bridgeStream, reason: "the bridge connection was lost and re-established"))
            publish(.reconnected(stream: Self.bridgeStream))
        }
        bridgeUp = true
        lastHandshakes = handshakes
    }

    /// Working orders (their changes), and the final state of those that left the working list.
    private func pollOrders() async throws(VenueError) {
        var working = Set<String>()
        for record in try await records("orders_get", [:], key: "orders") {
            guard let report = try await report(record, deals: []) else { continue }
            working.insert(report.venueOrderID)
            guard !Task.isCancelled else { return }
            publish(tracker?.order(report))
        }
        for ticket in tracker?.vanished(working: working) ?? [] {
            guard let number = Int(ticket) else { continue }
            if let report = try await historyOrder(ticket: number) {
                guard !Task.isCancelled else { return }
                publish(tracker?.order(report))
            } else if tracker?.missed(ticket: ticket) == true {
                Log.warning("mt5 order left the working orders but never reached the history; no longer followed",
                            ["ticket": ticket])
            }
        }
    }

    /// New deals of ours (each once), and the orders they executed when not already final.
    private func pollDeals() async throws(VenueError) {
        guard let cursor = tracker?.dealCursor else { return }
        let from = cursor - Self.dealOverlapMs
        let zone = source.configuration.serverTimeZone
        let to = Swift.max(now(), cursor) + UTCTime.msPerDay
        let deals = try await records("history_deals_get", ["from": Swift.max(0, zone.local(fromUTC: Swift.max(0, from))),
                                                            "to": zone.local(fromUTC: to)], key: "deals")
        for (fill, order) in try await fills(in: deals, since: from) {
            guard !Task.isCancelled else { return }
            guard let update = tracker?.fill(fill) else { continue }
            publish(update)
            if order > 0, tracker?.isFinished(ticket: "\(order)") == false,
               let report = try await historyOrder(ticket: order) {
                guard !Task.isCancelled else { return }
                publish(tracker?.order(report))
            }
        }
        if let newest = tracker?.dealCursor { tracker?.prune(before: newest - Self.dealOverlapMs) }
    }

    /// Quotes of `options.quoteSymbols`; a symbol the terminal does not quote is a problem to log, not an outage.
    private func pollQuotes() async throws(VenueError) -> [String] {
        var problems: [String] = []
        for symbol in options.quoteSymbols {
            let quote: MT5Source.Quote
            do throws(SourceError) {
                quote = try await source.tick(symbol: symbol)
            } catch {
                let mapped = Self.venueError(error)
                if mapped.isTransient { throw mapped }
                problems.append("quote \(symbol): \(mapped)")
                continue
            }
            guard !Task.isCancelled else { return problems }
            publish(tracker?.quote(symbol: symbol, bid: quote.bid, ask: quote.ask, time: quote.time))
        }
        return problems
    }
}
