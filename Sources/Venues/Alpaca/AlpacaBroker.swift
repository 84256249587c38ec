import Common
import Foundation
import MarketData
import Trading

/// Orders on an Alpaca account through the Trading API v2 (paper by default), as a `BrokerAdapter`.
///
/// Idempotency: every order carries our client order id (`client_order_id`, which Alpaca keeps unique per
/// account: a second use is refused with 422). A submit that times out, loses its connection or meets a 5xx may
/// or may not have been booked: the order is then looked up by its client order id (`GET
/// /v2/orders:by_client_order_id`) and adopted when found, re-sent (same id) only when Alpaca says it does not
/// have it — a duplicate is impossible either way. 429s wait for `X-Ratelimit-Reset`.
///
/// A bracket (`stopLoss` and `takeProfit` both set) is sent as `order_class: bracket`; its exit orders are reported
/// under `<id>-sl` and `<id>-tp` (Alpaca gives legs ids of its own), the way the simulated venue names them, so the
/// robot's order manager adopts them unchanged. Alpaca's statuses map onto ours (`AlpacaOrder.ourStatus`): `held`
/// (a bracket's passive leg) and `pending_*` are working, `replaced` ends an order as cancelled.
///
///     var config = AlpacaConfiguration.fromEnvironment()           // APCA_API_KEY_ID, APCA_API_BASE_URL, ...
///     let broker = AlpacaBroker(configuration: config)
///     let ack = try await broker.submit(OrderRequest(symbol: "AAPL", side: .buy, size: .units(10),
///                                                    stopLoss: 180, takeProfit: 200), clientOrderID: "r-1")
public actor AlpacaBroker: BrokerAdapter {
    public nonisolated let name: String
    public nonisolated let configuration: AlpacaConfiguration
    let client: AlpacaTradingClient
    /// Orders and fills are read from here on (UTC ms): `orders(openOnly: false)`, `fills(since: .min)`. Given,
    /// or else a week before the broker's clock at the first call that needs it (the broker's clock, not this
    /// machine's: a server replaying history is read in its own time).
    private var start: Int64?
    /// Submit attempts after ambiguous failures (each preceded by a lookup) before giving up.
    let maxSubmitAttempts = 4
    /// Alpaca's order id → our client order id (parents as sent; legs as `<parent>-sl|-tp`).
    private var ourIDs: [String: String] = [:]
    private var priceRules: [String: AlpacaPriceRule] = [:]
    let streams: AlpacaStreams

    /// `quoteSymbols`: symbols whose quotes `updates()` streams from the market-data stream (none: no data stream).
    public init(configuration: AlpacaConfiguration, name: String? = nil, historyStart: Int64? = nil, quoteSymbols: [String] = []) {
        self.configuration = configuration
        self.name = name ?? (configuration.isLiveTrading ? "alpaca-live" : "alpaca-paper")
        client = AlpacaTradingClient(configuration: configuration)
        start = historyStart
        streams = AlpacaStreams(configuration: configuration, quoteSymbols: quoteSymbols)
    }

    /// Alpaca's own SDK shape: keys, and paper (`https://paper-api.alpaca.markets`, the default) or live
    /// (`https://api.alpaca.markets`); everything else as `AlpacaConfiguration`'s defaults.
    public init(apiKey: String, secretKey: String, paper: Bool = true) {
        let configuration = AlpacaConfiguration(tradingURL: paper ? "https://paper-api.alpaca.markets" : "https://api.alpaca.markets",
                                                keyID: apiKey, secretKey: secretKey)
        self.init(configuration: configuration)
    }

    // MARK: Venue

    public func submit(_ request: OrderRequest, clientOrderID id: String) async throws(VenueError) -> OrderReport {
        try Self.check(id)
        // Closing a position: its bracket exits hold its quantity at Alpaca ("insufficient qty available"), so they
        // are cancelled first — what the simulated venue does when a position is closed.
        if request.size == .closePosition { try await cancelExits(symbol: request.symbol, side: request.side) }
        let quantity = try await units(of: request)
        let body = AlpacaOrderBody.make(request, quantity: quantity, clientOrderID: id, prices: try await priceRule(request.symbol))
        var sentBefore = false
        for attempt in 1...maxSubmitAttempts {
            switch try await client.once("POST", "/v2/orders", json: body) {
            case .response(let r) where (200..<300).contains(r.status):
                streams.expectActivity()
                return learn(try Self.order(r, "the order acknowledgement")).report(as: id)
            case .response(let r):
                let (code, message) = AlpacaTradingClient.error(r)
                if r.status == 422, code == 40010001 || message.contains("client_order_id must be unique") {
                    // Ours from an earlier, ambiguous attempt: adopt it. Otherwise the id was used before.
                    if sentBefore, let known = try await find(id) { return known }
                    throw .duplicateClientOrderID(id)
                }
                if r.status == 404 && message.contains("not found") || r.status == 403 || r.status == 422 {
                    // The order itself is refused (buying power, asset, price rules): a rejection, not an outage.
                    return OrderReport(clientOrderID: id, venueOrderID: "", symbol: request.symbol, side: request.side,
                                       status: .rejected, quantity: quantity, filledQuantity: 0, averageFillPrice: 0,
                                       reason: "alpaca HTTP \(r.status): \(message)", time: Self.now())
                }
                throw .refused("Alpaca answered HTTP \(r.status) to the order: \(message)")
            case .ambiguous(let why):
                sentBefore = true
                Log.warning("alpaca order submit failed ambiguously; looking it up by client order id",
                            ["client_order_id": id, "attempt": "\(attempt)", "error": why])
                if let known = try await find(id) { return known }
                if attempt == maxSubmitAttempts {
                    throw .connectivity("order \(id) was not confirmed and Alpaca does not have it: \(why)")
                }
                var rng = SystemRandomNumberGenerator()
                try await AlpacaTradingClient.sleep(client.retry.delay(afterAttempt: attempt, error: .transient(why), using: &rng))
            }
        }
        throw .connectivity("order \(id) was not confirmed")
    }

    public func cancel(clientOrderID id: String) async throws(VenueError) -> OrderReport {
        guard let current = try await find(id) else { throw .unknownOrder(id) }
        if current.status.isTerminal { return current }
        let r = try await client.idempotent("DELETE", "/v2/orders/\(HTTPClient.encodePathSegment(current.venueOrderID))")
        switch r.status {
        case 200..<300, 422:
            if (200..<300).contains(r.status) { streams.expectActivity() }
            // 422 "order is not cancelable": it filled or ended meanwhile. Either way the order's state now answers.
            return try await order(clientOrderID: id)
        case 404: throw .unknownOrder(id)
        default: throw .refused("Alpaca answered HTTP \(r.status) to the cancel of \(id): \(AlpacaTradingClient.error(r).message)")
        }
    }

    public func order(clientOrderID id: String) async throws(VenueError) -> OrderReport {
        guard let report = try await find(id) else { throw .unknownOrder(id) }
        return report
    }

    public func orders(openOnly: Bool) async throws(VenueError) -> [OrderReport] {
        var reports: [OrderReport] = []
        for o in try await list(status: openOnly ? "open" : "all") {
            let parentID = ourIDs[o.id] ?? o.clientOrderID
            if !openOnly || o.ourStatus.isWorking { reports.append(o.report(as: parentID)) }
            for leg in o.legs where !openOnly || leg.ourStatus.isWorking {
                reports.append(leg.report(as: ourIDs[leg.id] ?? parentID + leg.legSuffix))
            }
        }
        return reports.sorted { ($0.time, $0.venueOrderID) < ($1.time, $1.venueOrderID) }
    }

    /// Alpaca's FILL activities at or after `since`, paged; each names its order by Alpaca's id, which is mapped
    /// back to our client order id (the order list is read once when an id is not known yet).
    public func fills(since: Int64) async throws(VenueError) -> [FillReport] {
        var activities: [[String: Any]] = []
        var token: String?
        let after = since == .min ? try await historyStart() : since - 1
        repeat {
            var query: [(String, String)] = [("direction", "asc"), ("page_size", "100"), ("after", UTCTime.iso8601(after))]
            if let token { query.append(("page_token", token)) }
            let r = try await client.idempotent("GET", "/v2/account/activities/FILL", query: query)
            guard (200..<300).contains(r.status) else { throw Self.unexpected(r, "the fills") }
            guard let page = try AlpacaTradingClient.json(r, "fills") as? [[String: Any]] else {
                throw .invalidResponse("fills: not a list of activities")
            }
            activities += page
            token = page.count == 100 ? page.last?["id"] as? String : nil
        } while token != nil
        if activities.contains(where: { ($0["order_id"] as? String).map { ourIDs[$0] == nil } ?? false }) {
            _ = try await list(status: "all")
        }
        var fills: [FillReport] = []
        for a in activities {
            guard let fillID = a["id"] as? String, let orderID = a["order_id"] as? String,
                  let symbol = a["symbol"] as? String, let sideText = a["side"] as? String,
                  let units = try AlpacaOrder.number(a["qty"], "qty"), let price = try AlpacaOrder.number(a["price"], "price"),
                  let time = AlpacaOrder.time(a["transaction_time"])
            else { throw .invalidResponse("a FILL activity without id, order_id, symbol, side, qty, price or transaction_time") }
            guard time >= since else { continue }
            fills.append(FillReport(clientOrderID: ourIDs[orderID] ?? orderID, fillID: fillID, symbol: symbol,
                                    side: sideText == "buy" ? .buy : .sell, units: abs(units), price: price,
                                    commission: 0, time: time))
        }
        return fills.sorted { ($0.time, $0.fillID) < ($1.time, $1.fillID) }
    }

    public func account() async throws(VenueError) -> AccountReport {
        let r = try await client.idempotent("GET", "/v2/account")
        guard (200..<300).contains(r.status) else { throw Self.unexpected(r, "the account") }
        guard let a = try AlpacaTradingClient.json(r, "account") as? [String: Any] else { throw .invalidResponse("account: not an object") }
        if a["trading_blocked"] as? Bool == true || a["account_blocked"] as? Bool == true {
            Log.warning("alpaca account is blocked", ["status": "\(a["status"] ?? "?")"])
        }
        guard let cash = try AlpacaOrder.number(a["cash"], "cash"), let equity = try AlpacaOrder.number(a["equity"], "equity"),
              let power = try AlpacaOrder.number(a["buying_power"], "buying_power")
        else { throw .invalidResponse("account: missing cash, equity or buying_power") }
        // Our balance is cash with open positions at their cost (Portfolio's meaning): Alpaca's `cash` has paid for
        // longs and received the proceeds of shorts.
        let positions = try await positions()
        let balance = cash + positions.reduce(0) { $0 + $1.quantity * $1.averagePrice }
        return AccountReport(time: Self.now(), balance: balance, equity: equity, buyingPower: power, positions: positions)
    }

    // MARK: BrokerAdapter

    public func replace(clientOrderID id: String, with change: OrderChange, newClientOrderID: String) async throws(VenueError)
        -> OrderReport
    {
        try Self.check(newClientOrderID)
        guard let current = try await find(id) else { throw .unknownOrder(id) }
        var body: [String: Any] = ["client_order_id": newClientOrderID]
        if let q = change.quantity { body["qty"] = AlpacaOrderBody.decimal(q) }
        let rule = try await priceRule(current.symbol)
        if let p = change.limitPrice { body["limit_price"] = rule.text(p) }
        if let p = change.stopPrice { body["stop_price"] = rule.text(p) }
        if let t = change.timeInForce { body["time_in_force"] = t.rawValue }
        let r = try await client.idempotent("PATCH", "/v2/orders/\(HTTPClient.encodePathSegment(current.venueOrderID))", json: body)
        guard (200..<300).contains(r.status) else {
            if r.status == 404 { throw .unknownOrder(id) }
            let (code, message) = AlpacaTradingClient.error(r)
            if code == 40010001 { throw .duplicateClientOrderID(newClientOrderID) }
            throw .refused("Alpaca refused to replace \(id) (HTTP \(r.status)): \(message)")
        }
        streams.expectActivity()   // Alpaca pushes `replaced` and `new`: a quiet trading stream is a silent one
        return learn(try Self.order(r, "the replacement")).report(as: newClientOrderID)
    }

    public func order(venueOrderID: String) async throws(VenueError) -> OrderReport {
        let r = try await client.idempotent("GET", "/v2/orders/\(HTTPClient.encodePathSegment(venueOrderID))", query: [("nested", "true")])
        if r.status == 404 { throw .unknownOrder(venueOrderID) }
        guard (200..<300).contains(r.status) else { throw Self.unexpected(r, "order \(venueOrderID)") }
        let o = learn(try Self.order(r, "order \(venueOrderID)"))
        return o.report(as: ourIDs[o.id] ?? o.clientOrderID)
    }

    public func positions() async throws(VenueError) -> [PositionReport] {
        let r = try await client.idempotent("GET", "/v2/positions")
        guard (200..<300).contains(r.status) else { throw Self.unexpected(r, "the positions") }
        guard let list = try AlpacaTradingClient.json(r, "positions") as? [[String: Any]] else {
            throw .invalidResponse("positions: not a list")
        }
        var out: [PositionReport] = []
        for p in list {
            guard let symbol = p["symbol"] as? String, var qty = try AlpacaOrder.number(p["qty"], "qty"),
                  let entry = try AlpacaOrder.number(p["avg_entry_price"], "avg_entry_price")
            else { throw .invalidResponse("a position without symbol, qty or avg_entry_price") }
            // Short positions: Alpaca writes a negative qty and side "short"; accept a positive qty with side short.
            if p["side"] as? String == "short", qty > 0 { qty = -qty }
            out.append(PositionReport(symbol: symbol, quantity: qty, averagePrice: entry,
                                      mark: try AlpacaOrder.number(p["current_price"], "current_price")))
        }
        return out.sorted { $0.symbol < $1.symbol }
    }

    public func clock() async throws(VenueError) -> MarketClock {
        let r = try await client.idempotent("GET", "/v2/clock")
        guard (200..<300).contains(r.status) else { throw Self.unexpected(r, "the clock") }
        guard let c = try AlpacaTradingClient.json(r, "clock") as? [String: Any], let time = AlpacaOrder.time(c["timestamp"]),
              let open = c["is_open"] as? Bool
        else { throw .invalidResponse("clock: missing timestamp or is_open") }
        return MarketClock(time: time, isOpen: open, nextOpen: AlpacaOrder.time(c["next_open"]),
                           nextClose: AlpacaOrder.time(c["next_close"]))
    }

    /// The trading sessions from `start` to `end` (dates, `2024-01-02`), from `GET /v2/calendar`: Alpaca writes each
    /// session's open and close as New York wall-clock times of its date; a close not after the open (a session that
    /// opens the evening before, as FX's) opens on the previous day.
    public func calendar(start: String, end: String) async throws(VenueError) -> [MarketSession] {
        let r = try await client.idempotent("GET", "/v2/calendar", query: [("start", start), ("end", end)])
        guard (200..<300).contains(r.status) else { throw Self.unexpected(r, "the calendar") }
        guard let rows = try AlpacaTradingClient.json(r, "calendar") as? [[String: Any]] else {
            throw .invalidResponse("calendar: not a list")
        }
        var out: [MarketSession] = []
        for row in rows {
            guard let date = row["date"] as? String, let open = row["open"] as? String, let close = row["close"] as? String,
                  var opens = Self.newYork(date: date, time: open), let closes = Self.newYork(date: date, time: close)
            else { throw .invalidResponse("a calendar row without a readable date, open or close") }
            if opens >= closes { opens -= UTCTime.msPerDay }
            out.append(MarketSession(date: date, open: opens, close: closes))
        }
        return out
    }

    /// UTC ms of a New York wall-clock time (`2024-03-11`, `09:30`), daylight saving included (the calendars' own
    /// `TimeZoneRule.newYork`: no system time-zone database needed).
    static func newYork(date: String, time: String) -> Int64? {
        let d = date.split(separator: "-").compactMap { Int($0) }, t = time.split(separator: ":").compactMap { Int($0) }
        guard d.count == 3, t.count >= 2, (1...12).contains(d[1]), (1...31).contains(d[2]), (0...23).contains(t[0]),
              (0...59).contains(t[1]) else { return nil }
        return TimeZoneRule.newYork.utc(fromLocal: UTCTime.milliseconds(year: d[0], month: d[1], day: d[2], hour: t[0], minute: t[1]))
    }

    public nonisolated func updates() -> AsyncStream<BrokerUpdate> {
        // Orders and legs under our client order ids, as every other call reports them.
        streams.subscribe { [weak self] venueID, fallback in
            guard let self else { return fallback }
            return await self.ourID(venueID, fallback: fallback)
        }
    }

    public func close() async { await streams.stop() }

    // MARK: Lookups

    /// Our order (or bracket leg) by client order id; nil when Alpaca does not have it.
    func find(_ id: String) async throws(VenueError) -> OrderReport? {
        for suffix in ["-sl", "-tp"] where id.hasSuffix(suffix) {
            let parent = String(id.dropLast(suffix.count))
            if let o = try await lookup(parent), let leg = o.legs.first(where: { $0.legSuffix == suffix }) {
                return leg.report(as: id)
            }
        }
        return try await lookup(id)?.report(as: id)
    }

    /// `GET /v2/orders:by_client_order_id` (then by id with `nested=true` for a bracket's legs).
    func lookup(_ id: String) async throws(VenueError) -> AlpacaOrder? {
        let r = try await client.idempotent("GET", "/v2/orders:by_client_order_id", query: [("client_order_id", id)])
        if r.status == 404 { return nil }
        guard (200..<300).contains(r.status) else { throw Self.unexpected(r, "order \(id)") }
        var o = try Self.order(r, "order \(id)")
        if o.legs.isEmpty, ["bracket", "oco", "oto"].contains(o.orderClass) {
            let n = try await client.idempotent("GET", "/v2/orders/\(HTTPClient.encodePathSegment(o.id))", query: [("nested", "true")])
            if (200..<300).contains(n.status) { o = try Self.order(n, "order \(id)") }
        }
        ourIDs[o.id] = id
        return learn(o)
    }

    /// Every order since `historyStart` with the given status filter, nested, oldest first (paged by time).
    func list(status: String) async throws(VenueError) -> [AlpacaOrder] {
        var seen = Set<String>()
        var out: [AlpacaOrder] = []
        var after = try await historyStart() - 1
        while true {
            let r = try await client.idempotent("GET", "/v2/orders", query: [
                ("status", status), ("nested", "true"), ("direction", "asc"), ("limit", "500"), ("after", UTCTime.iso8601(after)),
            ])
            guard (200..<300).contains(r.status) else { throw Self.unexpected(r, "the orders") }
            guard let page = try AlpacaTradingClient.json(r, "orders") as? [[String: Any]] else { throw .invalidResponse("orders: not a list") }
            var added = 0
            for object in page {
                let o = try AlpacaOrder(json: object)
                guard seen.insert(o.id).inserted else { continue }
                out.append(learn(o))
                added += 1
            }
            // Alpaca's `after` is by submission time: the next page starts 1 ms before the last one seen (ties
            // are de-duplicated by id) and ends when a page brings nothing new.
            guard page.count == 500, added > 0, let last = out.last else { break }
            after = last.createdAt - 1
        }
        return out
    }

    func historyStart() async throws(VenueError) -> Int64 {
        if let start { return start }
        let t = try await clock().time - 7 * UTCTime.msPerDay
        start = t
        return t
    }

    /// Records the ids of an order and its legs.
    @discardableResult
    func learn(_ o: AlpacaOrder) -> AlpacaOrder {
        let parent = ourIDs[o.id] ?? o.clientOrderID
        ourIDs[o.id] = parent
        for leg in o.legs where ourIDs[leg.id] == nil { ourIDs[leg.id] = parent + leg.legSuffix }
        return o
    }

    /// Our client order id for an Alpaca order id (a new bracket leg is found through its parent's listing).
    func ourID(_ venueID: String, fallback: String) async -> String {
        if ourIDs[venueID] == nil { _ = try? await list(status: "open") }
        return ourIDs[venueID] ?? fallback
    }

    /// Cancels the working orders on `symbol` that trade on `side` (a position's exits) and waits, a few seconds
    /// at most, until Alpaca reports them ended (a cancel is asynchronous there: `pending_cancel` first).
    func cancelExits(symbol: String, side: OrderSide) async throws(VenueError) {
        var waiting: [String] = []
        for o in try await list(status: "open") {
            for x in [o] + o.legs where x.symbol == symbol && x.side == side && x.ourStatus.isWorking {
                let r = try await client.idempotent("DELETE", "/v2/orders/\(HTTPClient.encodePathSegment(x.id))")
                if (200..<300).contains(r.status) { waiting.append(x.id) }
            }
        }
        for _ in 0..<50 where !waiting.isEmpty {
            var still: [String] = []
            for venueID in waiting where try await order(venueOrderID: venueID).status.isWorking { still.append(venueID) }
            waiting = still
            if !waiting.isEmpty { try await AlpacaTradingClient.sleep(0.1) }
        }
        if !waiting.isEmpty { throw .connectivity("Alpaca did not confirm the cancel of \(waiting.count) exit orders of \(symbol)") }
    }

    /// Units to send: `units(n)` as is, `closePosition` from the position; equity fractions are refused (Alpaca
    /// needs a quantity or a notional, and the robot sizes in units).
    func units(of request: OrderRequest) async throws(VenueError) -> Double {
        switch request.size {
        case .units(let n):
            guard n.isFinite, n > 0 else { throw .refused("order quantity \(n) must be a positive number") }
            return n
        case .closePosition:
            let position = try await positions().first { $0.symbol == request.symbol }
            guard let q = position?.quantity, q != 0 else { throw .refused("no \(request.symbol) position to close") }
            guard (q > 0) == (request.side == .sell) else {
                throw .refused("a \(request.side.rawValue) does not close the \(q > 0 ? "long" : "short") \(request.symbol) position")
            }
            return abs(q)
        case .equityFraction:
            throw .refused("Alpaca orders need a quantity: size the order in units")
        }
    }

    /// How the asset's prices are written (its class and price increment), cached; refuses an asset that is
    /// unknown or not tradable.
    func priceRule(_ symbol: String) async throws(VenueError) -> AlpacaPriceRule {
        if let rule = priceRules[symbol] { return rule }
        let r = try await client.idempotent("GET", "/v2/assets/\(HTTPClient.encodePathSegment(symbol))")
        if r.status == 404 || r.status == 422 { throw .refused("Alpaca has no asset '\(symbol)'") }
        guard (200..<300).contains(r.status) else { throw Self.unexpected(r, "asset \(symbol)") }
        guard let a = try AlpacaTradingClient.json(r, "asset") as? [String: Any] else { throw .invalidResponse("asset: not an object") }
        if a["tradable"] as? Bool == false { throw .refused("Alpaca says \(symbol) is not tradable") }
        let rule = AlpacaPriceRule(assetClass: (a["class"] as? String) ?? "us_equity",
                                   increment: try AlpacaOrder.number(a["price_increment"], "price_increment"))
        priceRules[symbol] = rule
        return rule
    }

    // MARK: Plumbing

    static func order(_ r: HTTPClient.Response, _ what: String) throws(VenueError) -> AlpacaOrder {
        guard let object = try AlpacaTradingClient.json(r, what) as? [String: Any] else { throw .invalidResponse("\(what): not an order") }
        return try AlpacaOrder(json: object)
    }

    static func unexpected(_ r: HTTPClient.Response, _ what: String) -> VenueError {
        .invalidResponse("Alpaca answered HTTP \(r.status) for \(what): \(AlpacaTradingClient.error(r).message)")
    }

    /// Alpaca keeps client order ids up to 128 characters.
    static func check(_ id: String) throws(VenueError) {
        guard !id.isEmpty, id.utf8.count <= 128, id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .refused("client order id '\(UntrustedText.sanitized(id, limit: 40))' must be 1-128 printable ASCII characters")
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
