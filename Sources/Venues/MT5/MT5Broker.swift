import Common
import Foundation
import MarketData
import Trading

/// Orders on a MetaTrader 5 account through `integrations/mt5/mt5_bridge.py` (`order_send`, `orders_get`,
/// `history_orders_get`, `history_deals_get`, `positions_get`, `account_info`, `symbol_info`, `clock`), over the same
/// bridge connection as the `MT5Source` it is built on: one connection serves bars and orders. A `BrokerAdapter`:
/// pending orders are modified in place (`replace`, MT5Broker+Adapter.swift), and `updates()` polls the bridge
/// (MT5Broker+Updates.swift), since MetaTrader pushes nothing to a Python client.
///
/// Idempotency: every order carries our client order id in MetaTrader's `comment` (at most 31 characters) and a
/// 52-bit hash of it in `magic`; an order is ours only when both match, so orders of other experts or typed by hand
/// are never taken for ours. `submit` refuses an id the account already has (`duplicateClientOrderID`), and after an
/// ambiguous failure (the connection dropped after the request left) it looks the id up before reporting an error,
/// never re-sending blindly. Return codes map as `MT5Retcode.outcome` says: 10009 done -> filled, 10008 placed ->
/// accepted, order-specific refusals (volume, price, stops, money, requote) -> a `rejected` report with the reason,
/// account-wide conditions (10027 AutoTrading disabled, 10031 no connection, 10024 too many requests) -> `VenueError`.
///
/// Sizes are in units (`units(100_000)` of EURUSD is one lot of contract size 100,000); volumes that are not a
/// multiple of the symbol's volume step are refused before sending. MetaTrader stamps times in server time: they are
/// converted with the source's `serverTimeZone`.
///
///     let source = MT5Source(configuration: config)
///     let broker = MT5Broker(source: source)                 // shares source's bridge connection
///     let ack = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000)),
///                                       clientOrderID: "robot-20240110T1200-EURUSD-1")
public actor MT5Broker: BrokerAdapter {
    public nonisolated let name: String
    let source: MT5Source
    /// Price deviation accepted on market orders, in points.
    let deviationPoints: Int
    /// Where order and deal history is read from (UTC ms): `orders(openOnly: false)`, `order(clientOrderID:)`.
    let historyStart: Int64
    /// The wall clock (UTC ms); replaceable in tests (the fake terminal's clock is fixed).
    var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    private var symbols: [String: SymbolSpec] = [:]
    /// How `updates()` polls and which symbol `clock()` reads.
    public nonisolated let options: MT5BrokerOptions

    // The update stream's state (MT5Broker+Updates.swift).
    var subscribers: [Int: AsyncStream<BrokerUpdate>.Continuation] = [:]
    var nextSubscriber = 0
    var pollTask: Task<Void, Never>?
    var tracker: MT5UpdateTracker?
    /// Whether the stream last found the bridge reachable (nil before its first poll).
    var bridgeUp: Bool?
    /// `MT5Connection.handshakes` after the last successful poll: a change means a silent reconnect.
    var lastHandshakes: Int?
    /// The last poll failure logged (each distinct one is logged once, not every poll).
    var lastProblem: String?
    var closed = false

    public init(source: MT5Source, name: String = "mt5", deviationPoints: Int = 20, historyStart: Int64? = nil,
                options: MT5BrokerOptions = MT5BrokerOptions()) {
        self.source = source
        self.name = name
        self.deviationPoints = max(0, deviationPoints)
        self.historyStart = historyStart ?? (Int64(Date().timeIntervalSince1970 * 1000) - 7 * UTCTime.msPerDay)
        self.options = options
    }

    public init(configuration: MT5Configuration, name: String = "mt5", options: MT5BrokerOptions = MT5BrokerOptions()) {
        self.init(source: MT5Source(configuration: configuration), name: name, options: options)
    }

    deinit {
        pollTask?.cancel()
        for continuation in subscribers.values { continuation.finish() }
    }

    func setClock(_ clock: @escaping @Sendable () -> Int64) { now = clock }

    /// The 52-bit FNV-1a hash of a client order id carried in `magic` (exact in any JSON reader).
    static func magic(for clientOrderID: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in clientOrderID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Int64(hash & ((1 << 52) - 1))
    }

    static let maxComment = 31

    // MARK: Venue

    public func submit(_ request: OrderRequest, clientOrderID: String) async throws(VenueError) -> OrderReport {
        let report = try await send(request, clientOrderID: clientOrderID)
        announce(report)
        return report
    }

    private func send(_ request: OrderRequest, clientOrderID: String) async throws(VenueError) -> OrderReport {
        try Self.check(clientOrderID)
        if try await find(clientOrderID) != nil { throw .duplicateClientOrderID(clientOrderID) }
        let spec = try await symbol(request.symbol)
        let lots = try await lots(for: request, spec: spec)
        var order: [String: Any] = ["symbol": request.symbol, "volume": lots, "magic": Self.magic(for: clientOrderID),
                                    "comment": clientOrderID,
                                    "type_time": request.timeInForce == .day ? MT5Trade.timeDay : MT5Trade.timeGTC]
        if let sl = request.stopLoss { order["sl"] = sl }
        if let tp = request.takeProfit { order["tp"] = tp }
        let buy = request.side == .buy
        switch request.kind {
        case .market:
            let quote = try await call { () async throws(SourceError) in try await source.tick(symbol: request.symbol) }
            order["action"] = MT5Trade.actionDeal
            order["type"] = buy ? MT5Trade.typeBuy : MT5Trade.typeSell
            order["price"] = buy ? quote.ask : quote.bid
            order["deviation"] = deviationPoints
            order["type_filling"] = spec.filling(immediateOrCancel: request.timeInForce == .ioc)
        case .limit(let price), .stop(let price):
            guard request.timeInForce != .ioc else {
                throw .refused("MT5 pending orders cannot be immediate-or-cancel (use gtc or day)")
            }
            let isLimit = if case .limit = request.kind { true } else { false }
            order["action"] = MT5Trade.actionPending
            order["type"] = isLimit ? (buy ? MT5Trade.typeBuyLimit : MT5Trade.typeSellLimit)
                : (buy ? MT5Trade.typeBuyStop : MT5Trade.typeSellStop)
            order["price"] = price
            order["type_filling"] = MT5Trade.fillingReturn
        case .stopLimit(let stop, let limit):
            guard request.timeInForce != .ioc else {
                throw .refused("MT5 pending orders cannot be immediate-or-cancel (use gtc or day)")
            }
            order["action"] = MT5Trade.actionPending
            order["type"] = buy ? MT5Trade.typeBuyStopLimit : MT5Trade.typeSellStopLimit
            order["price"] = stop
            order["stoplimit"] = limit
            order["type_filling"] = MT5Trade.fillingReturn
        }

        let outcome: MT5Retcode.Outcome, result: [String: Any]
        switch try await orderSend(order) {
        case .answered(let o, let r): (outcome, result) = (o, r)
        case .ambiguous(let error):
            Log.warning("mt5 order_send failed ambiguously; looking the order up", ["client_order_id": clientOrderID])
            if let report = try await find(clientOrderID) { return report }
            throw .connectivity("order \(clientOrderID) was not confirmed and is not at the broker: \(error)")
        }
        let ticket = Self.int(result["order"]) ?? 0
        let base = OrderReport(clientOrderID: clientOrderID, venueOrderID: ticket > 0 ? "\(ticket)" : "",
                               symbol: request.symbol, side: request.side, status: .rejected,
                               quantity: lots * spec.contractSize, filledQuantity: 0, averageFillPrice: 0, time: now())
        switch outcome {
        case .executed:
            if let report = try? await find(clientOrderID) { return report }
            var report = base
            let filledLots = Self.double(result["volume"]) ?? 0
            report.filledQuantity = filledLots * spec.contractSize
            report.averageFillPrice = Self.double(result["price"]) ?? 0
            report.status = filledLots + 1e-9 >= lots ? .filled : .partiallyFilled
            return report
        case .placed:
            var report = base
            report.status = .accepted
            return report
        case .rejected(let reason):
            var report = base
            report.reason = reason
            return report
        case .venueError(let error):
            throw error
        }
    }

    public func cancel(clientOrderID: String) async throws(VenueError) -> OrderReport {
        let report = try await remove(clientOrderID)
        announce(report)
        return report
    }

    private func remove(_ clientOrderID: String) async throws(VenueError) -> OrderReport {
        guard let report = try await find(clientOrderID) else { throw .unknownOrder(clientOrderID) }
        guard !report.status.isTerminal, let ticket = Int(report.venueOrderID) else { return report }
        // Ambiguous: the re-query says whether it went through. Done, or refused because the order filled or went
        // meanwhile: the server's state now is the answer.
        if case .answered(.venueError(let error), _) = try await orderSend(["action": MT5Trade.actionRemove, "order": ticket]) {
            throw error
        }
        return try await order(clientOrderID: clientOrderID)
    }

    /// What one `order_send` came to.
    enum OrderSendAnswer {
        /// The terminal answered: the outcome of its retcode (the comment sanitised) and the whole result.
        case answered(MT5Retcode.Outcome, [String: Any])
        /// The request failed on the way (timeout, lost connection): it may have been executed, so it is never
        /// re-sent blindly; the caller reads the broker's state instead.
        case ambiguous(SourceError)
    }

    /// Sends one trade request; a failure that is not transient (bad token, bridge refusal) throws.
    func orderSend(_ request: [String: Any]) async throws(VenueError) -> OrderSendAnswer {
        let result: [String: Any]
        do throws(SourceError) {
            result = try await source.connection.call("order_send", ParamsBox(["request": request])).value
        } catch {
            guard error.isTransient else { throw Self.venueError(error) }
            return .ambiguous(error)
        }
        let comment = UntrustedText.sanitized(result["comment"] as? String ?? "", limit: 120)
        return .answered(MT5Retcode.outcome(Self.int(result["retcode"]) ?? -1, comment: comment), result)
    }

    public func order(clientOrderID: String) async throws(VenueError) -> OrderReport {
        guard let report = try await find(clientOrderID) else { throw .unknownOrder(clientOrderID) }
        return report
    }

    public func orders(openOnly: Bool) async throws(VenueError) -> [OrderReport] {
        var records = try await records("orders_get", [:], key: "orders")
        if !openOnly { records += try await history("history_orders_get", from: historyStart, key: "orders") }
        let deals = openOnly ? [] : try await history("history_deals_get", from: historyStart, key: "deals")
        var reports: [OrderReport] = []
        for record in records {
            if let report = try await report(record, deals: deals) { reports.append(report) }
        }
        return reports.sorted { ($0.time, $0.venueOrderID) < ($1.time, $1.venueOrderID) }
    }

    public func fills(since: Int64) async throws(VenueError) -> [FillReport] {
        try await fills(in: history("history_deals_get", from: since, key: "deals"), since: since).map(\.fill)
    }

    /// Our buy and sell deals among `deals` stamped at or after `since` (UTC ms), oldest first, each with the
    /// ticket of the order it executed.
    func fills(in deals: [[String: Any]], since: Int64) async throws(VenueError) -> [(fill: FillReport, order: Int)] {
        var fills: [(fill: FillReport, order: Int)] = []
        for deal in deals {
            guard Self.isOurs(deal), let comment = deal["comment"] as? String,
                  let type = Self.int(deal["type"]), type == MT5Trade.dealBuy || type == MT5Trade.dealSell,
                  let symbol = deal["symbol"] as? String, let ticket = Self.int(deal["ticket"]),
                  let lots = Self.double(deal["volume"]), let price = Self.double(deal["price"]),
                  let time = Self.int(deal["time_msc"]), UTCTime.supportedRange.contains(Int64(time)) else { continue }
            let spec = try await self.symbol(symbol)
            let utc = source.configuration.serverTimeZone.utc(fromLocal: Int64(time))
            guard utc >= since else { continue }
            fills.append((FillReport(clientOrderID: comment, fillID: "\(ticket)", symbol: symbol,
                                     side: type == MT5Trade.dealBuy ? .buy : .sell, units: lots * spec.contractSize,
                                     price: price,
                                     commission: -((Self.double(deal["commission"]) ?? 0) + (Self.double(deal["fee"]) ?? 0)),
                                     time: utc),
                          Self.int(deal["order"]) ?? 0))
        }
        return fills.sorted { ($0.fill.time, $0.fill.fillID) < ($1.fill.time, $1.fill.fillID) }
    }

    public func account() async throws(VenueError) -> AccountReport {
        let info = try await call { () async throws(SourceError) in try await source.call("account_info") }
        guard let balance = Self.double(info["balance"]), let equity = Self.double(info["equity"]),
              let free = Self.double(info["margin_free"]) else {
            throw .invalidResponse("account_info: missing balance, equity or margin_free")
        }
        let leverage = Self.double(info["leverage"]) ?? 1
        return AccountReport(time: now(), balance: balance, equity: equity, buyingPower: free * max(1, leverage),
                             positions: try await positions())
    }

    /// The account's open positions (all of them, ours or not: the account's truth), by symbol. A hedging account's
    /// several positions in one symbol are netted into one report (volume-weighted entry).
    public func positions() async throws(VenueError) -> [PositionReport] {
        var bySymbol: [String: (units: Double, cost: Double, mark: Double?, count: Int, open: Double)] = [:]
        for p in try await records("positions_get", [:], key: "positions") {
            guard let symbol = p["symbol"] as? String, let lots = Self.double(p["volume"]),
                  let open = Self.double(p["price_open"]) else { throw .invalidResponse("positions_get: malformed position") }
            let spec = try await self.symbol(symbol)
            let sign: Double = Self.int(p["type"]) == MT5Trade.positionBuy ? 1 : -1
            var entry = bySymbol[symbol] ?? (0, 0, nil, 0, open)
            entry.units += sign * lots * spec.contractSize
            entry.cost += sign * lots * spec.contractSize * open
            entry.mark = Self.double(p["price_current"]) ?? entry.mark
            entry.count += 1
            bySymbol[symbol] = entry
        }
        return bySymbol.compactMap { symbol, entry in
            // One position (every netting account): its own entry price, exactly.
            entry.units == 0 ? nil : PositionReport(symbol: symbol, quantity: entry.units,
                                                    averagePrice: entry.count == 1 ? entry.open : entry.cost / entry.units,
                                                    mark: entry.mark)
        }.sorted { $0.symbol < $1.symbol }
    }

    // MARK: Lookups

    /// Whether an order, deal or position record carries this client order id (comment and magic both match).
    static func carries(_ clientOrderID: String) -> ([String: Any]) -> Bool {
        let magic = Int(Self.magic(for: clientOrderID))
        return { $0["comment"] as? String == clientOrderID && Self.int($0["magic"]) == magic }
    }

    /// Whether a record is one of ours: its comment is a client order id and its magic is that id's.
    static func isOurs(_ record: [String: Any]) -> Bool {
        guard let comment = record["comment"] as? String else { return false }
        return Self.int(record["magic"]) == Int(Self.magic(for: comment))
    }

    /// Our working order with this client order id, as MetaTrader's record.
    func workingRecord(_ clientOrderID: String) async throws(VenueError) -> [String: Any]? {
        try await records("orders_get", [:], key: "orders").first(where: Self.carries(clientOrderID))
    }

    /// Our order with this client order id: working orders first, then the history since `historyStart`.
    func find(_ clientOrderID: String) async throws(VenueError) -> OrderReport? {
        let mine = Self.carries(clientOrderID)
        if let working = try await workingRecord(clientOrderID) {
            return try await report(working, deals: [])
        }
        let past = try await history("history_orders_get", from: historyStart, key: "orders").filter(mine)
        guard let last = past.max(by: { (Self.int($0["ticket"]) ?? 0) < (Self.int($1["ticket"]) ?? 0) }) else { return nil }
        return try await report(last, deals: try await history("history_deals_get", from: historyStart, key: "deals"))
    }

    /// An MT5 order record as our report (nil when it is not one of ours); the average fill price from its deals.
    func report(_ record: [String: Any], deals: [[String: Any]]) async throws(VenueError) -> OrderReport? {
        guard Self.isOurs(record), let comment = record["comment"] as? String else { return nil }
        guard let ticket = Self.int(record["ticket"]), let symbol = record["symbol"] as? String,
              let type = Self.int(record["type"]), let state = Self.int(record["state"]),
              let initial = Self.double(record["volume_initial"]), let current = Self.double(record["volume_current"])
        else { throw .invalidResponse("order record for \(comment): missing ticket, symbol, type, state or volume") }
        let contract = try await self.symbol(symbol).contractSize
        let own = deals.filter { Self.int($0["order"]) == ticket }
        let dealLots = own.reduce(0) { $0 + (Self.double($1["volume"]) ?? 0) }
        let notional = own.reduce(0) { $0 + (Self.double($1["volume"]) ?? 0) * (Self.double($1["price"]) ?? 0) }
        let filledLots = max(dealLots, initial - current)
        let time = Self.int(record["time_done_msc"]).flatMap { $0 > 0 ? $0 : nil } ?? Self.int(record["time_setup_msc"]) ?? 0
        return OrderReport(clientOrderID: comment, venueOrderID: "\(ticket)", symbol: symbol,
                           side: type % 2 == 0 ? .buy : .sell,
                           status: MT5Trade.status(state: state, filledLots: filledLots),
                           quantity: initial * contract, filledQuantity: filledLots * contract,
                           averageFillPrice: dealLots > 0 ? notional / dealLots : 0,
                           time: source.configuration.serverTimeZone.utc(fromLocal: Int64(time)))
    }

    // MARK: Plumbing

    struct SymbolSpec {
        var contractSize: Double, volumeMin: Double, volumeMax: Double, volumeStep: Double, fillingMode: Int

        func filling(immediateOrCancel: Bool) -> Int {
            if immediateOrCancel, fillingMode & MT5Trade.symbolFillingIOC != 0 { return MT5Trade.fillingIOC }
            if fillingMode & MT5Trade.symbolFillingFOK != 0 { return MT5Trade.fillingFOK }
            if fillingMode & MT5Trade.symbolFillingIOC != 0 { return MT5Trade.fillingIOC }
            return MT5Trade.fillingReturn
        }
    }

    func symbol(_ name: String) async throws(VenueError) -> SymbolSpec {
        if let known = symbols[name] { return known }
        let info = try await call { () async throws(SourceError) in try await source.call("symbol_info", ["symbol": name]) }
        guard let contract = Self.double(info["trade_contract_size"]), contract > 0,
              let min = Self.double(info["volume_min"]), let max = Self.double(info["volume_max"]),
              let step = Self.double(info["volume_step"]), step > 0 else {
            throw .invalidResponse("symbol_info for \(name): missing or invalid contract size or volume limits")
        }
        let spec = SymbolSpec(contractSize: contract, volumeMin: min, volumeMax: max, volumeStep: step,
                              fillingMode: Self.int(info["filling_mode"]) ?? 0)
        symbols[name] = spec
        return spec
    }

    /// Lots for an order: units / contract size, a whole number of volume steps within the symbol's limits.
    func lots(for request: OrderRequest, spec: SymbolSpec) async throws(VenueError) -> Double {
        let units: Double
        switch request.size {
        case .units(let n): units = n
        case .closePosition:
            let position = try await positions().first { $0.symbol == request.symbol }
            guard let position, position.quantity * request.side.sign < 0 else {
                throw .refused("no \(request.side == .buy ? "short" : "long") \(request.symbol) position to close")
            }
            units = abs(position.quantity)
        case .equityFraction:
            throw .refused("MT5 orders need a size in units (the order manager resolves equity fractions)")
        }
        let lots = units / spec.contractSize
        let steps = (lots / spec.volumeStep).rounded()
        guard lots.isFinite, lots > 0, abs(steps * spec.volumeStep - lots) <= 1e-9 * max(1, lots) else {
            throw .refused("\(units) units of \(request.symbol) is \(lots) lots, not a multiple of the volume step "
                           + "\(spec.volumeStep) lots (contract size \(spec.contractSize))")
        }
        guard lots >= spec.volumeMin - 1e-12, lots <= spec.volumeMax + 1e-12 else {
            throw .refused("\(lots) lots of \(request.symbol) is outside \(spec.volumeMin)...\(spec.volumeMax) lots")
        }
        return (steps * spec.volumeStep * 1e8).rounded() / 1e8
    }

    func records(_ method: String, _ params: [String: Any], key: String) async throws(VenueError) -> [[String: Any]] {
        let box = ParamsBox(params)
        let result = try await call { () async throws(SourceError) in try await source.call(method, box: box) }
        guard let list = result[key] as? [[String: Any]] else { throw .invalidResponse("\(method): no '\(key)' list") }
        return list
    }

    /// A history method over `[from, now + 1 day]` (UTC ms), in the server's time.
    func history(_ method: String, from: Int64, key: String) async throws(VenueError) -> [[String: Any]] {
        let zone = source.configuration.serverTimeZone
        let to = Swift.max(now(), from) + UTCTime.msPerDay
        // A day's margin before `from` for the zone's offset; never before 1970 (the terminal takes no earlier date).
        let start = Swift.max(0, zone.local(fromUTC: Swift.max(0, from)) - UTCTime.msPerDay)
        return try await records(method, ["from": start, "to": zone.local(fromUTC: to)], key: key)
    }

    func call<T>(_ body: () async throws(SourceError) -> T) async throws(VenueError) -> T {
        do throws(SourceError) { return try await body() } catch { throw Self.venueError(error) }
    }

    static func venueError(_ error: SourceError) -> VenueError {
        switch error {
        case .transient(let m): .connectivity(m)
        case .rateLimited(let after): .rateLimited(retryAfterMs: Int64(Swift.min(86_400, Swift.max(0, after ?? 1)) * 1000))
        case .unauthorized(let m): .refused("the MT5 bridge refused the token: \(m)")
        case .invalidRequest(let m): .refused(m)
        case .badResponse(let m): .invalidResponse(m)
        case .data(let e): .invalidResponse(e.description)
        case .cancelled: .connectivity("cancelled")
        }
    }

    static func check(_ clientOrderID: String) throws(VenueError) {
        guard !clientOrderID.isEmpty, clientOrderID.utf8.count <= maxComment,
              clientOrderID.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else {
            throw .refused("client order id '\(UntrustedText.sanitized(clientOrderID, limit: 40))' must be 1-\(maxComment) "
                           + "printable ASCII characters (it travels in MetaTrader's order comment)")
        }
    }

    static func int(_ value: Any?) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, abs(d) < 9e15, d == d.rounded() else { return nil }
        return n.intValue
    }

    static func double(_ value: Any?) -> Double? {
        guard let n = value as? NSNumber, n.doubleValue.isFinite else { return nil }
        return n.doubleValue
    }
}
