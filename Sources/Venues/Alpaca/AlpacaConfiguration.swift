import Common
import MarketData
import Foundation

/// Settings of the Alpaca Market Data v2 client. Keys come from the environment (`APCA_API_KEY_ID`,
/// `APCA_API_SECRET_KEY`, the names Alpaca's SDKs use) or from configuration; they are sent as the
/// `APCA-API-KEY-ID` / `APCA-API-SECRET-KEY` headers and never logged or printed (`description` masks them).
///
///     var config = AlpacaConfiguration.fromEnvironment()
///     config.feed = "sip"              // stocks: iex (free), sip (paid), otc, boats
///     config.adjustment = "all"        // raw, split, dividend, all
///     let source = AlpacaSource(configuration: config)
public struct AlpacaConfiguration: Sendable, CustomStringConvertible {
    /// Market data endpoint (`https://data.alpaca.markets`); tests point it at a local fake server.
    public var dataURL: String
    /// Trading endpoint (`https://paper-api.alpaca.markets`; live: `https://api.alpaca.markets`).
    public var tradingURL: String
    /// Market-data stream host (`wss://stream.data.alpaca.markets`); the feed's path is appended (`/v2/iex`).
    public var dataStreamURL: String
    /// The trading stream (`trade_updates`); nil: the trading endpoint's host with `wss://` and `/stream`.
    public var tradingStreamURL: String?
    /// Seconds without any frame (data, ping or pong) after which a stream counts as silent and is reconnected.
    public var streamSilenceLimit: Double
    public var keyID: String?
    public var secretKey: String?
    /// Stock feed: `iex`, `sip`, `otc`, `boats`; nil = the account's default.
    public var feed: String?
    /// Corporate-action adjustment of stock bars: `raw`, `split`, `dividend`, `all`.
    public var adjustment: String
    /// Crypto venue location in `/v1beta3/crypto/{loc}/bars`.
    public var cryptoLocation: String
    /// Rows per page (Alpaca's maximum is 10,000).
    public var pageLimit: Int
    /// Client-side rate limit (Alpaca: 200 requests a minute on the free plan).
    public var requestsPerMinute: Int
    public var retry: RetryPolicy
    /// Seconds per HTTP request.
    public var timeout: Double

    public init(dataURL: String = "https://data.alpaca.markets", tradingURL: String = "https://paper-api.alpaca.markets",
                keyID: String? = nil, secretKey: String? = nil, feed: String? = nil, adjustment: String = "raw",
                cryptoLocation: String = "us", pageLimit: Int = 10_000, requestsPerMinute: Int = 200,
                retry: RetryPolicy = RetryPolicy(), timeout: Double = 30,
                dataStreamURL: String = "wss://stream.data.alpaca.markets", tradingStreamURL: String? = nil,
                streamSilenceLimit: Double = 30) {
        self.dataURL = dataURL
        self.tradingURL = tradingURL
        self.dataStreamURL = dataStreamURL
        self.tradingStreamURL = tradingStreamURL
        self.streamSilenceLimit = streamSilenceLimit.isFinite && streamSilenceLimit > 0 ? min(streamSilenceLimit, 3_600) : 30
        self.keyID = keyID
        self.secretKey = secretKey
        self.feed = feed
        self.adjustment = adjustment
        self.cryptoLocation = cryptoLocation
        self.pageLimit = min(10_000, max(1, pageLimit))
        self.requestsPerMinute = max(1, requestsPerMinute)
        self.retry = retry
        self.timeout = timeout
    }

    /// Reads `APCA_API_KEY_ID`, `APCA_API_SECRET_KEY`, `APCA_API_DATA_URL`, `APCA_API_BASE_URL`,
    /// `APCA_API_STREAM_URL` (the market-data stream host, as Alpaca's Python SDK reads it),
    /// `APCA_API_TRADING_STREAM_URL` (the trading stream, when it is not the base URL's `/stream`), `ALPACA_FEED`,
    /// `ALPACA_REQUESTS_PER_MINUTE` (the client-side rate limit; Alpaca's is 200 — raise it only for a server that
    /// allows more, such as the local fake replaying history at an accelerated clock).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> AlpacaConfiguration
    {
        var c = AlpacaConfiguration()
        c.keyID = environment["APCA_API_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        c.secretKey = environment["APCA_API_SECRET_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if let url = environment["APCA_API_DATA_URL"], !url.isEmpty { c.dataURL = url }
        if let url = environment["APCA_API_BASE_URL"], !url.isEmpty { c.tradingURL = url }
        if let url = environment["APCA_API_STREAM_URL"], !url.isEmpty { c.dataStreamURL = url }
        if let url = environment["APCA_API_TRADING_STREAM_URL"], !url.isEmpty { c.tradingStreamURL = url }
        if let feed = environment["ALPACA_FEED"], !feed.isEmpty { c.feed = feed }
        if let text = environment["ALPACA_REQUESTS_PER_MINUTE"], let n = Int(text), n > 0 { c.requestsPerMinute = min(n, 1_000_000) }
        return c
    }

    public static let adjustments = ["raw", "split", "dividend", "all"]
    public static let feeds = ["iex", "sip", "otc", "boats", "delayed_sip", "overnight"]

    /// Checks option values before any request is sent.
    public func validate() throws(SourceError) {
        guard Self.adjustments.contains(adjustment) else {
            throw .invalidRequest("adjustment '\(adjustment)' is not one of \(Self.adjustments.joined(separator: ", "))")
        }
        if let feed, !Self.feeds.contains(feed) {
            throw .invalidRequest("feed '\(feed)' is not one of \(Self.feeds.joined(separator: ", "))")
        }
    }

    /// True for Alpaca's live trading endpoint (real money); any other server (paper, a local fake) is not live.
    public var isLiveTrading: Bool {
        URLComponents(string: tradingURL)?.host?.lowercased() == "api.alpaca.markets"
    }

    /// The trading stream's URL: `tradingStreamURL`, else the trading endpoint with `ws(s)://` and `/stream`.
    public var resolvedTradingStreamURL: String {
        if let tradingStreamURL { return tradingStreamURL }
        var base = tradingURL.hasSuffix("/") ? String(tradingURL.dropLast()) : tradingURL
        if base.hasPrefix("https://") { base = "wss://" + base.dropFirst(8) } else if base.hasPrefix("http://") {
            base = "ws://" + base.dropFirst(7)
        }
        return base + "/stream"
    }

    /// The market-data stream's URL for stocks (`/v2/<feed>`) or crypto (`/v1beta3/crypto/<location>`).
    public func resolvedDataStreamURL(crypto: Bool) -> String {
        let base = dataStreamURL.hasSuffix("/") ? String(dataStreamURL.dropLast()) : dataStreamURL
        return crypto ? base + "/v1beta3/crypto/\(cryptoLocation)" : base + "/v2/\(feed ?? "iex")"
    }

    var authHeaders: [String: String] {
        var h: [String: String] = [:]
        if let keyID { h["APCA-API-KEY-ID"] = keyID }
        if let secretKey { h["APCA-API-SECRET-KEY"] = secretKey }
        return h
    }

    public var description: String {
        "AlpacaConfiguration(tradingURL: \(tradingURL), dataURL: \(dataURL), key: \(keyID == nil ? "none" : "***"), feed: \(feed ?? "default"), "
            + "adjustment: \(adjustment))"
    }

    /// Alpaca's timeframe spelling: `1Min` ... `30Min`, `1Hour`, `4Hour`, `1Day`, `1Week`, `1Month`.
    public static func timeframe(_ tf: Timeframe) -> String {
        switch tf {
        case .m1: "1Min"
        case .m5: "5Min"
        case .m15: "15Min"
        case .m30: "30Min"
        case .h1: "1Hour"
        case .h4: "4Hour"
        case .d1: "1Day"
        case .w1: "1Week"
        case .mn1: "1Month"
        }
    }
}
