import Common
import Foundation

/// What `ParquetBarStore.compact` did to one dataset.
public struct CompactionResult: Equatable, Sendable, CustomStringConvertible {
    public var symbol: String
    public var timeframe: Timeframe
    /// Part files merged into the new base (0: the dataset was one file already, nothing was written).
    public var partsMerged: Int
    /// Bars in the new base file.
    public var rows: Int
    /// Absolute path of the dataset's base file afterwards.
    public var path: String
    /// Absolute paths of the files the compaction superseded and removed.
    public var removedFiles: [String]

    public var description: String {
        partsMerged == 0
            ? "\(symbol) \(timeframe): one file already, nothing to compact (\(rows) bars in \(path))"
            : "compacted \(symbol) \(timeframe): base and \(partsMerged) part file(s) merged into \(path) (\(rows) bars)"
    }
}

/// Compaction: a dataset's base and part files merged into one new base file.
///
/// The files are read (each verified) and encoded without holding the catalogue's write lock, so appends go on
/// meanwhile; then one transaction checks that the base and the merged parts are still the dataset's first files
/// (appends since have only added parts after them), writes the new base under a new name (`AtomicFile`), swaps
/// the catalogue rows (new base, merged parts gone, their files listed in `pending_deletes`) and commits; the old
/// files are removed after the commit. A crash before the commit leaves an uncatalogued new base (removed on the
/// next writable open), after it the old files (removed likewise): the dataset reads the same bars throughout.
///
///     let r = try store.compact(symbol: "EURUSD", timeframe: .m1)   // r.partsMerged == 65
extension ParquetBarStore {
    /// Compacts one dataset (see the extension's notes). Throws `.notFound` when there is no such dataset; a
    /// damaged file fails it (`.checksumMismatch`, `.parquet`, `.io`) and changes nothing.
    @discardableResult
    public func compact(symbol: String, timeframe: Timeframe) throws(StorageError) -> CompactionResult {
        try compact(symbol: symbol, timeframe: timeframe, beforeCommit: nil, afterCommit: nil)
    }

    /// Compacts every dataset that has part files; returns one result per dataset (also those left as they were).
    @discardableResult
    public func compactAll() throws(StorageError) -> [CompactionResult] {
        var results: [CompactionResult] = []
        for d in try datasets() { results.append(try compact(symbol: d.symbol, timeframe: d.timeframe)) }
        return results
    }

    /// `compact` with hooks that let crash tests stop it inside the catalogue transaction (after the new base is
    /// in place) or just after its commit.
    func compact(symbol: String, timeframe: Timeframe, beforeCommit: (() -> Void)?, afterCommit: (() -> Void)?)
        throws(StorageError) -> CompactionResult
    {
        try requireWritable("compact \(symbol) \(timeframe)")
        for _ in 0..<3 {
            guard let snapshot = try metadata.dataset(symbol: symbol, timeframe: timeframe) else {
                throw StorageError(.notFound, reason: "no dataset \(symbol) \(timeframe) to compact in \(root) "
                    + "(`aitrader data list` shows what is stored)")
            }
            if snapshot.parts.isEmpty {
                return CompactionResult(symbol: symbol, timeframe: timeframe, partsMerged: 0, rows: snapshot.rows,
                                        path: root + "/" + snapshot.path, removedFiles: [])
            }
            let series = try readFiles(of: snapshot, start: nil, end: nil).series
            let bytes = try encode(series, path: root + "/" + snapshot.path)
            let checksum = SHA256.hex(bytes)
            let swapped = try metadata.database.transaction { () throws(StorageError) -> (DatasetRecord, [String])? in
                guard var record = try metadata.dataset(symbol: symbol, timeframe: timeframe),
                      record.base == snapshot.base, record.parts.starts(with: snapshot.parts) else {
                    return nil   // rewritten, or its tail replaced, meanwhile: start again from the new state
                }
                let relative = try Self.basePath(symbol: symbol, timeframe: timeframe, sequence: record.nextSequence)
                record.base = DatasetFile(path: relative, rows: series.count, firstTimestamp: series.timestamps.first,
                                          lastTimestamp: series.timestamps.last, checksum: checksum)
                record.parts.removeFirst(snapshot.parts.count)
                record.nextSequence += 1
                record.recomputeTotals()
                let superseded = snapshot.files.map(\.path)
                try metadata.save(record, rowsAdded: 0, logged: false)
                for path in superseded { try metadata.addPendingDelete(path) }
                try metadata.removePendingDelete(relative)
                try putFile(bytes, relative: relative)
                beforeCommit?()
                return (record, superseded)
            }
            guard let (record, superseded) = swapped else { continue }
            afterCommit?()
            verified.remember(path: root + "/" + record.path, checksum: checksum)
            let removed = try finishPendingDeletes(only: Set(superseded))
            return CompactionResult(symbol: symbol, timeframe: timeframe, partsMerged: snapshot.parts.count,
                                    rows: series.count, path: root + "/" + record.path, removedFiles: removed)
        }
        throw StorageError(.database, path: root, reason: "\(symbol) \(timeframe) kept being rewritten while it was "
            + "compacted; nothing changed (run `aitrader data compact` again)")
    }
}
