import Common
import Foundation

/// The bar store: one Parquet file per symbol and timeframe under a data root, catalogued in SQLite.
///
/// Layout (all paths relative to `root`):
///
///     metadata.sqlite                      catalogue (see `MetadataStore`): datasets, quarantine, write log
///     bars/<SYMBOL>/<tf>.parquet           one dataset; <tf> is 1m 5m 15m 30m 1h 4h 1d 1w, and 1mo for 1M
///                                          (so names differ on case-insensitive file systems); symbol characters
///                                          other than A-Z a-z 0-9 . _ - are %XX-escaped ("BTC/USD" -> BTC%2FUSD)
///     quarantine/<SYMBOL>/<tf>-<ms>.parquet   rows refused by a `.quarantine` write, with `rule` and `row` columns
///
/// Files hold `timestamp` (TIMESTAMP(MILLIS, UTC), bar open time) and `open high low close volume` (DOUBLE), zstd,
/// in row groups of `writeOptions.rowGroupRows` bars with min/max statistics, so range reads decode only the row
/// groups that overlap the range. pyarrow/pandas read them directly.
///
/// Every write validates the bars (`BarValidator`), merges with what is stored (see `OverlapPolicy`), encodes the
/// whole dataset, and replaces the file atomically (temp file + fsync + rename) inside the catalogue transaction
/// that records the file's SHA-256, row count, range, source and time: a failure at any point leaves the previous
/// file and catalogue row in place. Reads verify the SHA-256 once per file version per process.
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
    let verified = VerifiedFiles()

    /// What to do with incoming bars whose timestamps are already stored.
    public enum OverlapPolicy: Sendable {
        /// Identical bars are skipped; a bar that differs from the stored one fails the write (the default).
        case rejectConflicts
        /// Incoming bars replace stored bars with the same timestamp. When the stored file cannot be used (damaged,
        /// changed outside AITrader, missing), the dataset is rebuilt from the incoming bars alone and the old file
        /// is kept in `damaged/` (`WriteResult.damagedFileKeptAt`): a `--replace` import repairs a broken dataset.
        case replace
    }

    /// What a write did.
    public struct WriteResult: Equatable, Sendable {
        public var symbol: String
        public var timeframe: Timeframe
        /// Bars new to the dataset.
        public var rowsAdded: Int
        /// Incoming bars identical to stored ones (not rewritten).
        public var rowsSkipped: Int
        /// Stored bars overwritten under `.replace`.
        public var rowsReplaced: Int
        /// Invalid incoming bars set aside (policy `.quarantine`).
        public var rowsQuarantined: Int
        /// Where the stored file went when a `.replace` write found it unusable (damaged, changed outside AITrader,
        /// or unreadable): it is kept there, and the dataset was rebuilt from the incoming bars alone.
        public var damagedFileKeptAt: String?
        /// Why the stored file could not be used (nil when it could, or when there was none).
        public var damagedFileProblem: String?
        /// Bars in the dataset after the write.
        public var totalRows: Int
        public var checksum: String
        /// Absolute path of the dataset file.
        public var path: String
        public var quarantinePath: String?
        public var report: ValidationReport
    }

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

    /// Opens (creating) a store rooted at `root`, and finishes deletions a crash interrupted.
    public init(root: String, writeOptions: ParquetWriteOptions = ParquetBarStore.defaultWriteOptions,
                verifyChecksums: Bool = true) throws(StorageError) {
        self.root = Self.trimmed(root)
        self.writeOptions = writeOptions
        self.verifyChecksums = verifyChecksums
        isReadOnly = false
        do {
            try AtomicFile.createDirectories(self.root + "/bars")
        } catch {
            throw StorageError(.io, path: error.path, reason: error.reason)
        }
        metadata = try MetadataStore(path: self.root + "/metadata.sqlite")
        try finishPendingDeletes()
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

    /// Path of a dataset file relative to the root.
    public static func relativePath(symbol: String, timeframe: Timeframe) throws(StorageError) -> String {
        "bars/\(try escape(symbol))/\(fileStem(timeframe)).parquet"
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

    // MARK: writing

    /// Merges `series` into its dataset (creating it): new bars are added, identical ones skipped, differing ones
    /// handled by `overlap`; invalid bars handled by `badRows`. The file is rewritten atomically.
    @discardableResult
    public func append(_ series: BarSeries, source: String, overlap: OverlapPolicy = .rejectConflicts,
                       badRows: BadRowPolicy = .reject) throws(StorageError) -> WriteResult {
        try store(series, source: source, merge: true, overlap: overlap, badRows: badRows, beforeRename: nil)
    }

    /// Replaces the dataset with `series` (after validation).
    @discardableResult
    public func write(_ series: BarSeries, source: String, badRows: BadRowPolicy = .reject) throws(StorageError) -> WriteResult {
        try store(series, source: source, merge: false, overlap: .replace, badRows: badRows, beforeRename: nil)
    }

    /// Reads a Parquet file written by pandas/pyarrow (or this store) and appends its bars.
    @discardableResult
    public func importParquet(path file: String, symbol: String, timeframe: Timeframe, source: String? = nil,
                              overlap: OverlapPolicy = .rejectConflicts, badRows: BadRowPolicy = .reject)
        throws(StorageError) -> WriteResult
    {
        let series: BarSeries
        do {
            let table = try ParquetReader(path: file).readAll()
            series = try BarSeries(parquet: table, symbol: symbol, timeframe: timeframe, file: file)
        } catch let e as ParquetError {
            throw StorageError(.parquet, path: file, reason: Self.withoutPath(e))
        } catch let e as DataError {
            throw StorageError(.invalidArgument, reason: e.description)
        } catch {
            throw StorageError(.io, path: file, reason: FileProblem.reading(file))
        }
        return try append(series, source: source ?? "parquet:\(file)", overlap: overlap, badRows: badRows)
    }

    /// The write path; `beforeRename` lets tests fail a write after the new file is complete but before it replaces
    /// the old one.
    func store(_ incoming: BarSeries, source: String, merge: Bool, overlap: OverlapPolicy, badRows: BadRowPolicy,
               beforeRename: (() throws -> Void)?) throws(StorageError) -> WriteResult {
        try requireWritable("write bars")
        let symbol = incoming.symbol, tf = incoming.timeframe
        let relative = try Self.relativePath(symbol: symbol, timeframe: tf)
        let absolute = root + "/" + relative
        let report = BarValidator().validate(incoming)
        var good = incoming
        var bad = BarSeries.empty(symbol: symbol, timeframe: tf)
        if !report.isClean {
            if badRows == .reject {
                throw StorageError(.validation, reason: "\(report.badRows.count) of \(report.rowsChecked) incoming bars are "
                                   + "invalid, nothing written (correct them, or import with --quarantine to store the valid "
                                   + "bars and set the invalid ones aside):", report: report)
            }
            (good, bad) = BarValidator.split(incoming, report: report)
        }
        // The read-merge-write runs inside one catalogue transaction (SQLite write lock), so concurrent writers of
        // the store, in this or other processes, are serialised and none loses another's bars.
        let result = try metadata.database.transaction { () throws(StorageError) -> WriteResult in
            let previous = try metadata.dataset(symbol: symbol, timeframe: tf)
            var stored = BarSeries.empty(symbol: symbol, timeframe: tf)
            var damaged: StorageError?
            if merge, previous != nil {
                do throws(StorageError) {
                    stored = try read(symbol: symbol, timeframe: tf)
                } catch {
                    let unusable: [StorageError.Kind] = [.checksumMismatch, .parquet, .io]
                    guard overlap == .replace, unusable.contains(error.kind) else { throw error }
                    damaged = error   // replaced wholesale below; the old file is kept aside
                }
            }
            let merged = try Self.merge(stored: stored, incoming: good, overlap: overlap, path: absolute)
            var result = WriteResult(symbol: symbol, timeframe: tf, rowsAdded: merged.added, rowsSkipped: merged.skipped,
                                     rowsReplaced: merged.replaced, rowsQuarantined: bad.count, damagedFileKeptAt: nil,
                                     damagedFileProblem: damaged?.reason, totalRows: merged.series.count,
                                     checksum: previous?.checksum ?? "", path: absolute, quarantinePath: nil, report: report)
            if merge, previous != nil, damaged == nil, merged.added == 0, merged.replaced == 0, bad.isEmpty {
                return result   // nothing changes: no rewrite
            }
            // The new file overwrites whatever is at the path, so a deletion still pending for it is moot.
            try metadata.removePendingDelete(relative)
            if damaged != nil, FileManager.default.fileExists(atPath: absolute) {
                // Keep the unusable file (a hard link, so the rename below leaves it in place): never lose data.
                let kept = try keepAside(relative: relative, reason: "damaged")
                result.damagedFileKeptAt = root + "/" + kept
            }
            let bytes: [UInt8]
            do throws(ParquetError) {
                bytes = try ParquetWriter(options: writeOptions).encode(merged.series.parquetTable())
            } catch {
                throw StorageError(.parquet, path: absolute, reason: error.description)
            }
            result.checksum = SHA256.hex(bytes)
            let now = MetadataStore.now()
            var quarantine: (relative: String, bytes: [UInt8], record: QuarantineRecord)?
            if !bad.isEmpty {
                let q = "quarantine/\(try Self.escape(symbol))/\(Self.fileStem(tf))-\(now).parquet"
                let rules = ValidationRule.allCases.compactMap { r -> String? in
                    let n = report.count(of: r)
                    return n == 0 ? nil : "\(r.rawValue)=\(n)"
                }.joined(separator: ", ")
                do throws(ParquetError) {
                    quarantine = (q, try ParquetWriter().encode(Self.quarantineTable(bad, report: report)),
                                  QuarantineRecord(symbol: symbol, timeframe: tf, path: q, rows: bad.count, rules: rules, createdAt: now))
                } catch {
                    throw StorageError(.parquet, path: root + "/" + q, reason: error.description)
                }
                result.quarantinePath = root + "/" + q
            }
            let record = DatasetRecord(
                symbol: symbol, timeframe: tf, source: source, firstTimestamp: merged.series.timestamps.first,
                lastTimestamp: merged.series.timestamps.last, rows: merged.series.count, checksum: result.checksum,
                path: relative, updatedAt: now, quarantinedRows: (previous?.quarantinedRows ?? 0) + bad.count)
            try metadata.upsert(record, rowsAdded: merged.added) { () throws(StorageError) in
                if let quarantine {
                    do throws(AtomicFile.Error) {
                        try AtomicFile.write(quarantine.bytes, to: root + "/" + quarantine.relative)
                    } catch {
                        throw StorageError(.io, path: error.path, reason: error.reason)
                    }
                    try metadata.addQuarantine(quarantine.record)
                }
                do throws(AtomicFile.Error) {
                    try AtomicFile.write(bytes, to: absolute, beforeRename: beforeRename)
                } catch {
                    throw StorageError(.io, path: error.path, reason: error.reason)
                }
            }
            return result
        }
        verified.remember(path: absolute, checksum: result.checksum)
        return result
    }

    /// The bad rows with the rule(s) each broke, for the quarantine file.
    static func quarantineTable(_ bad: BarSeries, report: ValidationReport) -> ParquetTable {
        var rulesByRow: [Int: [String]] = [:]
        for issue in report.issues { rulesByRow[issue.index, default: []].append(issue.rule.rawValue) }
        let rows = report.badRows
        var table = bad.parquetTable()
        table.columns.append(.int64s("row", rows.map { Int64($0) }))
        table.columns.append(.strings("rule", rows.map { (rulesByRow[$0] ?? []).joined(separator: ",") }))
        return table
    }

    struct Merged {
        var series: BarSeries
        var added = 0, skipped = 0, replaced = 0
    }

    /// Merges two strictly increasing series by timestamp.
    static func merge(stored: BarSeries, incoming: BarSeries, overlap: OverlapPolicy, path: String) throws(StorageError) -> Merged {
        if stored.isEmpty { return Merged(series: incoming, added: incoming.count) }
        if incoming.isEmpty { return Merged(series: stored) }
        if incoming.timestamps[0] > stored.timestamps[stored.count - 1] {
            return Merged(series: stored.appending(incoming), added: incoming.count)
        }
        var m = Merged(series: stored)
        var t: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = [], v: [Double] = []
        let capacity = stored.count + incoming.count
        t.reserveCapacity(capacity); o.reserveCapacity(capacity); h.reserveCapacity(capacity)
        l.reserveCapacity(capacity); c.reserveCapacity(capacity); v.reserveCapacity(capacity)
        func take(_ s: BarSeries, _ k: Int) {
            t.append(s.timestamps[k]); o.append(s.open[k]); h.append(s.high[k]); l.append(s.low[k]); c.append(s.close[k])
            v.append(s.volume[k])
        }
        var conflicts: [String] = []
        var conflictCount = 0
        var i = 0, j = 0
        while i < stored.count || j < incoming.count {
            if j == incoming.count || (i < stored.count && stored.timestamps[i] < incoming.timestamps[j]) {
                take(stored, i); i += 1
            } else if i == stored.count || incoming.timestamps[j] < stored.timestamps[i] {
                take(incoming, j); j += 1; m.added += 1
            } else {
                let a = stored[i], b = incoming[j]
                if a == b {
                    m.skipped += 1
                    take(stored, i)
                } else if overlap == .replace {
                    m.replaced += 1
                    take(incoming, j)
                } else {
                    conflictCount += 1
                    if conflicts.count < 5 {
                        conflicts.append("\(UTCTime.iso8601(a.timestamp)): stored o=\(a.open) h=\(a.high) l=\(a.low) c=\(a.close) "
                            + "v=\(a.volume), incoming o=\(b.open) h=\(b.high) l=\(b.low) c=\(b.close) v=\(b.volume)")
                    }
                    take(stored, i)
                }
                i += 1; j += 1
            }
        }
        if conflictCount > 0 {
            throw StorageError(.overlapConflict, path: path, reason: "\(conflictCount) incoming bars differ from the stored bars "
                + "at the same times, nothing written (re-run the import with --replace to overwrite the stored bars):\n  "
                + conflicts.joined(separator: "\n  "))
        }
        m.series = BarSeries(symbol: stored.symbol, timeframe: stored.timeframe, timestamps: t, open: o, high: h, low: l,
                             close: c, volume: v)
        return m
    }

    // MARK: reading

    /// Bars with `start <= timestamp < end` (nil = unbounded). Only row groups whose timestamp statistics overlap
    /// the range are decoded.
    public func read(symbol: String, timeframe: Timeframe, start: Int64? = nil, end: Int64? = nil) throws(StorageError) -> BarSeries {
        try readWithStats(symbol: symbol, timeframe: timeframe, start: start, end: end).series
    }

    /// `read` plus how many row groups were decoded.
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
                return try readVerified(record, symbol: symbol, timeframe: timeframe, start: start, end: end)
            } catch where error.kind == .checksumMismatch && attempt < 3 {
                // A concurrent writer may have replaced the file between the catalogue read and the file read:
                // retry when the catalogue moved on, fail when it still names the checksum that did not match.
                let now = try metadata.dataset(symbol: symbol, timeframe: timeframe)
                if now?.checksum == record.checksum { throw error }
            }
        }
    }

    private func readVerified(_ record: DatasetRecord, symbol: String, timeframe: Timeframe, start: Int64?, end: Int64?)
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

    /// Recomputes a dataset file's SHA-256 and compares it with the catalogue (throws `.checksumMismatch`).
    public func verify(symbol: String, timeframe: Timeframe) throws(StorageError) {
        guard let record = try metadata.dataset(symbol: symbol, timeframe: timeframe) else {
            throw StorageError(.notFound, reason: "no stored bars for \(symbol) \(timeframe) in \(root) "
                               + "(`aitrader data list` shows what is stored)")
        }
        verified.forget(path: root + "/" + record.path)
        try verify(file: root + "/" + record.path, expected: record.checksum)
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
