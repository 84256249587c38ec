import Common
import MarketData
import Foundation

/// Settings of the MetaTrader 5 source: where the bridge listens, the shared token (from `AITRADER_MT5_TOKEN`
/// or configuration; never logged), and the broker's server time zone (MT5 stamps bars in server time).
public struct MT5Configuration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var token: String
    /// The broker server's clock: `NY+7` (GMT+2/+3 with US DST, the usual "New York close" server), `UTC`, `+02:00`.
    public var serverTimeZone: TimeZoneRule
    /// Seconds for connect and for each request.
    public var timeout: Double
    public var retry: RetryPolicy
    /// Bars asked for per `rates_range` request; longer ranges are split.
    public var maxBarsPerRequest: Int

    public init(host: String = "127.0.0.1", port: Int = 18812, token: String, serverTimeZone: TimeZoneRule = .utc,
                timeout: Double = 30, retry: RetryPolicy = RetryPolicy(maxAttempts: 3), maxBarsPerRequest: Int = 50_000) {
        self.host = host
        self.port = port
        self.token = token
        self.serverTimeZone = serverTimeZone
        self.timeout = timeout
        self.retry = retry
        self.maxBarsPerRequest = max(1, maxBarsPerRequest)
    }

    public var description: String {
        "MT5Configuration(\(host):\(port), token: ***, server time: \(serverTimeZone))"
    }

    /// MetaTrader's timeframe names.
    public static func timeframe(_ tf: Timeframe) -> String {
        switch tf {
        case .m1: "M1"
        case .m5: "M5"
        case .m15: "M15"
        case .m30: "M30"
        case .h1: "H1"
        case .h4: "H4"
        case .d1: "D1"
        case .w1: "W1"
        case .mn1: "MN1"
        }
    }
}

/// Bars from a MetaTrader 5 terminal (forex, CFDs) through `integrations/mt5/mt5_bridge.py`, the small server
/// that runs beside the terminal and uses MetaQuotes' official `MetaTrader5` package. Server-time stamps are
/// converted to UTC with `serverTimeZone`; long ranges are fetched in chunks; transport errors reconnect and retry.
///
///     let source = MT5Source(configuration: MT5Configuration(token: token, serverTimeZone: try TimeZoneRule(parsing: "NY+7")))
///     let bars = try await source.fetchOHLCV(symbol: "EURUSD", timeframe: .h1, start: from, end: to)
///     let quote = try await source.tick(symbol: "EURUSD")
public struct MT5Source: DataSource {
    public let name = "mt5"
    public let configuration: MT5Configuration
    /// The bridge connection; an `MT5Broker` built on this source shares it (one connection for bars and orders).
    let connection: MT5Connection

    public init(configuration: MT5Configuration) {
        self.configuration = configuration
        connection = MT5Connection(host: configuration.host, port: configuration.port, token: configuration.token,
                                   timeout: configuration.timeout)
    }

    /// A best bid/ask snapshot.
    public struct Quote: Sendable, Equatable {
        public var symbol: String
        public var bid: Double, ask: Double, last: Double
        /// UTC epoch ms.
        public var time: Int64
    }

    func call(_ method: String, _ params: [String: Any] = [:]) async throws(SourceError) -> [String: Any] {
        try await call(method, box: ParamsBox(params))
    }

    /// A bridge call with retries on transient errors (reads only: never `order_send`).
    func call(_ method: String, box: ParamsBox) async throws(SourceError) -> [String: Any] {
        let connection = self.connection
        let reply = try await configuration.retry.run("mt5 \(method)") { () async throws(SourceError) -> ParamsBox in
            try await connection.call(method, box)
        }
        return reply.value
    }

    public func fetchOHLCV(symbol: String, timeframe: Timeframe, start: Int64, end: Int64)
        async throws(SourceError) -> BarSeries
    {
        try checkRange(start, end)
        let zone = configuration.serverTimeZone
        // Server-time range, padded a day each side for offset changes; the exact UTC range is cut afterwards.
        let from = zone.local(fromUTC: start) - UTCTime.msPerDay
        let to = zone.local(fromUTC: end) + UTCTime.msPerDay
        // maxBarsPerRequest is configuration: keep the chunk span (and chunkStart + span) far from overflow.
        let span = Int64(min(configuration.maxBarsPerRequest, 1_000_000_000)) * timeframe.milliseconds
        var bars: [Bar] = []
        var chunkStart = from
        while chunkStart <= to {
            if Task.isCancelled { throw .cancelled }
            let chunkEnd = min(to, chunkStart + span - 1)
            let result = try await call("rates_range", ["symbol": symbol, "timeframe": MT5Configuration.timeframe(timeframe),
                                                         "from": chunkStart, "to": chunkEnd])
            bars += try rates(result, symbol: symbol)
            chunkStart = chunkEnd + 1
        }
        return normalised(symbol: symbol, timeframe: timeframe, bars: bars, start: start, end: end)
    }

    public func latest(symbol: String, timeframe: Timeframe, count: Int) async throws(SourceError) -> BarSeries {
        guard count > 0 else { return .empty(symbol: symbol, timeframe: timeframe) }
        let result = try await call("rates_from_pos", ["symbol": symbol, "timeframe": MT5Configuration.timeframe(timeframe),
                                                        "start_pos": 0, "count": count])
        return normalised(symbol: symbol, timeframe: timeframe, bars: try rates(result, symbol: symbol))
    }

    public func supportedSymbols() async throws(SourceError) -> [String] {
        let result = try await call("symbols")
        guard let list = result["symbols"] as? [[String: Any]] else { throw .badResponse("symbols: no list") }
        return list.compactMap { $0["name"] as? String }.sorted()
    }

    public func tick(symbol: String) async throws(SourceError) -> Quote {
        let r = try await call("tick", ["symbol": symbol])
        guard let bid = r["bid"] as? Double, let ask = r["ask"] as? Double, let time = r["time_ms"] as? Int64 ?? (r["time_ms"] as? Int).map(Int64.init)
        else { throw .badResponse("tick for \(symbol): missing bid, ask or time_ms") }
        guard UTCTime.supportedRange.contains(time) else {
            throw .badResponse("tick for \(symbol): time_ms \(time) is outside years 1-9999")
        }
        return Quote(symbol: symbol, bid: bid, ask: ask, last: r["last"] as? Double ?? 0,
                     time: configuration.serverTimeZone.utc(fromLocal: time))
    }

    /// Closes the bridge connection (the next call reconnects).
    public func disconnect() async { await connection.disconnect() }

    /// `[[time_ms, o, h, l, c, tick_volume, spread, real_volume]]` in server time -> bars in UTC.
    /// Volume is the real volume where the broker reports one, else tick volume (FX and CFDs).
    private func rates(_ result: [String: Any], symbol: String) throws(SourceError) -> [Bar] {
        guard let rows = result["rates"] as? [[Any]] else { throw .badResponse("rates for \(symbol): no list") }
        let zone = configuration.serverTimeZone
        var bars: [Bar] = []
        bars.reserveCapacity(rows.count)
        for row in rows {
            let values = row.compactMap { ($0 as? NSNumber)?.doubleValue }
            guard values.count >= 8, values[0...5].allSatisfy(\.isFinite) else {
                throw .badResponse("rates for \(symbol): malformed row \(UntrustedText.sanitized("\(row)", limit: 200))")
            }
            // The bridge's time is untrusted: in range before the (otherwise trapping) conversion to Int64.
            guard values[0] >= Double(UTCTime.supportedRange.lowerBound), values[0] <= Double(UTCTime.supportedRange.upperBound) else {
                throw .badResponse("rates for \(symbol): bar time \(values[0]) ms is outside years 1-9999")
            }
            let volume = values[7] > 0 ? values[7] : values[5]
            bars.append(Bar(timestamp: zone.utc(fromLocal: Int64(values[0])), open: values[1], high: values[2],
                            low: values[3], close: values[4], volume: volume))
        }
        return bars
    }
}

/// Carries JSON dictionaries (plist-like values only) across the retry closure.
struct ParamsBox: @unchecked Sendable {
    let value: [String: Any]
    init(_ value: [String: Any]) { self.value = value }
}
