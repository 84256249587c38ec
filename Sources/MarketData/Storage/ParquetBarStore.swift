import Common
import Foundation

/// The bar store: per symbol and timeframe, a dataset of Parquet files (a base file plus one part file per
/// append), catalogued in SQLite.
///
/// Layout (all paths relative to `root`):
///
///     metadata.sqlite                      catalogue (see `MetadataStore`): datasets, their part files, quarantine,
///                                          pending deletions, write log
///     bars/<SYMBOL>/<tf>.parquet           a dataset's first base file; <tf> is 1m 5m 15m 30m 1h 4h 1d 1w, and 1mo
///                                          for 1M (so names differ on case-insensitive file systems); symbol
///                                          characters other than A-Z a-z 0-9 . _ - are %XX-escaped (BTC%2FUSD)
///     bars/<SYMBOL>/<tf>.part-<n>.parquet  a part file: the bars of one append (n: 8 digits, increasing)
///     bars/<SYMBOL>/<tf>.base-<n>.parquet  a base file written by a compaction or a rewrite
///     quarantine/<SYMBOL>/<tf>-<ms>.parquet   rows refused by a `.quarantine` write, with `rule` and `row` columns
///
/// Files hold `timestamp` (TIMESTAMP(MILLIS, UTC), bar open time) and `open high low close volume` (DOUBLE), zstd,
/// in row groups of `writeOptions.rowGroupRows` bars with min/max statistics, so range reads decode only the row
/// groups that overlap the range. pyarrow/pandas read each file directly (and `pq.read_table` of the files in the
/// catalogue's order gives the dataset).
///
/// The files of a dataset have increasing, non-overlapping time ranges (base, then parts by sequence); reads
/// concatenate the files that overlap the range, each verified against its SHA-256 in the catalogue (once per file
/// per process). A write validates the bars (`BarValidator`) and then (see `append`):
/// - bars after the dataset's last bar, or overlapping only its part files: one new part file replaces the
///   overlapping parts (none, usually): cost O(new bars + overlapping parts), independent of the dataset's size;
/// - bars that change the base file's range (back-fills, replaced bars in the middle) and `write`: the whole
///   dataset is rewritten into a new base file.
/// Every file is written under a name no catalogue row names (temp file created exclusively, fsync, rename, dir
/// fsync: `AtomicFile`) inside the catalogue transaction that names it; files it supersedes are listed in
/// `pending_deletes` in that transaction and removed after the commit. A crash before the commit leaves an
/// uncatalogued file (removed on the next writable open), after it leftover superseded files (removed likewise):
/// the catalogue never names a missing or half-written file, and a committed write is never lost. When a dataset
/// has more than `maxParts` part files, the append that made it so compacts it (`compact`).
///
///     let store = try ParquetBarStore(root: "data")
///     let bars = try CSVBarReader().read(path: "data/sample/EURUSD_H1.csv", symbol: "EURUSD", timeframe: .h1)
///     let result = try store.append(bars, source: "csv:data/sample/EURUSD_H1.csv")   // result.rowsAdded == 5000
///     let april = try store.read(symbol: "EURUSD", timeframe: .h1,
///                                start: UTCTime.milliseconds(year: 2017, month: 4, day: 20),
///                                end: UTCTime.milliseconds(year: 2017, month: 5, day: 1))      // [start, end)
///     try store.datasets().map { "\($0.symbol) \($0.timeframe) \($0.rows)" }
public final class ParquetBarStore: Sendable {
    public let root: String
    public let metadata: MetadataStore
    /// Parquet layout of dataset files (zstd, 100 000-bar row groups by default).
    public let writeOptions: ParquetWriteOptions
    /// Verify each file's SHA-256 against the catalogue before its first read (per process and file version).
    public let verifyChecksums: Bool
    /// Opened with `init(readOnly:)`: reads only; every write throws `.readOnly`.
    public let isReadOnly: Bool
    /// An append that leaves a dataset with more part files than this compacts it (0: never; `compact` still does).
    public let maxParts: Int

    /// The default `maxParts`: a minute-bar robot compacts each symbol about once an hour.
    public static let defaultMaxParts = 64
    let verified = VerifiedFiles()

    /// Row groups touched by a range read.
    public struct RangeReadStats: Equatable, Sendable {
        public var rowGroupsInFile: Int
        public var rowGroupsDecoded: Int
    }

    public static var defaultWriteOptions: ParquetWriteOptions {
        var o = ParquetWriteOptions()
        o.rowGroupRows = 100_000
        o.codec = .zstd
        o.zstdLevel = 3
        return o
    }

    /// Opens (creating) a store rooted at `root`, finishes deletions a crash interrupted and removes files a crashed
    /// write left behind (`removeOrphans`).
    public init(root: String, writeOptions: ParquetWriteOptions = ParquetBarStore.defaultWriteOptions,
                verifyChecksums: Bool = true, maxParts: Int = ParquetBarStore.defaultMaxParts) throws(StorageError) {
        self.root = Self.trimmed(root)
        self.writeOptions = writeOptions
        self.verifyChecksums = verifyChecksums
        self.maxParts = max(0, maxParts)
        isReadOnly = false
        do {
            try AtomicFile.createDirectories(self.root + "/bars")
        } catch {
            throw StorageError(.io, path: error.path, reason: error.reason)
        }
        metadata = try MetadataStore(path: self.root + "/metadata.sqlite")
        try finishPendingDeletes()
        try removeOrphans()
    }

    /// Opens an existing store for reading (`data list`, `data show`, `data validate`, features, backtests):
    /// nothing is created, migrated or written, not even the root directory. Throws `.noStore` ("no bar store at
    /// PATH") when `root` holds no catalogue; writes through the returned store throw `.readOnly`.
    ///
    ///     do { let store = try ParquetBarStore(readOnly: "data/store"); ... }
    ///     catch where error.kind == .noStore { print("no datasets") }
    public init(readOnly root: String, verifyChecksums: Bool = true) throws(StorageError) {
        self.root = Self.trimmed(root)
        writeOptions = Self.defaultWriteOptions
        self.verifyChecksums = verifyChecksums
        maxParts = Self.defaultMaxParts
        isReadOnly = true
        do {
            metadata = try MetadataStore(readOnlyPath: self.root + "/metadata.sqlite")
        } catch where error.kind == .noStore {
            throw StorageError(.noStore, path: self.root, reason: "no bar store here (nothing has been imported into "
                + "this data root; `aitrader data import` creates it)")
        }
    }

    /// The datasets of the store at `root`, or none when there is no store there (nothing is created).
    public static func datasets(root: String) throws(StorageError) -> [DatasetRecord] {
        do {
            return try ParquetBarStore(readOnly: root).datasets()
        } catch where error.kind == .noStore {
            return []
        }
    }

    static func trimmed(_ root: String) -> String { root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root }

    /// Throws `.readOnly` for a store opened with `init(readOnly:)`.
    func requireWritable(_ what: String) throws(StorageError) {
        if isReadOnly {
            throw StorageError(.readOnly, path: root, reason: "cannot \(what): the store was opened read-only")
        }
    }

    // MARK: paths

    /// Path of a dataset's first base file relative to the root (later files: `partPath`, `basePath`).
    public static func relativePath(symbol: String, timeframe: Timeframe) throws(StorageError) -> String {
        "bars/\(try escape(symbol))/\(fileStem(timeframe)).parquet"
    }

    /// `bars/<SYMBOL>/<tf>.part-<sequence, 8 digits>.parquet`.
    static func partPath(symbol: String, timeframe: Timeframe, sequence: Int) throws(StorageError) -> String {
        "bars/\(try escape(symbol))/\(fileStem(timeframe)).part-\(sequenceText(sequence)).parquet"
    }

    /// `bars/<SYMBOL>/<tf>.base-<sequence, 8 digits>.parquet`.
    static func basePath(symbol: String, timeframe: Timeframe, sequence: Int) throws(StorageError) -> String {
        "bars/\(try escape(symbol))/\(fileStem(timeframe)).base-\(sequenceText(sequence)).parquet"
    }

    static func sequenceText(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    public func path(symbol: String, timeframe: Timeframe) throws(StorageError) -> String {
        root + "/" + (try Self.relativePath(symbol: symbol, timeframe: timeframe))
    }

    static func fileStem(_ tf: Timeframe) -> String { tf == .mn1 ? "1mo" : tf.rawValue }

    static func escape(_ symbol: String) throws(StorageError) -> String {
        guard !symbol.isEmpty, symbol != ".", symbol != ".." else {
            throw StorageError(.invalidArgument, reason: "invalid symbol '\(symbol)' (give a name such as EURUSD or BTC/USD)")
        }
        var out = ""
        for byte in symbol.utf8 {
            let c = Character(UnicodeScalar(byte))
            if (c.isASCII && (c.isLetter || c.isNumber)) || c == "." || c == "_" || c == "-" {
                out.append(c)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    // MARK: reading

    /// Bars with `start <= timestamp < end` (nil = unbounded), across the dataset's base and part files. Only the
    /// files, and within them the row groups, whose timestamps overlap the range are decoded.
    public func read(symbol: String, timeframe: Timeframe, start: Int64? = nil, end: Int64? = nil) throws(StorageError) -> BarSeries {
        try readWithStats(symbol: symbol, timeframe: timeframe, start: start, end: end).series
    }

    /// `read` plus how many row groups were decoded (over the files read: the base, and the parts in the range).
    public func readWithStats(symbol: String, timeframe: Timeframe, start: Int64? = nil, end: Int64? = nil)
        throws(StorageError) -> (series: BarSeries, stats: RangeReadStats)
    {
        var attempt = 0
        while true {
            attempt += 1
            guard let record = try metadata.dataset(symbol: symbol, timeframe: timeframe) else {
                throw StorageError(.notFound, reason: "no stored bars for \(symbol) \(timeframe) in \(root) "
                                   + "(`aitrader data list` shows what is stored, `aitrader data import` adds bars)")
            }
            do {
                return try readFiles(of: record, start: start, end: end)
            } catch where (error.kind == .checksumMismatch || error.kind == .io) && attempt < 3 {
                // A concurrent writer may have replaced or compacted the files between the catalogue read and the
                // file reads: retry when the catalogue moved on, fail when it still names the files that failed.
                let now = try metadata.dataset(symbol: symbol, timeframe: timeframe)
                if now?.files == record.files { throw error }
            }
        }
    }

    /// The bars of `record`'s files in `[start, end)`: the base file always (its row groups filtered), the part
    /// files whose range overlaps.
    func readFiles(of record: DatasetRecord, start: Int64?, end: Int64?) throws(StorageError)
        -> (series: BarSeries, stats: RangeReadStats)
    {
        var pieces: [BarSeries] = []
        var stats = RangeReadStats(rowGroupsInFile: 0, rowGroupsDecoded: 0)
        for (i, file) in record.files.enumerated() where i == 0 || file.overlaps(start: start, end: end) {
            let (series, s) = try readFile(file, symbol: record.symbol, timeframe: record.timeframe, start: start, end: end)
            pieces.append(series)
            stats.rowGroupsInFile += s.rowGroupsInFile
            stats.rowGroupsDecoded += s.rowGroupsDecoded
        }
        return (try Self.concatenated(pieces, symbol: record.symbol, timeframe: record.timeframe,
                                      path: root + "/" + record.path), stats)
    }

    /// The pieces one after another; throws when they are out of order (a file changed outside AITrader).
    static func concatenated(_ pieces: [BarSeries], symbol: String, timeframe: Timeframe, path: String)
        throws(StorageError) -> BarSeries
    {
        let nonEmpty = pieces.filter { !$0.isEmpty }
        if nonEmpty.count <= 1 { return nonEmpty.first ?? pieces.first ?? .empty(symbol: symbol, timeframe: timeframe) }
        var t: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = [], v: [Double] = []
        let n = nonEmpty.reduce(0) { $0 + $1.count }
        t.reserveCapacity(n); o.reserveCapacity(n); h.reserveCapacity(n); l.reserveCapacity(n); c.reserveCapacity(n)
        v.reserveCapacity(n)
        for p in nonEmpty {
            if let last = t.last, p.timestamps[0] <= last {
                throw StorageError(.parquet, path: path, reason: "the dataset's files overlap in time at "
                    + "\(UTCTime.iso8601(p.timestamps[0])) (a file was changed outside AITrader)" + damagedHint)
            }
            t.append(contentsOf: p.timestamps); o.append(contentsOf: p.open); h.append(contentsOf: p.high)
            l.append(contentsOf: p.low); c.append(contentsOf: p.close); v.append(contentsOf: p.volume)
        }
        return BarSeries(symbol: symbol, timeframe: timeframe, timestamps: t, open: o, high: h, low: l, close: c, volume: v)
    }

    /// One file's bars in `[start, end)`, its checksum verified first (unless `verifyChecksums` is off).
    func readFile(_ record: DatasetFile, symbol: String, timeframe: Timeframe, start: Int64?, end: Int64?)
        throws(StorageError) -> (series: BarSeries, stats: RangeReadStats)
    {
        let file = root + "/" + record.path
        let data = try verifiedData(file: file, expected: verifyChecksums ? record.checksum : nil)
        do {
            let reader = try ParquetReader(data: data, path: file)
            let lo = start ?? Int64.min, hi = end.map { $0 &- 1 } ?? Int64.max
            let groups = lo <= hi ? reader.rowGroups(overlapping: lo...hi, column: "timestamp") : []
            let table = try reader.read(rowGroups: groups)
            var series = try BarSeries(parquet: table, symbol: symbol, timeframe: timeframe, file: file)
            series = series.slice(from: start, to: end)
            return (series, RangeReadStats(rowGroupsInFile: reader.rowGroupCount, rowGroupsDecoded: groups.count))
        } catch let e as ParquetError {
            throw StorageError(.parquet, path: file, reason: Self.withoutPath(e) + Self.damagedHint)
        } catch let e as DataError {
            throw StorageError(.parquet, path: file, reason: e.reason + Self.damagedHint)
        } catch {
            throw StorageError(.io, path: file, reason: FileProblem.reading(file))
        }
    }

    /// Every dataset in the catalogue.
    public func datasets() throws(StorageError) -> [DatasetRecord] { try metadata.datasets() }

    public func dataset(symbol: String, timeframe: Timeframe) throws(StorageError) -> DatasetRecord? {
        try metadata.dataset(symbol: symbol, timeframe: timeframe)
    }

    /// Recomputes the SHA-256 of each of the dataset's files (base and parts) and compares it with the catalogue
    /// (throws `.checksumMismatch` naming the first file that differs, `.io` for a missing one).
    public func verify(symbol: String, timeframe: Timeframe) throws(StorageError) {
        guard let record = try metadata.dataset(symbol: symbol, timeframe: timeframe) else {
            throw StorageError(.notFound, reason: "no stored bars for \(symbol) \(timeframe) in \(root) "
                               + "(`aitrader data list` shows what is stored)")
        }
        for file in record.files {
            verified.forget(path: root + "/" + file.path)
            try verify(file: root + "/" + file.path, expected: file.checksum)
        }
    }

    /// What to do about a stored file that cannot be used.
    static let damagedHint = "; re-import the dataset with `aitrader data import ... --replace`, or run "
        + "`aitrader data repair` to rebuild the catalogue from the files"

    /// A Parquet error's text without its path (the store error names the file already).
    static func withoutPath(_ e: ParquetError) -> String {
        var e = e
        e.path = nil
        return e.description
    }

    private func verify(file: String, expected: String) throws(StorageError) {
        _ = try verifiedData(file: file, expected: expected)
    }

    /// Maps the file and checks its SHA-256 (unless `expected` is nil or this file version was verified before);
    /// the returned bytes are the ones checked, so a concurrent replacement cannot slip in between.
    private func verifiedData(file: String, expected: String?) throws(StorageError) -> Data {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped)
        } catch {
            throw StorageError(.io, path: file, reason: "cannot read the stored file: \(FileProblem.reading(file))"
                                   + Self.damagedHint)
        }
        guard let expected, !verified.isVerified(path: file, checksum: expected) else { return data }
        let actual = data.withUnsafeBytes { SHA256.hex($0) }
        guard actual == expected else {
            throw StorageError(.checksumMismatch, path: file,
                               reason: "stored file is damaged or was changed outside AITrader (its sha256 is \(actual), "
                                   + "the catalogue recorded \(expected))" + Self.damagedHint)
        }
        verified.remember(path: file, checksum: expected)
        return data
    }
}

/// Files whose checksum was verified in this process, keyed by path and identified by size and modification time.
final class VerifiedFiles: @unchecked Sendable {
    private var entries: [String: (checksum: String, stamp: String)] = [:]
    private let lock = NSLock()

    private func stamp(_ path: String) -> String? {
        guard let a = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let size = (a[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let inode = (a[.systemFileNumber] as? NSNumber)?.int64Value ?? -1
        return "\(size):\(modified):\(inode)"
    }

    func isVerified(path: String, checksum: String) -> Bool {
        guard let s = stamp(path) else { return false }
        lock.lock()
        defer { lock.unlock() }
        guard let e = entries[path] else { return false }
        return e.checksum == checksum && e.stamp == s
    }

    func remember(path: String, checksum: String) {
        guard let s = stamp(path) else { return }
        lock.lock()
        entries[path] = (checksum, s)
        lock.unlock()
    }

    func forget(path: String) {
        lock.lock()
        entries[path] = nil
        lock.unlock()
    }
}

extension BarSeries {
    /// Writes the series as a standalone Parquet file (the store's column layout; zstd; atomic), e.g. for
    /// `aitrader data show --output x.parquet`. pandas: `pd.read_parquet(path).set_index("timestamp")`.
    public func writeParquet(to path: String, options: ParquetWriteOptions = ParquetBarStore.defaultWriteOptions)
        throws(ParquetError)
    {
        try ParquetWriter(options: options).write(parquetTable(), to: path)
    }

    /// Reads a Parquet file of bars (this store's layout or pandas/pyarrow's, see `init(parquet:)`) and applies the
    /// store's bar rules (`BarValidator`): the first bad row is a `DataError` naming the file and the row (1-based).
    public static func readParquet(path: String, symbol: String? = nil, timeframe: Timeframe? = nil) throws -> BarSeries {
        let series = try BarSeries(parquet: try ParquetReader(path: path).readAll(), symbol: symbol, timeframe: timeframe,
                                   file: path)
        let report = BarValidator().validate(series)
        if let first = report.issues.first {
            let others = report.badRows.count - 1
            throw DataError(file: path, reason: "row \(first.index + 1) (\(UTCTime.iso8601(first.timestamp))): \(first.message) "
                + "(rule \(first.rule.rawValue))" + (others > 0 ? "; \(others) more invalid row(s) after it" : ""))
        }
        return series
    }
}
