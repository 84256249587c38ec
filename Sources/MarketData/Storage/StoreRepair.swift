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

/// Rebuilding the catalogue from the files on disk (`aitrader data repair`): every dataset file is decoded and
/// checked against the bar rules; the catalogue's rows, range and checksum are taken from the file; entries whose
/// file is missing are dropped; files that are not readable bars are moved to `damaged/` (never deleted), their
/// entries dropped; good files without an entry are catalogued; temporary files of interrupted writes and files of
/// interrupted deletions are removed.
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
            let catalogued = Set(records.map(\.path))
            var work: [(record: DatasetRecord?, relative: String, symbol: String, timeframe: Timeframe)] =
                records.map { ($0, $0.path, $0.symbol, $0.timeframe) }
            for file in scan.datasets where !catalogued.contains(file.relative) {
                work.append((nil, file.relative, file.symbol, file.timeframe))
            }
            for item in work {
                let absolute = root + "/" + item.relative
                var entry = RepairReport.Entry(symbol: item.symbol, timeframe: item.timeframe, path: absolute, action: .ok,
                                               detail: "")
                verified.forget(path: absolute)
                switch inspect(absolute, symbol: item.symbol, timeframe: item.timeframe) {
                case .missing:
                    guard item.record != nil else { continue }
                    try metadata.removeDataset(symbol: item.symbol, timeframe: item.timeframe)
                    entry.action = .dropped
                    entry.detail = "file missing; catalogue entry (\(item.record!.rows) bars) removed"
                case .unusable(let problem):
                    let kept = try keepAside(relative: item.relative, reason: "damaged")
                    if item.record != nil { try metadata.removeDataset(symbol: item.symbol, timeframe: item.timeframe) }
                    try metadata.addPendingDelete(item.relative)
                    entry.action = .setAside
                    entry.detail = "\(problem); moved to \(root)/\(kept)" + (item.record == nil ? "" : ", catalogue entry removed")
                case .bars(let series, let checksum):
                    let now = MetadataStore.now()
                    var record = DatasetRecord(
                        symbol: item.symbol, timeframe: item.timeframe, source: "repair:\(item.relative)",
                        firstTimestamp: series.timestamps.first, lastTimestamp: series.timestamps.last, rows: series.count,
                        checksum: checksum, path: item.relative, updatedAt: now)
                    if let old = item.record {
                        record.source = old.source
                        record.quarantinedRows = old.quarantinedRows
                        guard old.checksum != checksum || old.rows != series.count
                            || old.firstTimestamp != record.firstTimestamp || old.lastTimestamp != record.lastTimestamp
                        else {
                            record.updatedAt = old.updatedAt
                            entries.append(entry)
                            continue
                        }
                        entry.action = .updated
                        entry.detail = "catalogue said \(old.rows) bars, sha256 \(old.checksum.prefix(12)); "
                            + "file has \(series.count) bars, sha256 \(checksum.prefix(12))"
                    } else {
                        entry.action = .added
                        entry.detail = "\(series.count) bars catalogued"
                    }
                    try metadata.upsert(record, rowsAdded: 0)
                }
                entries.append(entry)
            }
            beforeCommit?()
        }
        afterCommit?()
        try finishPendingDeletes()
        return RepairReport(entries: entries)
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

    /// Dataset files (`bars/<SYMBOL>/<tf>.parquet`, names decoded) and temporary files under `bars/`.
    func scanBarFiles() -> (datasets: [(relative: String, symbol: String, timeframe: Timeframe)], temporary: [String]) {
        var datasets: [(String, String, Timeframe)] = [], temporary: [String] = []
        let fm = FileManager.default
        for directory in ((try? fm.contentsOfDirectory(atPath: root + "/bars")) ?? []).sorted() {
            guard let symbol = Self.unescape(directory) else { continue }
            for name in ((try? fm.contentsOfDirectory(atPath: root + "/bars/" + directory)) ?? []).sorted() {
                let relative = "bars/\(directory)/\(name)"
                if name.hasPrefix("."), name.contains(".tmp-") {
                    temporary.append(relative)
                } else if name.hasSuffix(".parquet") {
                    let stem = String(name.dropLast(".parquet".count))
                    guard let tf = stem == "1mo" ? .mn1 : Timeframe(rawValue: stem), Self.fileStem(tf) == stem,
                          (try? Self.escape(symbol)) == directory else { continue }
                    datasets.append((relative, symbol, tf))
                }
            }
        }
        return (datasets, temporary)
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
