import Common

/// A provider of OHLCV bars: a CSV directory, Alpaca's market-data API, a MetaTrader 5 terminal (via its bridge).
///
/// Every source returns the same normalised `BarSeries`: UTC epoch-ms bar-open timestamps, sorted, unique, and
/// only bars with `start <= t < end`. Network sources share `RetryPolicy` (exponential backoff with jitter on
/// transient errors only) and `TokenBucket` (rate limiting); all honour task cancellation.
///
///     let source: any DataSource = AlpacaSource(configuration: .fromEnvironment())
///     let bars = try await source.fetchOHLCV(symbol: "AAPL", timeframe: .h1,
///                                            start: UTCTime.parse("2024-01-02")!, end: UTCTime.parse("2024-02-01")!)
public protocol DataSource: Sendable {
    /// `csv`, `alpaca`, `mt5`.
    var name: String { get }

    /// Bars with open time in `[start, end)` (UTC epoch ms).
    func fetchOHLCV(symbol: String, timeframe: Timeframe, start: Int64, end: Int64) async throws(SourceError) -> BarSeries

    /// The most recent `count` bars (fewer when the source has fewer).
    func latest(symbol: String, timeframe: Timeframe, count: Int) async throws(SourceError) -> BarSeries

    /// The symbols this source can serve.
    func supportedSymbols() async throws(SourceError) -> [String]
}

/// Why a source could not deliver. `isTransient` decides whether `RetryPolicy` tries again.
public enum SourceError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Network failure, timeout, 5xx: worth retrying.
    case transient(String)
    /// HTTP 429 or the vendor's equivalent; `retryAfter` (seconds) when the vendor said when to come back.
    case rateLimited(retryAfter: Double?)
    /// Missing or rejected credentials (never retried; the message never contains the secrets).
    case unauthorized(String)
    /// The request itself is wrong (unknown symbol, unsupported timeframe, bad range): not retried.
    case invalidRequest(String)
    /// The vendor answered with something that is not valid data.
    case badResponse(String)
    /// Bad input data (CSV), located by file, line and field.
    case data(DataError)
    case cancelled

    public var isTransient: Bool {
        switch self {
        case .transient, .rateLimited: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .transient(let m): "transient error: \(m)"
        case .rateLimited(let after): "rate limited" + (after.map { " (retry after \($0) s)" } ?? "")
        case .unauthorized(let m): "unauthorized: \(m)"
        case .invalidRequest(let m): "invalid request: \(m)"
        case .badResponse(let m): "bad response: \(m)"
        case .data(let e): e.description
        case .cancelled: "cancelled"
        }
    }
}

extension DataSource {
    /// Checks `start < end` and a positive count, shared by every source.
    package func checkRange(_ start: Int64, _ end: Int64) throws(SourceError) {
        guard start < end else {
            throw .invalidRequest("empty range: start \(UTCTime.iso8601(start)) is not before end \(UTCTime.iso8601(end))")
        }
    }
}

/// Sorts by time and keeps the last of duplicate timestamps, then restricts to `[start, end)`: the normal form.
package func normalised(symbol: String, timeframe: Timeframe, bars: [Bar], start: Int64? = nil, end: Int64? = nil) -> BarSeries {
    var sorted = bars
    if !zip(bars, bars.dropFirst()).allSatisfy({ $0.timestamp < $1.timestamp }) {
        sorted = bars.enumerated().sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }
            .map(\.element)
        var unique: [Bar] = []
        unique.reserveCapacity(sorted.count)
        for bar in sorted {
            if let last = unique.last, last.timestamp == bar.timestamp { unique[unique.count - 1] = bar } else {
                unique.append(bar)
            }
        }
        sorted = unique
    }
    return BarSeries(symbol: symbol, timeframe: timeframe, bars: sorted).slice(from: start, to: end)
}
