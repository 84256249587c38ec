import Common
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `ParquetBarStore.delete` removed.
public struct DeleteResult: Equatable, Sendable, CustomStringConvertible {
    public var symbol: String
    public var timeframe: Timeframe
    /// Bars the catalogue listed (nil when the dataset had a file but no catalogue entry).
    public var rows: Int?
    /// Absolute paths of the files removed: the dataset's base and part files and its quarantine files.
    public var removedFiles: [String]

    public var description: String {
        "deleted \(symbol) \(timeframe)" + (rows.map { " (\($0) bars)" } ?? "")
            + (removedFiles.isEmpty ? "" : ": removed " + removedFiles.joined(separator: ", "))
    }
}

/// Deleting a dataset, crash-safe: one catalogue transaction drops the dataset's entry and its quarantine records
/// and records its files in `pending_deletes`; the files are removed after the commit, each followed by the removal
/// of its record. A crash before the commit leaves the dataset whole; a crash after it leaves the dataset gone from
/// the catalogue and its leftover files listed for removal, which the next writable open of the store (or
/// `repair`) finishes. At no point does the catalogue name a file that is missing, and a deleted dataset never
/// comes back through `repair`.
extension ParquetBarStore {
    /// Removes the dataset: its Parquet files (base and parts), its quarantine files and its catalogue entries
    /// (`aitrader data delete`).
    /// Throws `.notFound` when neither a catalogue entry nor a file exists.
    @discardableResult
    public func delete(symbol: String, timeframe: Timeframe) throws(StorageError) -> DeleteResult {
        try delete(symbol: symbol, timeframe: timeframe, beforeCommit: nil, afterCommit: nil)
    }

    /// `delete` with hooks that let crash tests stop it inside the catalogue transaction or just after its commit.
    func delete(symbol: String, timeframe: Timeframe, beforeCommit: (() -> Void)?, afterCommit: (() -> Void)?)
        throws(StorageError) -> DeleteResult
    {
        try requireWritable("delete \(symbol) \(timeframe)")
        let relative = try Self.relativePath(symbol: symbol, timeframe: timeframe)
        let (record, paths) = try metadata.database.transaction { () throws(StorageError) -> (DatasetRecord?, [String]) in
            let record = try metadata.dataset(symbol: symbol, timeframe: timeframe)
            let file = record?.path ?? relative
            guard record != nil || FileManager.default.fileExists(atPath: root + "/" + file) else {
                throw StorageError(.notFound, reason: "no dataset \(symbol) \(timeframe) to delete in \(root) "
                    + "(`aitrader data list` shows what is stored)")
            }
            let paths = (record?.files.map(\.path) ?? [file]) + (try metadata.removeQuarantine(symbol: symbol, timeframe: timeframe))
            try metadata.removeDataset(symbol: symbol, timeframe: timeframe)
            for p in paths { try metadata.addPendingDelete(p) }
            beforeCommit?()
            return (record, paths)
        }
        afterCommit?()
        for path in record?.files.map(\.path) ?? [relative] { verified.forget(path: root + "/" + path) }
        let removed = try finishPendingDeletes(only: Set(paths))
        return DeleteResult(symbol: symbol, timeframe: timeframe, rows: record?.rows, removedFiles: removed)
    }

    /// Removes the files of committed deletions (all, or those in `only`); returns the absolute paths of files that
    /// existed. Each removal runs under the catalogue's write lock, re-checking its record, so a concurrent write
    /// that has since put a new file at the path (and dropped the record) is never undone.
    @discardableResult
    func finishPendingDeletes(only: Set<String>? = nil) throws(StorageError) -> [String] {
        guard !isReadOnly else { return [] }
        var removed: [String] = []
        for relative in try metadata.pendingDeletes() where only?.contains(relative) ?? true {
            try metadata.database.transaction { () throws(StorageError) in
                guard try metadata.pendingDeletes().contains(relative) else { return }
                let absolute = root + "/" + relative
                verified.forget(path: absolute)
                if unlink(absolute) == 0 {
                    removed.append(absolute)
                    AtomicFile.syncDirectory(AtomicFile.parentDirectory(of: absolute))
                } else if errno != ENOENT {
                    throw StorageError(.io, path: absolute, reason: "cannot remove: \(FileProblem.systemText(errno))")
                }
                try metadata.removePendingDelete(relative)
                // The symbol's directory goes with its last file (rmdir fails, harmlessly, while others remain).
                rmdir(AtomicFile.parentDirectory(of: absolute))
            }
        }
        return removed
    }

    /// Hard-links the file at `relative` to `damaged/<SYMBOL>/<name>-<reason>-<ms>.parquet` (relative path returned),
    /// so that a rewrite or removal of the original leaves its bytes on disk for inspection.
    func keepAside(relative: String, reason: String) throws(StorageError) -> String {
        let parts = relative.split(separator: "/").map(String.init)
        let directory = "damaged/" + (parts.count >= 2 ? parts[parts.count - 2] : "unknown")
        let stem = (parts.last ?? "file").replacingOccurrences(of: ".parquet", with: "")
        let kept = "\(directory)/\(stem)-\(reason)-\(MetadataStore.now())-\(UInt16.random(in: 0...UInt16.max)).parquet"
        do throws(AtomicFile.Error) {
            try AtomicFile.createDirectories(root + "/" + directory)
        } catch {
            throw StorageError(.io, path: error.path, reason: error.reason)
        }
        guard link(root + "/" + relative, root + "/" + kept) == 0 else {
            throw StorageError(.io, path: root + "/" + kept,
                               reason: "cannot keep a copy of \(relative): \(FileProblem.systemText(errno))")
        }
        AtomicFile.syncDirectory(root + "/" + directory)
        return kept
    }
}
