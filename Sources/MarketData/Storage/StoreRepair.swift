import Common
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `ParquetBarStore.repair` found and did, one entry per file or catalogue row that needed a look.
public struct RepairReport: Equatable, Sendable, CustomStringConvertible {
    public enum Action: String, Sendable {
        /// Catalogue entry and file agree.
        case ok
        /// The file is good bars but the catalogue had other rows, range or checksum: the entry now describes it.
        case updated
        /// A good dataset file without a catalogue entry: catalogued.
        case added
        /// The catalogue named a file that does not exist: entry removed.
        case dropped
        /// The file is not readable bars: its entry (if any) removed and the file moved to `damaged/`.
        case setAside = "set aside"
        /// A temporary file left by an interrupted write: removed.
        case removedTemporary = "removed temporary file"
        /// A file of a deletion a crash interrupted: removed.
        case finishedDelete = "finished delete"
        /// A part or base file no catalogue row names, left by an append or compaction a crash interrupted before
        /// its commit (its bars were never part of the dataset): removed.
        case removedOrphan = "removed orphan file"
    }

    public struct Entry: Equatable, Sendable, CustomStringConvertible {
        public var symbol: String?
        public var timeframe: Timeframe?
        /// Absolute path of the file concerned.
        public var path: String
        public var action: Action
        public var detail: String

        public var description: String {
            let name = symbol.map { s in timeframe.map { "\(s) \($0)" } ?? s }
            return "\(action.rawValue): " + (name.map { $0 + " " } ?? "") + "(\(path))" + (detail.isEmpty ? "" : ": \(detail)")
        }
    }

    public var entries: [Entry]

    /// Entries that changed something (all but `.ok`).
    public var fixes: [Entry] { entries.filter { $0.action != .ok } }
    public var isClean: Bool { fixes.isEmpty }

    public var description: String {
        let ok = entries.count - fixes.count
        return (["\(ok) dataset(s) ok, \(fixes.count) fix(es)"] + fixes.map { "  " + $0.description }).joined(separator: "\n")
    }
}

/// Rebuilding the catalogue from the files on disk (`aitrader data repair`): every file of every dataset (base and
/// parts) is decoded and checked against the bar rules; the catalogue's rows, range and checksum of each file are
/// taken from the file; a file that is missing is reported and its entry dropped (its bars are gone); files that are
/// not readable bars, or that overlap the bars before them, are moved to `damaged/` (never deleted) and their
/// entries dropped; when the base is gone, the first remaining part becomes the base. A good `<tf>.parquet` file of a
/// dataset the catalogue does not know is catalogued; part and base files no catalogue row names (left by a crash
/// before a commit) and temporary files of interrupted writes are removed; files of interrupted deletions too.
///
/// The catalogue changes run in one transaction (holding the store's write lock, so no write runs meanwhile); an
/// unreadable file is hard-linked into `damaged/` and listed for removal in that transaction, and removed from
/// `bars/` after the commit. A crash before the commit leaves the store as it was (plus a copy in `damaged/`),
/// after it the remaining removals finish on the next open; re-running repair is always safe.
extension ParquetBarStore {
    @discardableResult
    public func repair() throws(StorageError) -> RepairReport {
        try repair(beforeCommit: nil, afterCommit: nil)
    }

    /// `repair` with hooks that let crash tests stop it inside the catalogue transaction or just after its commit.
    func repair(beforeCommit: (() -> Void)?, afterCommit: (() -> Void)?) throws(StorageError) -> RepairReport {
        try requireWritable("repair")
        var entries = try finishPendingDeletes().map {
            RepairReport.Entry(path: $0, action: .finishedDelete, detail: "removed the file of an interrupted delete")
        }
        try metadata.database.transaction { () throws(StorageError) in
            let scan = scanBarFiles()
            for temp in scan.temporary where unlink(root + "/" + temp) == 0 {
                entries.append(.init(path: root + "/" + temp, action: .removedTemporary,
                                     detail: "left by an interrupted write"))
            }
            let records = try metadata.datasets()
            let catalogued = try metadata.cataloguedPaths()
            for file in scan.generated where !catalogued.contains(file.relative) && unlink(root + "/" + file.relative) == 0 {
                entries.append(.init(symbol: file.symbol, timeframe: file.timeframe, path: root + "/" + file.relative,
                                     action: .removedOrphan, detail: "no catalogue entry names it (left by an append or "
                                         + "compaction interrupted before its commit; its bars were never stored)"))
            }
            for record in records {
                entries += try repairDataset(record)
            }
            let known = Set(records.map { "\($0.symbol)\u{0}\($0.timeframe.rawValue)" })
            for file in scan.datasets where !catalogued.contains(file.relative) {
                let absolute = root + "/" + file.relative
                var entry = RepairReport.Entry(symbol: file.symbol, timeframe: file.timeframe, path: absolute,
                                               action: .added, detail: "")
                verified.forget(path: absolute)
                if known.contains("\(file.symbol)\u{0}\(file.timeframe.rawValue)") {
                    // The dataset's files are others: adopting this one would replace them. Keep it aside instead.
                    let kept = try keepAside(relative: file.relative, reason: "uncatalogued")
                    try metadata.addPendingDelete(file.relative)
                    entry.action = .setAside
                    entry.detail = "not a file of the catalogued dataset (whose files are named in the catalogue); "
                        + "moved to \(root)/\(kept)"
                    entries.append(entry)
                    continue
                }
                switch inspect(absolute, symbol: file.symbol, timeframe: file.timeframe) {
                case .missing:
                    continue
                case .unusable(let problem):
                    let kept = try keepAside(relative: file.relative, reason: "damaged")
                    try metadata.addPendingDelete(file.relative)
                    entry.action = .setAside
                    entry.detail = "\(problem); moved to \(root)/\(kept)"
                case .bars(let series, let checksum):
                    let record = DatasetRecord(
                        symbol: file.symbol, timeframe: file.timeframe, source: "repair:\(file.relative)",
                        firstTimestamp: series.timestamps.first, lastTimestamp: series.timestamps.last, rows: series.count,
                        checksum: checksum, path: file.relative, updatedAt: MetadataStore.now())
                    try metadata.save(record, rowsAdded: 0)
                    entry.detail = "\(series.count) bars catalogued"
                }
                entries.append(entry)
            }
            beforeCommit?()
        }
        afterCommit?()
        try finishPendingDeletes()
        return RepairReport(entries: entries)
    }

    /// Checks each file of a catalogued dataset (inside repair's transaction) and makes its catalogue rows describe
    /// the files that are good bars in time order.
    private func repairDataset(_ record: DatasetRecord) throws(StorageError) -> [RepairReport.Entry] {
        var entries: [RepairReport.Entry] = []
        var kept: [(file: DatasetFile, sequence: Int, createdAt: Int64)] = []
        var changed = false
        let sequences = [0] + record.parts.map(\.sequence), created = [record.updatedAt] + record.parts.map(\.createdAt)
        for (i, file) in record.files.enumerated() {
            let absolute = root + "/" + file.path
            var entry = RepairReport.Entry(symbol: record.symbol, timeframe: record.timeframe, path: absolute,
                                           action: .ok, detail: "")
            verified.forget(path: absolute)
            let span = file.firstTimestamp.map { f in file.lastTimestamp.map { " (\(UTCTime.iso8601(f)) to \(UTCTime.iso8601($0)))" } ?? "" } ?? ""
            switch inspect(absolute, symbol: record.symbol, timeframe: record.timeframe) {
            case .missing:
                changed = true
                entry.action = .dropped
                entry.detail = record.files.count == 1
                    ? "file missing; catalogue entry (\(file.rows) bars) removed"
                    : "file missing: its \(file.rows) bars\(span) are gone from the dataset; its catalogue entry removed"
            case .unusable(let problem):
                changed = true
                let aside = try keepAside(relative: file.path, reason: "damaged")
                try metadata.addPendingDelete(file.path)
                entry.action = .setAside
                entry.detail = "\(problem); moved to \(root)/\(aside), catalogue entry removed"
            case .bars(let series, let checksum):
                let found = DatasetFile(path: file.path, rows: series.count, firstTimestamp: series.timestamps.first,
                                        lastTimestamp: series.timestamps.last, checksum: checksum)
                if let previousLast = kept.last(where: { $0.file.rows > 0 })?.file.lastTimestamp,
                   let first = found.firstTimestamp, first <= previousLast {
                    changed = true
                    let aside = try keepAside(relative: file.path, reason: "overlapping")
                    try metadata.addPendingDelete(file.path)
                    entry.action = .setAside
                    entry.detail = "its bars from \(UTCTime.iso8601(first)) overlap the dataset's bars before it; moved to "
                        + "\(root)/\(aside), catalogue entry removed"
                } else {
                    if found != file {
                        changed = true
                        entry.action = .updated
                        entry.detail = "catalogue said \(file.rows) bars, sha256 \(file.checksum.prefix(12)); "
                            + "file has \(series.count) bars, sha256 \(checksum.prefix(12))"
                    }
                    kept.append((found, sequences[i], created[i]))
                }
            }
            if entry.action != .ok { entries.append(entry) }
        }
        guard changed else {   // one `ok` entry per dataset; every change is listed per file
            return [.init(symbol: record.symbol, timeframe: record.timeframe, path: root + "/" + record.path, action: .ok,
                          detail: "")]
        }
        guard let base = kept.first else {
            try metadata.removeDataset(symbol: record.symbol, timeframe: record.timeframe)
            return entries
        }
        var repaired = record
        repaired.base = base.file
        repaired.parts = kept.dropFirst().map { DatasetPart(sequence: $0.sequence, file: $0.file, createdAt: $0.createdAt) }
        repaired.recomputeTotals()
        repaired.updatedAt = MetadataStore.now()
        try metadata.save(repaired, rowsAdded: 0)
        return entries
    }

    /// What a stored file holds.
    enum Inspection {
        case missing
        case unusable(String)
        case bars(BarSeries, checksum: String)
    }

    func inspect(_ file: String, symbol: String, timeframe: Timeframe) -> Inspection {
        guard FileManager.default.fileExists(atPath: file) else { return .missing }
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: file)) else {
            return .unusable("cannot read: " + FileProblem.reading(file))
        }
        let checksum = data.withUnsafeBytes { SHA256.hex($0) }
        let series: BarSeries
        do {
            series = try BarSeries(parquet: ParquetReader(data: data, path: file).readAll(), symbol: symbol,
                                   timeframe: timeframe, file: file)
        } catch let e as ParquetError {
            return .unusable("not a readable Parquet file (\(Self.withoutPath(e)))")
        } catch let e as DataError {
            return .unusable("not a bar file (\(e.reason))")
        } catch {
            return .unusable("not a bar file")
        }
        let report = BarValidator().validate(series)
        guard report.isClean else {
            return .unusable("\(report.badRows.count) of \(series.count) bars break the bar rules")
        }
        return .bars(series, checksum: checksum)
    }

    /// A file under `bars/` named like a dataset file.
    struct ScannedFile {
        var relative: String
        var symbol: String
        var timeframe: Timeframe
    }

    /// Files under `bars/`: first base files (`<SYMBOL>/<tf>.parquet`, names decoded), files the store names with a
    /// sequence number (`<tf>.part-<n>.parquet`, `<tf>.base-<n>.parquet`) and temporary files of writes.
    func scanBarFiles() -> (datasets: [ScannedFile], generated: [ScannedFile], temporary: [String]) {
        var datasets: [ScannedFile] = [], generated: [ScannedFile] = [], temporary: [String] = []
        let fm = FileManager.default
        for directory in ((try? fm.contentsOfDirectory(atPath: root + "/bars")) ?? []).sorted() {
            guard let symbol = Self.unescape(directory), (try? Self.escape(symbol)) == directory else { continue }
            for name in ((try? fm.contentsOfDirectory(atPath: root + "/bars/" + directory)) ?? []).sorted() {
                let relative = "bars/\(directory)/\(name)"
                if name.hasPrefix("."), name.contains(".tmp-") {
                    temporary.append(relative)
                    continue
                }
                guard name.hasSuffix(".parquet") else { continue }
                let stem = name.dropLast(".parquet".count)
                let pieces = stem.split(separator: ".", maxSplits: 1).map(String.init)
                guard let tfText = pieces.first, let tf = tfText == "1mo" ? .mn1 : Timeframe(rawValue: tfText),
                      Self.fileStem(tf) == tfText else { continue }
                let file = ScannedFile(relative: relative, symbol: symbol, timeframe: tf)
                if pieces.count == 1 {
                    datasets.append(file)
                } else if let kind = pieces.last, kind.hasPrefix("part-") || kind.hasPrefix("base-"),
                          kind.count == 13, kind.dropFirst(5).allSatisfy(\.isNumber) {
                    generated.append(file)
                }
            }
        }
        return (datasets, generated, temporary)
    }

    /// Removes what only a crashed write can have left under `bars/`: temporary files, and part and base files no
    /// catalogue row names; returns their absolute paths. A first look without the write lock finds candidates;
    /// only when there are some does it take the lock (waiting for a running write to commit, so a file about to
    /// be catalogued is never taken for an orphan) and look again. Runs on every writable open.
    @discardableResult
    func removeOrphans() throws(StorageError) -> [String] {
        guard !isReadOnly else { return [] }
        func candidates() throws(StorageError) -> [String] {
            let scan = scanBarFiles()
            let catalogued = try metadata.cataloguedPaths()
            return scan.temporary + scan.generated.map(\.relative).filter { !catalogued.contains($0) }
        }
        guard !(try candidates()).isEmpty else { return [] }
        return try metadata.database.transaction { () throws(StorageError) -> [String] in
            var removed: [String] = []
            for relative in try candidates() where unlink(root + "/" + relative) == 0 {
                removed.append(root + "/" + relative)
                AtomicFile.syncDirectory(AtomicFile.parentDirectory(of: root + "/" + relative))
            }
            return removed
        }
    }

    /// Inverse of `escape`: `BTC%2FUSD` -> `BTC/USD`; nil for a malformed name.
    static func unescape(_ name: String) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(name.utf8)[...]
        while let b = utf8.popFirst() {
            if b == UInt8(ascii: "%") {
                guard utf8.count >= 2, let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
