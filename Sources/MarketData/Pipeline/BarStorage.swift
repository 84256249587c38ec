import Common
import Foundation

/// What `DataPipeline` needs from a bar store: merge bars in, read a range back, know what is stored.
/// `ParquetBarStore` (Parquet files + SQLite catalogue) is the persistent implementation; `MemoryBarStorage`
/// keeps series in memory (tests, dry runs).
public protocol BarStorage: Sendable {
    /// Merges `series` into its dataset: new bars are added, bars identical to stored ones are skipped, and a
    /// stored bar that differs is an error. Returns the number of bars added.
    func merge(_ series: BarSeries, source: String) throws -> Int
    /// Stored bars with `start <= t < end` (nil = unbounded); empty when nothing is stored.
    func bars(symbol: String, timeframe: Timeframe, start: Int64?, end: Int64?) throws -> BarSeries
    /// What is stored, one entry per symbol and timeframe.
    func catalogue() throws -> [StoredSeries]
}

/// One stored dataset, as listed by `aitrader data list`.
public struct StoredSeries: Equatable, Sendable {
    public var symbol: String
    public var timeframe: Timeframe
    public var rows: Int
    public var first: Int64?
    public var last: Int64?
    public var source: String

    public init(symbol: String, timeframe: Timeframe, rows: Int, first: Int64?, last: Int64?, source: String) {
        self.symbol = symbol
        self.timeframe = timeframe
        self.rows = rows
        self.first = first
        self.last = last
        self.source = source
    }
}

extension BarStorage {
    /// Open time of the last stored bar, nil when none.
    public func lastTimestamp(symbol: String, timeframe: Timeframe) throws -> Int64? {
        try catalogue().first { $0.symbol == symbol && $0.timeframe == timeframe }?.last
    }
}

/// Merge conflicts reported by `MemoryBarStorage`.
public struct BarConflict: Error, CustomStringConvertible, Sendable {
    public var symbol: String
    public var timeframe: Timeframe
    public var timestamp: Int64
    public var description: String {
        "\(symbol) \(timeframe): incoming bar at \(UTCTime.iso8601(timestamp)) differs from the stored one"
    }
}

/// An in-memory `BarStorage` with the same merge rules as the Parquet store.
public final class MemoryBarStorage: BarStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var series: [String: (BarSeries, String)] = [:]

    public init() {}

    private static func key(_ symbol: String, _ tf: Timeframe) -> String { "\(symbol)\u{0}\(tf)" }

    public func merge(_ incoming: BarSeries, source: String) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        let key = Self.key(incoming.symbol, incoming.timeframe)
        let stored = series[key]?.0 ?? .empty(symbol: incoming.symbol, timeframe: incoming.timeframe)
        var byTime: [Int64: Bar] = [:]
        for bar in stored.bars { byTime[bar.timestamp] = bar }
        var added = 0
        for bar in incoming.bars {
            if let old = byTime[bar.timestamp] {
                if old != bar { throw BarConflict(symbol: incoming.symbol, timeframe: incoming.timeframe, timestamp: bar.timestamp) }
            } else {
                byTime[bar.timestamp] = bar
                added += 1
            }
        }
        let merged = byTime.values.sorted { $0.timestamp < $1.timestamp }
        series[key] = (BarSeries(symbol: incoming.symbol, timeframe: incoming.timeframe, bars: merged), source)
        return added
    }

    public func bars(symbol: String, timeframe: Timeframe, start: Int64?, end: Int64?) throws -> BarSeries {
        lock.lock()
        defer { lock.unlock() }
        return (series[Self.key(symbol, timeframe)]?.0 ?? .empty(symbol: symbol, timeframe: timeframe))
            .slice(from: start, to: end)
    }

    public func catalogue() throws -> [StoredSeries] {
        lock.lock()
        defer { lock.unlock() }
        return series.values.map { s, source in
            StoredSeries(symbol: s.symbol, timeframe: s.timeframe, rows: s.count, first: s.timestamps.first,
                         last: s.timestamps.last, source: source)
        }.sorted { ($0.symbol, $0.timeframe.milliseconds) < ($1.symbol, $1.timeframe.milliseconds) }
    }
}
