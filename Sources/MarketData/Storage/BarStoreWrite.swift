import Common
import Foundation

/// Writing bars: `append` (merge, usually one new part file), `write` (replace the dataset), `importParquet`.
///
/// An append whose bars all lie after the base file's last bar is a tail append: the part files its bars overlap
/// (none when they start after the dataset's last bar) are read, merged with the incoming bars under the
/// `OverlapPolicy`, and replaced by one new part file. Nothing of the base is read unless the incoming bars
/// start inside it: then its overlapping row groups are compared (identical bars are skipped as always), and if
/// the append would add or change a bar inside the base's range, it takes the slow path: the whole dataset is
/// read, merged and written into a new base file (a back-fill, a `--replace` of old bars).
///
///     let r = try store.append(lastTenMinutes, source: "robot")   // r.path: bars/EURUSD/1m.part-00000042.parquet
extension ParquetBarStore {
    /// What to do with incoming bars whose timestamps are already stored.
    public enum OverlapPolicy: Sendable {
        /// Identical bars are skipped; a bar that differs from the stored one fails the write (the default).
        case rejectConflicts
        /// Incoming bars replace stored bars with the same timestamp. When the stored files cannot be used (damaged,
        /// changed outside AITrader, missing), the dataset is rebuilt from the incoming bars alone and the old files
        /// are kept in `damaged/` (`WriteResult.damagedFileKeptAt`): a `--replace` import repairs a broken dataset.
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
        /// or unreadable): it is kept there (the dataset's other files beside it), and the dataset was rebuilt from
        /// the incoming bars alone.
        public var damagedFileKeptAt: String?
        /// Why the stored file could not be used (nil when it could, or when there was none).
        public var damagedFileProblem: String?
        /// Bars in the dataset after the write.
        public var totalRows: Int
        /// The dataset's content key after the write (`DatasetRecord.contentKey`: the file's SHA-256 for a dataset
        /// of one file).
        public var checksum: String
        /// Absolute path of the file written: a part file for a tail append, the base file for a rewrite (the
        /// base file when nothing was written).
        public var path: String
        public var quarantinePath: String?
        public var report: ValidationReport
        /// Whether the write rewrote the whole dataset (the slow path) rather than adding a part file.
        public var rewroteDataset: Bool = false
        /// The compaction this append triggered (more than `maxParts` part files), if any.
        public var compaction: CompactionResult?
        /// Why a triggered compaction failed (the append itself is committed; `aitrader data compact` retries).
        public var compactionProblem: String?
    }

    /// Merges `series` into its dataset (creating it): new bars are added, identical ones skipped, differing ones
    /// handled by `overlap`; invalid bars handled by `badRows`. Bars after the base file's range cost one part
    /// file; bars inside it rewrite the dataset (see the type's notes). Compacts the dataset when it has more than
    /// `maxParts` part files afterwards.
    @discardableResult
    public func append(_ series: BarSeries, source: String, overlap: OverlapPolicy = .rejectConflicts,
                       badRows: BadRowPolicy = .reject) throws(StorageError) -> WriteResult {
        try store(series, source: source, merge: true, overlap: overlap, badRows: badRows, beforeRename: nil)
    }

    /// Replaces the dataset with `series` (after validation), in a new base file.
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

    /// The incoming bars of one write, split by validation.
    struct Incoming {
        var good: BarSeries
        var bad: BarSeries
        var report: ValidationReport
        var source: String
        var overlap: OverlapPolicy
    }

    /// What the transaction of a write decided: the result, the file written, and the files it superseded.
    struct Written {
        var result: WriteResult
        var file: DatasetFile?
        var superseded: [String] = []
        var parts = 0
    }

    /// The write path; `beforeRename` lets tests fail a write after the new file is complete but before it is put
    /// in place.
    func store(_ incoming: BarSeries, source: String, merge: Bool, overlap: OverlapPolicy, badRows: BadRowPolicy,
               beforeRename: (() throws -> Void)?) throws(StorageError) -> WriteResult {
        try requireWritable("write bars")
        let symbol = incoming.symbol, tf = incoming.timeframe
        _ = try Self.relativePath(symbol: symbol, timeframe: tf)   // refuses a bad symbol before anything else
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
        let batch = Incoming(good: good, bad: bad, report: report, source: source, overlap: overlap)
        // The read-merge-write runs inside one catalogue transaction (SQLite write lock), so concurrent writers of
        // the store, in this or other processes, are serialised and none loses another's bars.
        let written = try metadata.database.transaction { () throws(StorageError) -> Written in
            let previous = try metadata.dataset(symbol: symbol, timeframe: tf)
            if merge, let previous, let tail = try appendToTail(previous, batch, beforeRename: beforeRename) {
                return tail
            }
            return try rewrite(previous, batch, merge: merge, beforeRename: beforeRename)
        }
        if let file = written.file { verified.remember(path: root + "/" + file.path, checksum: file.checksum) }
        if !written.superseded.isEmpty { try finishPendingDeletes(only: Set(written.superseded)) }
        var result = written.result
        if maxParts > 0, written.parts > maxParts {
            do throws(StorageError) {
                result.compaction = try compact(symbol: symbol, timeframe: tf)
            } catch {
                result.compactionProblem = error.description
            }
        }
        return result
    }

    /// The tail append (see the type's notes), or nil when the bars reach into the base file's range and need a
    /// rewrite (or the files they overlap are unusable under `.replace`).
    private func appendToTail(_ previous: DatasetRecord, _ batch: Incoming, beforeRename: (() throws -> Void)?)
        throws(StorageError) -> Written?
    {
        let symbol = previous.symbol, tf = previous.timeframe
        let first = batch.good.timestamps.first ?? Int64.max
        let baseLast = previous.baseRows > 0 ? previous.baseLastTimestamp : nil
        let baseInTail = baseLast.map { first <= $0 } ?? false
        let tailParts = previous.parts.filter { ($0.file.lastTimestamp ?? Int64.min) >= first }
        var pieces: [BarSeries] = []
        do throws(StorageError) {
            if baseInTail {
                pieces.append(try readFile(previous.base, symbol: symbol, timeframe: tf, start: first, end: nil).series)
            }
            for p in tailParts {
                pieces.append(try readFile(p.file, symbol: symbol, timeframe: tf, start: nil, end: nil).series)
            }
        } catch {
            let unusable: [StorageError.Kind] = [.checksumMismatch, .parquet, .io]
            if batch.overlap == .replace, unusable.contains(error.kind) { return nil }   // the rewrite keeps them aside
            throw error
        }
        let stored = try Self.concatenated(pieces, symbol: symbol, timeframe: tf, path: root + "/" + previous.path)
        let merged = try Self.merge(stored: stored, incoming: batch.good, overlap: batch.overlap,
                                    path: root + "/" + (tailParts.first?.file.path ?? previous.path))
        var newBars = merged.series
        if let baseLast, baseInTail {
            // Bars at or before the base's last bar must come out as they are stored; else the base changes.
            let end = baseLast == Int64.max ? baseLast : baseLast + 1
            guard merged.series.slice(to: end) == stored.slice(to: end) else { return nil }
            newBars = merged.series.slice(from: end)
        }
        var result = WriteResult(symbol: symbol, timeframe: tf, rowsAdded: merged.added, rowsSkipped: merged.skipped,
                                 rowsReplaced: merged.replaced, rowsQuarantined: batch.bad.count, damagedFileKeptAt: nil,
                                 damagedFileProblem: nil, totalRows: previous.rows + merged.added,
                                 checksum: previous.contentKey, path: root + "/" + previous.path, quarantinePath: nil,
                                 report: batch.report)
        if merged.added == 0, merged.replaced == 0, batch.bad.isEmpty {
            return Written(result: result, file: nil, parts: previous.parts.count)   // nothing changes
        }
        let now = MetadataStore.now()
        var record = previous
        record.source = batch.source
        record.updatedAt = now
        record.quarantinedRows += batch.bad.count
        var written = Written(result: result, file: nil)
        var encoded: [UInt8]?
        if merged.added > 0 || merged.replaced > 0 {
            let relative = try Self.partPath(symbol: symbol, timeframe: tf, sequence: previous.nextSequence)
            let bytes = try encode(newBars, path: root + "/" + relative)
            let file = DatasetFile(path: relative, rows: newBars.count, firstTimestamp: newBars.timestamps.first,
                                   lastTimestamp: newBars.timestamps.last, checksum: SHA256.hex(bytes))
            let replaced = Set(tailParts.map(\.sequence))
            record.parts = previous.parts.filter { !replaced.contains($0.sequence) }
                + [DatasetPart(sequence: previous.nextSequence, file: file, createdAt: now)]
            record.nextSequence = previous.nextSequence + 1
            written.file = file
            written.superseded = tailParts.map(\.file.path)
            encoded = bytes
            result.path = root + "/" + relative
        }
        record.recomputeTotals()
        result.totalRows = record.rows
        result.checksum = record.contentKey
        let quarantine = try quarantineFile(batch, now: now)
        result.quarantinePath = quarantine.map { root + "/" + $0.relative }
        written.result = result
        written.parts = record.parts.count
        try metadata.save(record, rowsAdded: merged.added, loggedChecksum: written.file?.checksum)
        for path in written.superseded { try metadata.addPendingDelete(path) }
        try put(quarantine)
        if let file = written.file, let encoded {
            try metadata.removePendingDelete(file.path)   // a new file at the path makes its pending deletion moot
            try putFile(encoded, relative: file.path, beforeRename: beforeRename)
        }
        return written
    }

    /// The slow path: the whole dataset (or, for `write`, the incoming bars alone) into a new base file.
    private func rewrite(_ previous: DatasetRecord?, _ batch: Incoming, merge: Bool, beforeRename: (() throws -> Void)?)
        throws(StorageError) -> Written
    {
        let symbol = batch.good.symbol, tf = batch.good.timeframe
        var stored = BarSeries.empty(symbol: symbol, timeframe: tf)
        var damaged: StorageError?
        if merge, let previous {
            do throws(StorageError) {
                stored = try readFiles(of: previous, start: nil, end: nil).series
            } catch {
                let unusable: [StorageError.Kind] = [.checksumMismatch, .parquet, .io]
                guard batch.overlap == .replace, unusable.contains(error.kind) else { throw error }
                damaged = error   // replaced wholesale below; the old files are kept aside
            }
        }
        let canonical = try Self.relativePath(symbol: symbol, timeframe: tf)
        let basePath = root + "/" + (previous?.path ?? canonical)
        let merged = try Self.merge(stored: stored, incoming: batch.good, overlap: batch.overlap, path: basePath)
        var result = WriteResult(symbol: symbol, timeframe: tf, rowsAdded: merged.added, rowsSkipped: merged.skipped,
                                 rowsReplaced: merged.replaced, rowsQuarantined: batch.bad.count, damagedFileKeptAt: nil,
                                 damagedFileProblem: damaged?.reason, totalRows: merged.series.count,
                                 checksum: previous?.contentKey ?? "", path: basePath, quarantinePath: nil,
                                 report: batch.report, rewroteDataset: true)
        if merge, let previous, damaged == nil, merged.added == 0, merged.replaced == 0, batch.bad.isEmpty {
            result.rewroteDataset = false
            return Written(result: result, file: nil, parts: previous.parts.count)   // nothing changes: no rewrite
        }
        // A new dataset's base takes the canonical name; a rewrite takes a new name, so that the files the catalogue
        // names stay in place until the transaction that names the new one commits.
        let sequence = previous?.nextSequence ?? 1
        let relative = previous == nil ? canonical : try Self.basePath(symbol: symbol, timeframe: tf, sequence: sequence)
        if let damaged, let previous {
            // Keep the unusable files (hard links, so their removal below leaves the bytes in place): never lose data.
            for file in previous.files where FileManager.default.fileExists(atPath: root + "/" + file.path) {
                let kept = try keepAside(relative: file.path, reason: "damaged")
                if result.damagedFileKeptAt == nil || damaged.path == root + "/" + file.path {
                    result.damagedFileKeptAt = root + "/" + kept
                }
            }
        }
        let bytes = try encode(merged.series, path: root + "/" + relative)
        let now = MetadataStore.now()
        var record = DatasetRecord(
            symbol: symbol, timeframe: tf, source: batch.source, firstTimestamp: merged.series.timestamps.first,
            lastTimestamp: merged.series.timestamps.last, rows: merged.series.count, checksum: SHA256.hex(bytes),
            path: relative, updatedAt: now, quarantinedRows: (previous?.quarantinedRows ?? 0) + batch.bad.count)
        record.nextSequence = previous == nil ? 1 : sequence + 1
        result.checksum = record.contentKey
        result.path = root + "/" + relative
        let quarantine = try quarantineFile(batch, now: now)
        result.quarantinePath = quarantine.map { root + "/" + $0.relative }
        let superseded = (previous?.files.map(\.path) ?? []).filter { $0 != relative }
        try metadata.save(record, rowsAdded: merged.added)
        for path in superseded { try metadata.addPendingDelete(path) }
        try put(quarantine)
        try metadata.removePendingDelete(relative)   // the new file overwrites whatever is at the path
        try putFile(bytes, relative: relative, beforeRename: beforeRename)
        return Written(result: result, file: record.base, superseded: superseded, parts: 0)
    }

    /// Parquet bytes of a series in the store's layout.
    func encode(_ series: BarSeries, path: String) throws(StorageError) -> [UInt8] {
        do throws(ParquetError) {
            return try ParquetWriter(options: writeOptions).encode(series.parquetTable())
        } catch {
            throw StorageError(.parquet, path: path, reason: error.description)
        }
    }

    /// Writes a file atomically (see `AtomicFile`) at `relative`.
    func putFile(_ bytes: [UInt8], relative: String, beforeRename: (() throws -> Void)? = nil) throws(StorageError) {
        do throws(AtomicFile.Error) {
            try AtomicFile.write(bytes, to: root + "/" + relative, beforeRename: beforeRename)
        } catch {
            throw StorageError(.io, path: error.path, reason: error.reason)
        }
    }

    /// The quarantine file of a write's invalid bars (nil when there are none).
    private func quarantineFile(_ batch: Incoming, now: Int64) throws(StorageError)
        -> (relative: String, bytes: [UInt8], record: QuarantineRecord)?
    {
        guard !batch.bad.isEmpty else { return nil }
        let symbol = batch.bad.symbol, tf = batch.bad.timeframe, report = batch.report
        let q = "quarantine/\(try Self.escape(symbol))/\(Self.fileStem(tf))-\(now).parquet"
        let rules = ValidationRule.allCases.compactMap { r -> String? in
            let n = report.count(of: r)
            return n == 0 ? nil : "\(r.rawValue)=\(n)"
        }.joined(separator: ", ")
        do throws(ParquetError) {
            return (q, try ParquetWriter().encode(Self.quarantineTable(batch.bad, report: report)),
                    QuarantineRecord(symbol: symbol, timeframe: tf, path: q, rows: batch.bad.count, rules: rules, createdAt: now))
        } catch {
            throw StorageError(.parquet, path: root + "/" + q, reason: error.description)
        }
    }

    private func put(_ quarantine: (relative: String, bytes: [UInt8], record: QuarantineRecord)?) throws(StorageError) {
        guard let quarantine else { return }
        try putFile(quarantine.bytes, relative: quarantine.relative)
        try metadata.addQuarantine(quarantine.record)
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
}
