import Common
import MarketData
import Foundation

/// Bars from Alpaca Market Data v2: US stocks (`/v2/stocks/bars`) and crypto (`/v1beta3/crypto/{loc}/bars`,
/// symbols with a slash such as `BTC/USD`). Alpaca has no forex. Pages are followed through `next_page_token`;
/// requests go through a token bucket (`requestsPerMinute`) and `RetryPolicy`; a 429 pauses the bucket until the
/// `X-Ratelimit-Reset` time and is retried.
///
/// Timestamps are Alpaca's bar start times (daily stock bars start at 00:00 New York, e.g. 05:00Z in winter).
///
///     let source = AlpacaSource(configuration: .fromEnvironment())
///     let bars = try await source.fetchOHLCV(symbol: "AAPL", timeframe: .h1, start: from, end: to)
public struct AlpacaSource: DataSource {
    public let name = "alpaca"
    public let configuration: AlpacaConfiguration
    private let client: HTTPClient
    private let limiter: TokenBucket
    /// The wall clock (UTC ms) for `latest`; replaceable in tests.
    var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    public init(configuration: AlpacaConfiguration) {
        self.configuration = configuration
        client = HTTPClient(timeout: configuration.timeout)
        let perMinute = configuration.requestsPerMinute
        limiter = TokenBucket(capacity: max(1, perMinute / 10), ratePerSecond: Double(perMinute) / 60)
    }

    public static func isCrypto(_ symbol: String) -> Bool { symbol.contains("/") }

    public func fetchOHLCV(symbol: String, timeframe: Timeframe, start: Int64, end: Int64)
        async throws(SourceError) -> BarSeries
    {
        try checkRange(start, end)
        let bars = try await fetch(symbol: symbol, timeframe: timeframe, start: start, end: end - 1, limit: nil,
                                   descending: false)
        return normalised(symbol: symbol, timeframe: timeframe, bars: bars, start: start, end: end)
    }

    public func latest(symbol: String, timeframe: Timeframe, count: Int) async throws(SourceError) -> BarSeries {
        guard count > 0 else { return .empty(symbol: symbol, timeframe: timeframe) }
        // Look back far enough to cover weekends and holidays, newest first, and stop after `count` rows.
        let end = now()
        // count comes from the user: cap the look-back (and its arithmetic) at about 100 years.
        let span = Int64(min(count, 1_000_000_000)).multipliedReportingOverflow(by: timeframe.milliseconds * 3)
        let lookback = min(max(span.overflow ? Int64.max : span.partialValue, 10 * UTCTime.msPerDay),
                           36_525 * UTCTime.msPerDay)
        let bars = try await fetch(symbol: symbol, timeframe: timeframe, start: end - lookback, end: end, limit: count,
                                   descending: true)
        return normalised(symbol: symbol, timeframe: timeframe, bars: bars)
    }

    public func supportedSymbols() async throws(SourceError) -> [String] {
        try configuration.validate()
        let response = try await request("alpaca assets", configuration.tradingURL + "/v2/assets",
                                         [("status", "active")])
        struct Asset: Decodable { let symbol: String; let tradable: Bool? }
        let assets: [Asset]
        do {
            assets = try JSONDecoder().decode([Asset].self, from: response.body)
        } catch {
            throw .badResponse("assets: \(UntrustedText.sanitized("\(error)"))")
        }
        return assets.filter { $0.tradable ?? true }.map(\.symbol).sorted()
    }

    /// One JSON page of `/bars`.
    struct Page: Decodable {
        struct Row: Decodable {
            let t: String
            let o: Double, h: Double, l: Double, c: Double, v: Double
        }
        let bars: [String: [Row]]?
        let next_page_token: String?
    }

    func fetch(symbol: String, timeframe: Timeframe, start: Int64, end: Int64, limit: Int?, descending: Bool)
        async throws(SourceError) -> [Bar]
    {
        try configuration.validate()
        let crypto = Self.isCrypto(symbol)
        let url = crypto ? "\(configuration.dataURL)/v1beta3/crypto/\(configuration.cryptoLocation)/bars"
            : "\(configuration.dataURL)/v2/stocks/bars"
        var base: [(String, String)] = [
            ("symbols", symbol), ("timeframe", AlpacaConfiguration.timeframe(timeframe)),
            ("start", UTCTime.iso8601(start)), ("end", UTCTime.iso8601(end)),
            ("limit", String(min(configuration.pageLimit, limit ?? Int.max))), ("sort", descending ? "desc" : "asc"),
        ]
        if !crypto {
            base.append(("adjustment", configuration.adjustment))
            if let feed = configuration.feed { base.append(("feed", feed)) }
        }
        var bars: [Bar] = []
        var token: String?
        var pages = 0
        repeat {
            let query = base + (token.map { [("page_token", $0)] } ?? [])
            let response = try await request("alpaca bars \(symbol)", url, query)
            let page: Page
            do {
                page = try JSONDecoder().decode(Page.self, from: response.body)
            } catch {
                throw .badResponse("bars page \(pages + 1) for \(symbol): \(UntrustedText.sanitized("\(error)"))")
            }
            for row in page.bars?[symbol] ?? [] {
                guard let t = DateFormat.parseISO(Array(row.t.utf8)[...]), t.isAbsolute else {
                    throw .badResponse("bar time '\(UntrustedText.sanitized(row.t, limit: 40))' for \(symbol) is not RFC 3339")
                }
                let bar = Bar(timestamp: t.milliseconds, open: row.o, high: row.h, low: row.l, close: row.c, volume: row.v)
                guard [bar.open, bar.high, bar.low, bar.close, bar.volume].allSatisfy(\.isFinite) else {
                    throw .badResponse("non-finite value in bar \(UTCTime.iso8601(t.milliseconds)) for \(symbol)")
                }
                bars.append(bar)
            }
            pages += 1
            token = page.next_page_token.flatMap { $0.isEmpty ? nil : $0 }
            if let limit, bars.count >= limit { bars.removeLast(bars.count - limit); break }
            guard pages < 100_000 else { throw .badResponse("more than 100000 pages: the server keeps paging") }
        } while token != nil
        Log.debug("alpaca bars", ["symbol": symbol, "timeframe": timeframe.description, "rows": "\(bars.count)",
                                  "pages": "\(pages)"])
        return bars
    }

    /// One rate-limited, retried GET. A 429 empties the token bucket until Alpaca's reset time.
    private func request(_ what: String, _ url: String, _ query: [(String, String)]) async throws(SourceError)
        -> HTTPClient.Response
    {
        let client = self.client, limiter = self.limiter, headers = configuration.authHeaders
        let retry = configuration.retry
        return try await retry.run(what) { () async throws(SourceError) -> HTTPClient.Response in
            try await limiter.acquire()
            do throws(SourceError) {
                return try await client.get(url, query: query, headers: headers)
            } catch {
                // A reset further away than the policy waits ends the retries: do not stall the bucket for it.
                if case .rateLimited(let after) = error, !retry.waitsTooLong(error) { await limiter.pause(for: after ?? 1) }
                throw error
            }
        }
    }
}
