import Common

/// One file of a dataset: its base file or one of its part files.
public struct DatasetFile: Equatable, Sendable {
    /// Relative to the store root.
    public var path: String
    public var rows: Int
    /// Open time of the file's first and last bar (UTC epoch ms); nil when the file holds no bars.
    public var firstTimestamp: Int64?
    public var lastTimestamp: Int64?
    /// SHA-256 (hex) of the file's bytes.
    public var checksum: String

    public init(path: String, rows: Int, firstTimestamp: Int64?, lastTimestamp: Int64?, checksum: String) {
        self.path = path
        self.rows = rows
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.checksum = checksum
    }

    /// Whether the file may hold bars with `start <= t < end` (nil = unbounded).
    func overlaps(start: Int64?, end: Int64?) -> Bool {
        guard rows > 0, let first = firstTimestamp, let last = lastTimestamp else { return false }
        if let start, last < start { return false }
        if let end, first >= end { return false }
        return true
    }
}

/// A part file: the bars of one append, after the base file and the parts with smaller sequence numbers.
public struct DatasetPart: Equatable, Sendable {
    /// Order within the dataset (increasing with time; unique over the dataset's life).
    public var sequence: Int
    public var file: DatasetFile
    /// UTC epoch ms of the append that wrote it.
    public var createdAt: Int64

    public init(sequence: Int, file: DatasetFile, createdAt: Int64) {
        self.sequence = sequence
        self.file = file
        self.createdAt = createdAt
    }
}

/// What the store knows about one dataset (one symbol and timeframe).
///
/// A dataset is a base file plus zero or more part files (one per append, see `ParquetBarStore`): `rows`,
/// `firstTimestamp` and `lastTimestamp` describe the whole dataset; `path`, `checksum` and `base*` its base file;
/// `parts` the part files in time order. Their time ranges do not overlap and increase: the base's bars, then
/// part 1's, then part 2's.
///
///     let record = try store.dataset(symbol: "EURUSD", timeframe: .m1)!
///     record.rows                         // 200 010 bars in all
///     record.files.map(\.path)            // ["bars/EURUSD/1m.parquet", "bars/EURUSD/1m.part-00000001.parquet"]
public struct DatasetRecord: Equatable, Sendable {
    public var symbol: String
    public var timeframe: Timeframe
    /// Where the bars came from (`csv:/path/file.csv`, `alpaca`, `mt5`, ...): the last write's source.
    public var source: String
    /// Open time of the first and last bar of the dataset (UTC epoch ms); nil when empty.
    public var firstTimestamp: Int64?
    public var lastTimestamp: Int64?
    /// Bars in the dataset (base and parts).
    public var rows: Int
    /// SHA-256 (hex) of the base file.
    public var checksum: String
    /// Base file path relative to the store root.
    public var path: String
    /// UTC epoch ms of the last write.
    public var updatedAt: Int64
    /// Rows set aside in quarantine files over the dataset's life (0 = never).
    public var quarantinedRows: Int
    /// Bars and range of the base file alone.
    public var baseRows: Int
    public var baseFirstTimestamp: Int64?
    public var baseLastTimestamp: Int64?
    /// Part files in time order.
    public var parts: [DatasetPart]
    /// The sequence number the next file written for the dataset (a part, or a compacted base) takes.
    public var nextSequence: Int

    /// A dataset of one file (the base) holding all `rows`; set `base` and `parts` for one with part files.
    public init(symbol: String, timeframe: Timeframe, source: String, firstTimestamp: Int64?, lastTimestamp: Int64?,
                rows: Int, checksum: String, path: String, updatedAt: Int64, quarantinedRows: Int = 0) {
        self.symbol = symbol
        self.timeframe = timeframe
        self.source = source
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.rows = rows
        self.checksum = checksum
        self.path = path
        self.updatedAt = updatedAt
        self.quarantinedRows = quarantinedRows
        baseRows = rows
        baseFirstTimestamp = firstTimestamp
        baseLastTimestamp = lastTimestamp
        parts = []
        nextSequence = 1
    }

    /// The base file.
    public var base: DatasetFile {
        get {
            DatasetFile(path: path, rows: baseRows, firstTimestamp: baseFirstTimestamp, lastTimestamp: baseLastTimestamp,
                        checksum: checksum)
        }
        set {
            path = newValue.path
            baseRows = newValue.rows
            baseFirstTimestamp = newValue.firstTimestamp
            baseLastTimestamp = newValue.lastTimestamp
            checksum = newValue.checksum
        }
    }

    /// The base file, then the part files, in time order.
    public var files: [DatasetFile] { [base] + parts.map(\.file) }

    /// Identifies the dataset's content for caches of derived data (features): the base file's SHA-256 while the
    /// dataset is one file, else a SHA-256 over the SHA-256 of each of its files in order (an append changes it; a
    /// compaction changes it too, once).
    public var contentKey: String {
        parts.isEmpty ? checksum : SHA256.hex(Array(files.map(\.checksum).joined(separator: "+").utf8))
    }

    /// Recomputes `rows`, `firstTimestamp` and `lastTimestamp` from the base and the parts.
    mutating func recomputeTotals() {
        let files = self.files.filter { $0.rows > 0 }
        rows = files.reduce(0) { $0 + $1.rows }
        firstTimestamp = files.first?.firstTimestamp
        lastTimestamp = files.last?.lastTimestamp
    }
}
