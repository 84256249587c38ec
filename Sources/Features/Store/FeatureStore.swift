import Common
import Foundation
import MarketData

/// Computed features kept as Parquet next to the bar store, keyed by content so that changed bars, a changed
/// feature configuration or new feature code invalidate exactly the files they affect.
///
/// Layout under the data root (the same root as `ParquetBarStore`):
///
///     features/<SYMBOL>/<tf>/<model>.parquet    timestamp + one DOUBLE column per feature (NaN in warm-up rows),
///                                               row groups of 65536 bars with timestamp statistics
///
/// Each file carries its cache key in the Parquet key-value metadata: SHA-256 over the source bars' content hash
/// (the bar store's file checksum), the feature set's configuration hash and `FeatureCodeVersion.current`; plus
/// the feature names and their warm-up lengths. `features(...)` recomputes only when the key differs, and reads
/// only the row groups (and columns) a time range needs.
///
///     let store = try FeatureStore(root: "data")
///     try store.computeAndStore(symbol: "EURUSD", timeframe: .h1, model: .mediumTerm)
///     let frame = try store.features(symbol: "EURUSD", timeframe: .h1, model: .mediumTerm,
///                                    start: UTCTime.milliseconds(year: 2017, month: 6, day: 1), end: nil)
///     try store.featureNames(model: .shortTerm)
public final class FeatureStore: Sendable {
    public let root: String
    public let bars: ParquetBarStore
    public let configDirectory: String
    public let rowGroupRows: Int
    /// Day/week/month bins for timeframes served by resampling a finer stored one (see `ParquetBarStore.bars`).
    public let bins: BinCalendar

    /// What a stored feature file holds.
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var key: String
        public var rows: Int
        public var names: [String]
        public var lookbacks: [Int]
        /// True when this call computed and wrote the file (false: the stored file was current).
        public var computed: Bool
    }

    /// `bars` defaults to the bar store at `root`, opened read-only (features never create or change bars).
    public init(root: String, bars: ParquetBarStore? = nil, configDirectory: String = "configs/features",
                rowGroupRows: Int = 65_536, bins: BinCalendar = .utc) throws {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.bars = try bars ?? ParquetBarStore(readOnly: self.root)
        self.configDirectory = configDirectory
        self.rowGroupRows = rowGroupRows
        self.bins = bins
    }

    // MARK: configuration

    public func featureSet(model: ModelKind) throws(FeatureError) -> FeatureSet {
        try FeatureSet.load(model: model, directory: configDirectory)
    }

    /// The feature names (column order) a model type consumes.
    public func featureNames(model: ModelKind) throws(FeatureError) -> [String] { try featureSet(model: model).names }

    public func path(symbol: String, timeframe: Timeframe, model: ModelKind) throws -> String {
        let barPath = try ParquetBarStore.relativePath(symbol: symbol, timeframe: timeframe)
        // bars/<SYMBOL>/<tf>.parquet -> features/<SYMBOL>/<tf>/<model>.parquet
        let parts = barPath.split(separator: "/")
        let stem = String(parts[2].dropLast(".parquet".count))
        return "\(root)/features/\(parts[1])/\(stem)/\(model.rawValue).parquet"
    }

    /// The cache key the stored file must carry to be current: over the stored dataset's checksum, or for a
    /// timeframe served by resampling, over the finer dataset's checksum and the resampling.
    public func cacheKey(symbol: String, timeframe: Timeframe, set: FeatureSet) throws -> String {
        do {
            return Self.key(barsHash: try bars.servingDataset(symbol: symbol, timeframe: timeframe, bins: bins).contentKey,
                            set: set)
        } catch where error.kind == .notFound {
            throw FeatureError(reason: error.reason)
        }
    }

    static func key(barsHash: String, set: FeatureSet) -> String {
        ContentHash.hex(of: Array("bars:\(barsHash)|config:\(set.configHash)|code:\(FeatureCodeVersion.current)".utf8))
    }

    // MARK: writing

    /// Computes the model's features over every bar of the symbol and timeframe (stored, or resampled from a finer
    /// stored timeframe: `ParquetBarStore.bars`) and writes them, unless the stored file already has the current
    /// key (then nothing is computed; `force` recomputes anyway).
    @discardableResult
    /// `progress`: reports the indicator computations (`features compute` shows it on stderr; nothing by default).
    public func computeAndStore(symbol: String, timeframe: Timeframe, model: ModelKind, force: Bool = false,
                                progress: ProgressReporter = .disabled) throws -> Entry {
        var progress = progress
        let set = try featureSet(model: model)
        let key = try cacheKey(symbol: symbol, timeframe: timeframe, set: set)
        let file = try path(symbol: symbol, timeframe: timeframe, model: model)
        if !force, let existing = try storedEntry(path: file), existing.key == key { return existing }
        let served = try bars.bars(symbol: symbol, timeframe: timeframe, bins: bins)
        let computedKey = Self.key(barsHash: served.contentKey, set: set)   // the bars actually read
        let frame = set.compute(served.series, progress: &progress)
        progress.finish()
        try write(frame, key: computedKey, set: set, to: file)
        return Entry(path: file, key: computedKey, rows: frame.count, names: frame.names, lookbacks: frame.lookbacks, computed: true)
    }

    func write(_ frame: FeatureFrame, key: String, set: FeatureSet, to file: String) throws {
        try AtomicFile.createDirectories(URL(fileURLWithPath: file).deletingLastPathComponent().path)
        try FeatureFrameParquet.write(frame, to: file, rowGroupRows: rowGroupRows, metadata: [
            "aitrader.features.key": key,
            "aitrader.features.model": set.model.rawValue,
            "aitrader.features.config": set.configHash,
            "aitrader.features.code_version": String(FeatureCodeVersion.current),
        ])
    }

    // MARK: reading

    /// The stored file's entry (nil when there is none).
    public func storedEntry(symbol: String, timeframe: Timeframe, model: ModelKind) throws -> Entry? {
        try storedEntry(path: path(symbol: symbol, timeframe: timeframe, model: model))
    }

    func storedEntry(path file: String) throws -> Entry? {
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        let reader = try ParquetReader(path: file)
        let meta = reader.keyValueMetadata
        let names = reader.fields.map(\.name).filter { $0 != "timestamp" }
        let lookbacks = (meta["aitrader.features.lookbacks"] ?? "").split(separator: ",").compactMap { Int($0) }
        return Entry(path: file, key: meta["aitrader.features.key"] ?? "", rows: reader.rowCount, names: names,
                     lookbacks: lookbacks.count == names.count ? lookbacks : Array(repeating: 0, count: names.count),
                     computed: false)
    }

    /// Features with `start <= timestamp < end` (nil = unbounded), recomputed first if the bars, the configuration or
    /// the code changed. Only the row groups overlapping the range, and only `columns` (all when nil), are decoded.
    /// Lookbacks in the returned frame count from its first row (a range starting after the warm-up has none).
    public func features(symbol: String, timeframe: Timeframe, model: ModelKind, start: Int64? = nil, end: Int64? = nil,
                         columns: [String]? = nil) throws -> FeatureFrame {
        let entry = try computeAndStore(symbol: symbol, timeframe: timeframe, model: model)
        let selected = columns ?? entry.names
        for name in selected where !entry.names.contains(name) {
            throw FeatureError(reason: "feature '\(name)' is not in the \(model) set (\(entry.names.joined(separator: ", ")))")
        }
        let reader = try ParquetReader(path: entry.path)
        let lo = start ?? Int64.min, hi = end.map { $0 &- 1 } ?? Int64.max
        let groups = lo <= hi ? reader.rowGroups(overlapping: lo...hi, column: "timestamp") : []
        let table = try reader.read(columns: ["timestamp"] + selected, rowGroups: groups)
        guard let timestamps = table["timestamp"]?.epochMilliseconds else {
            throw FeatureError(location: entry.path, reason: "no timestamp column")
        }
        // Warm-up rows are the first `lookback` rows of the whole file; find where this read starts in it.
        var firstRow = 0
        for g in 0..<(groups.first ?? 0) { firstRow += reader.rowCount(rowGroup: g) }
        var frame = FeatureFrame(timestamps: timestamps)
        for name in selected {
            let values = table[name]?.doubles ?? []
            let lookback = entry.lookbacks[entry.names.firstIndex(of: name)!]
            frame.append(name: name, values: values, lookback: max(0, lookback - firstRow))
        }
        return frame.slice(from: start, to: end)
    }
}
