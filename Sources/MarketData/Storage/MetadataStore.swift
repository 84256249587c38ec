import Common
import Foundation

/// A quarantine file: invalid rows set aside by a write with policy `.quarantine`.
public struct QuarantineRecord: Equatable, Sendable {
    public var symbol: String
    public var timeframe: Timeframe
    /// Relative to the store root.
    public var path: String
    public var rows: Int
    /// Rule names with counts, e.g. `ohlc_consistency=2, non_finite=1`.
    public var rules: String
    public var createdAt: Int64
}

/// One schema change: SQL applied in a transaction together with its `schema_version` row.
public struct MetadataMigration: Sendable {
    public var version: Int
    public var summary: String
    public var sql: String

    public init(version: Int, summary: String, sql: String) {
        self.version = version
        self.summary = summary
        self.sql = sql
    }
}

/// The bar store's SQLite catalogue: datasets (symbol, timeframe, source, first/last timestamp, rows, base file
/// path, checksum and range, last update), their part files (`dataset_parts`: sequence, path, rows, range,
/// checksum), quarantine files, pending file deletions and a write log. The schema is versioned: `schema_version` holds one row
/// per applied migration, and opening a database applies the missing ones in order, each in its own transaction
/// (a failing migration leaves the database at the previous version). WAL journal mode.
///
///     let meta = try MetadataStore(path: "data/metadata.sqlite")
///     try meta.upsert(record)
///     try meta.dataset(symbol: "EURUSD", timeframe: .h1)?.rows
public final class MetadataStore: Sendable {
    public let database: SQLiteDatabase
    /// Whether the schema has part files (every writable open migrates to it; a read-only open of an older
    /// catalogue reads its one-file datasets as they are).
    let hasParts: Bool

    /// The migrations of this version of AITrader, in order. Append; never edit an applied one.
    public static let migrations: [MetadataMigration] = [
        MetadataMigration(version: 1, summary: "datasets catalogue", sql: """
            CREATE TABLE datasets (
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                source TEXT NOT NULL,
                first_ts INTEGER,
                last_ts INTEGER,
                rows INTEGER NOT NULL,
                checksum TEXT NOT NULL,
                path TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (symbol, timeframe)
            );
            """),
        MetadataMigration(version: 2, summary: "quarantine files and write log", sql: """
            ALTER TABLE datasets ADD COLUMN quarantined_rows INTEGER NOT NULL DEFAULT 0;
            CREATE TABLE quarantine (
                id INTEGER PRIMARY KEY,
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                path TEXT NOT NULL,
                rows INTEGER NOT NULL,
                rules TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE write_log (
                id INTEGER PRIMARY KEY,
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                source TEXT NOT NULL,
                rows_added INTEGER NOT NULL,
                rows_total INTEGER NOT NULL,
                checksum TEXT NOT NULL,
                written_at INTEGER NOT NULL
            );
            CREATE INDEX write_log_dataset ON write_log (symbol, timeframe, written_at);
            """),
        MetadataMigration(version: 3, summary: "pending file deletions", sql: """
            CREATE TABLE pending_deletes (
                path TEXT PRIMARY KEY,
                requested_at INTEGER NOT NULL
            );
            """),
        MetadataMigration(version: 4, summary: "part files per append", sql: """
            ALTER TABLE datasets ADD COLUMN base_rows INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE datasets ADD COLUMN base_first_ts INTEGER;
            ALTER TABLE datasets ADD COLUMN base_last_ts INTEGER;
            ALTER TABLE datasets ADD COLUMN next_sequence INTEGER NOT NULL DEFAULT 1;
            UPDATE datasets SET base_rows = rows, base_first_ts = first_ts, base_last_ts = last_ts;
            CREATE TABLE dataset_parts (
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                path TEXT NOT NULL UNIQUE,
                rows INTEGER NOT NULL,
                first_ts INTEGER NOT NULL,
                last_ts INTEGER NOT NULL,
                checksum TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (symbol, timeframe, sequence)
            );
            """),
    ]

    /// The first schema with part files (`dataset_parts`); older ones, opened read-only, have none.
    static let partsVersion = 4

    /// The oldest schema a read-only open can read (the datasets table with all its columns).
    static let oldestReadableVersion = 2

    /// Opens (creating if needed) and migrates the database at `path`.
    public convenience init(path: String) throws(StorageError) {
        try self.init(path: path, migrations: Self.migrations)
    }

    /// Opens with an explicit migration list (tests use prefixes of `migrations`, or broken ones).
    init(path: String, migrations: [MetadataMigration]) throws(StorageError) {
        database = try SQLiteDatabase(path: path)
        let mode = try database.query("PRAGMA journal_mode=WAL").first?.first?.string
        if mode?.lowercased() != "wal" && path != ":memory:" {
            throw StorageError(.database, path: path, reason: "cannot enable WAL journal mode (got \(mode ?? "nothing"))")
        }
        try database.execute("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
        try database.migrate(migrations, what: "database")
        hasParts = (try database.schemaVersion()) >= Self.partsVersion
    }

    /// Opens an existing database for reading only: nothing is created, migrated or written. Throws `.noStore`
    /// when there is no file at `path`, `.database` when its schema is too old or too new to read.
    public init(readOnlyPath path: String) throws(StorageError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StorageError(.noStore, path: path, reason: "no catalogue (nothing was ever imported here)")
        }
        database = try SQLiteDatabase(path: path, readOnly: true)
        let version: Int
        do {
            version = try database.schemaVersion()
        } catch {
            throw StorageError(.database, path: path, reason: "not an AITrader catalogue (\(error.reason))")
        }
        guard version >= Self.oldestReadableVersion else {
            throw StorageError(.database, path: path, reason: "catalogue schema version \(version) is too old to read "
                + "without upgrading; run a write (e.g. `aitrader data import`) once to upgrade it")
        }
        if let newest = Self.migrations.last?.version, version > newest {
            throw StorageError(.database, path: path,
                               reason: "catalogue schema version \(version) is newer than this program's \(newest); upgrade AITrader")
        }
        hasParts = version >= Self.partsVersion
    }

    /// The highest applied migration (0 for a new database).
    public func schemaVersion() throws(StorageError) -> Int { try database.schemaVersion() }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    // MARK: datasets

    private static let datasetColumns =
        "symbol, timeframe, source, first_ts, last_ts, rows, checksum, path, updated_at, quarantined_rows"
    private static let baseColumns = "base_rows, base_first_ts, base_last_ts, next_sequence"
    /// Before part files, the base was the whole dataset.
    private static let oldBaseColumns = "rows, first_ts, last_ts, 1"
    private static let partColumns = "symbol, timeframe, sequence, path, rows, first_ts, last_ts, checksum, created_at"

    private var selectDatasets: String {
        "SELECT \(Self.datasetColumns), \(hasParts ? Self.baseColumns : Self.oldBaseColumns) FROM datasets"
    }

    /// Every dataset with its part files.
    public func datasets() throws(StorageError) -> [DatasetRecord] {
        try database.transactionForReading { () throws(StorageError) -> [DatasetRecord] in
            var records = try database.query(selectDatasets + " ORDER BY symbol, timeframe").compactMap(Self.record)
            guard hasParts, !records.isEmpty else { return records }
            var parts: [String: [DatasetPart]] = [:]
            for row in try database.query("SELECT \(Self.partColumns) FROM dataset_parts ORDER BY symbol, timeframe, sequence") {
                guard let part = Self.part(row), let symbol = row[0].string, let tf = row[1].string else { continue }
                parts[symbol + "\u{0}" + tf, default: []].append(part)
            }
            for i in records.indices {
                records[i].parts = parts[records[i].symbol + "\u{0}" + records[i].timeframe.rawValue] ?? []
            }
            return records
        }
    }

    /// The dataset with its part files (nil when there is none).
    public func dataset(symbol: String, timeframe: Timeframe) throws(StorageError) -> DatasetRecord? {
        try database.transactionForReading { () throws(StorageError) -> DatasetRecord? in
            let key: [SQLiteValue] = [.text(symbol), .text(timeframe.rawValue)]
            guard var record = try database.query(selectDatasets + " WHERE symbol = ? AND timeframe = ?", key).first
                .flatMap(Self.record) else { return nil }
            if hasParts {
                record.parts = try database.query("""
                    SELECT \(Self.partColumns) FROM dataset_parts WHERE symbol = ? AND timeframe = ? ORDER BY sequence
                    """, key).compactMap(Self.part)
            }
            return record
        }
    }

    private static func record(_ row: [SQLiteValue]) -> DatasetRecord? {
        guard row.count == 14, let symbol = row[0].string, let tfText = row[1].string,
              let tf = Timeframe(rawValue: tfText) else { return nil }
        var record = DatasetRecord(symbol: symbol, timeframe: tf, source: row[2].string ?? "", firstTimestamp: row[3].int,
                                   lastTimestamp: row[4].int, rows: Int(row[5].int ?? 0), checksum: row[6].string ?? "",
                                   path: row[7].string ?? "", updatedAt: row[8].int ?? 0,
                                   quarantinedRows: Int(row[9].int ?? 0))
        record.baseRows = Int(row[10].int ?? 0)
        record.baseFirstTimestamp = row[11].int
        record.baseLastTimestamp = row[12].int
        record.nextSequence = Int(row[13].int ?? 1)
        return record
    }

    private static func part(_ row: [SQLiteValue]) -> DatasetPart? {
        guard row.count == 9, let sequence = row[2].int, let path = row[3].string else { return nil }
        return DatasetPart(sequence: Int(sequence),
                           file: DatasetFile(path: path, rows: Int(row[4].int ?? 0), firstTimestamp: row[5].int,
                                             lastTimestamp: row[6].int, checksum: row[7].string ?? ""),
                           createdAt: row[8].int ?? 0)
    }

    /// Inserts or replaces the dataset's row (not its parts: `replaceParts`) and logs the write (`rowsAdded` new
    /// bars; `loggedChecksum` is the SHA-256 of the file written, the base's by default; `logged: false` for a
    /// compaction, which changes no bars), in one transaction that
    /// also runs `commitHook` last: if the hook throws (e.g. the data file could not be put in place), the
    /// catalogue is rolled back too.
    public func upsert(_ r: DatasetRecord, rowsAdded: Int, loggedChecksum: String? = nil, logged: Bool = true,
                       commitHook: () throws(StorageError) -> Void = {}) throws(StorageError) {
        try database.transaction { () throws(StorageError) in
            try database.run("""
                INSERT INTO datasets (\(Self.datasetColumns), \(Self.baseColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (symbol, timeframe) DO UPDATE SET source = excluded.source, first_ts = excluded.first_ts,
                    last_ts = excluded.last_ts, rows = excluded.rows, checksum = excluded.checksum, path = excluded.path,
                    updated_at = excluded.updated_at, quarantined_rows = excluded.quarantined_rows,
                    base_rows = excluded.base_rows, base_first_ts = excluded.base_first_ts,
                    base_last_ts = excluded.base_last_ts, next_sequence = excluded.next_sequence
                """, [.text(r.symbol), .text(r.timeframe.rawValue), .text(r.source),
                      r.firstTimestamp.map { .integer($0) } ?? .null, r.lastTimestamp.map { .integer($0) } ?? .null,
                      .integer(Int64(r.rows)), .text(r.checksum), .text(r.path), .integer(r.updatedAt),
                      .integer(Int64(r.quarantinedRows)), .integer(Int64(r.baseRows)),
                      r.baseFirstTimestamp.map { .integer($0) } ?? .null, r.baseLastTimestamp.map { .integer($0) } ?? .null,
                      .integer(Int64(r.nextSequence))])
            if logged { try database.run("""
                INSERT INTO write_log (symbol, timeframe, source, rows_added, rows_total, checksum, written_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(r.symbol), .text(r.timeframe.rawValue), .text(r.source), .integer(Int64(rowsAdded)),
                      .integer(Int64(r.rows)), .text(loggedChecksum ?? r.checksum), .integer(r.updatedAt)]) }
            try commitHook()
        }
    }

    /// Makes the catalogue's part rows of the dataset exactly `parts`.
    func replaceParts(symbol: String, timeframe: Timeframe, with parts: [DatasetPart]) throws(StorageError) {
        try database.transaction { () throws(StorageError) in
            try database.run("DELETE FROM dataset_parts WHERE symbol = ? AND timeframe = ?",
                             [.text(symbol), .text(timeframe.rawValue)])
            for p in parts {
                guard let first = p.file.firstTimestamp, let last = p.file.lastTimestamp else { continue }
                try database.run("INSERT INTO dataset_parts (\(Self.partColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 [.text(symbol), .text(timeframe.rawValue), .integer(Int64(p.sequence)), .text(p.file.path),
                                  .integer(Int64(p.file.rows)), .integer(first), .integer(last), .text(p.file.checksum),
                                  .integer(p.createdAt)])
            }
        }
    }

    /// Writes the dataset's row and its parts (`upsert` + `replaceParts`) in one transaction.
    func save(_ r: DatasetRecord, rowsAdded: Int, loggedChecksum: String? = nil, logged: Bool = true) throws(StorageError) {
        try database.transaction { () throws(StorageError) in
            try upsert(r, rowsAdded: rowsAdded, loggedChecksum: loggedChecksum, logged: logged)
            try replaceParts(symbol: r.symbol, timeframe: r.timeframe, with: r.parts)
        }
    }

    /// Paths (relative to the store root) of every file the catalogue names: bases, parts and quarantine files.
    func cataloguedPaths() throws(StorageError) -> Set<String> {
        var paths = Set(try database.query("SELECT path FROM datasets").compactMap { $0.first?.string })
        if hasParts { paths.formUnion(try database.query("SELECT path FROM dataset_parts").compactMap { $0.first?.string }) }
        paths.formUnion(try database.query("SELECT path FROM quarantine").compactMap { $0.first?.string })
        return paths
    }

    /// Removes the dataset's row and its part rows.
    public func removeDataset(symbol: String, timeframe: Timeframe) throws(StorageError) {
        try database.transaction { () throws(StorageError) in
            try database.run("DELETE FROM datasets WHERE symbol = ? AND timeframe = ?", [.text(symbol), .text(timeframe.rawValue)])
            if hasParts {
                try database.run("DELETE FROM dataset_parts WHERE symbol = ? AND timeframe = ?",
                                 [.text(symbol), .text(timeframe.rawValue)])
            }
        }
    }

    /// Removes the dataset's quarantine records; returns their file paths (relative to the store root).
    func removeQuarantine(symbol: String, timeframe: Timeframe) throws(StorageError) -> [String] {
        let paths = try quarantine(symbol: symbol, timeframe: timeframe).map(\.path)
        try database.run("DELETE FROM quarantine WHERE symbol = ? AND timeframe = ?", [.text(symbol), .text(timeframe.rawValue)])
        return paths
    }

    // MARK: pending deletions

    /// Files (relative to the store root) whose catalogue entries are gone and that are still to be removed: a
    /// delete records them in the transaction that drops the entries, and removes the records after the files.
    public func pendingDeletes() throws(StorageError) -> [String] {
        try database.query("SELECT path FROM pending_deletes ORDER BY path").compactMap { $0.first?.string }
    }

    func addPendingDelete(_ path: String) throws(StorageError) {
        try database.run("INSERT OR REPLACE INTO pending_deletes (path, requested_at) VALUES (?, ?)",
                         [.text(path), .integer(Self.now())])
    }

    /// Forgets a pending deletion; returns whether there was one.
    @discardableResult
    func removePendingDelete(_ path: String) throws(StorageError) -> Bool {
        try database.run("DELETE FROM pending_deletes WHERE path = ?", [.text(path)]) > 0
    }

    // MARK: quarantine

    public func addQuarantine(_ q: QuarantineRecord) throws(StorageError) {
        try database.run("""
            INSERT INTO quarantine (symbol, timeframe, path, rows, rules, created_at) VALUES (?, ?, ?, ?, ?, ?)
            """, [.text(q.symbol), .text(q.timeframe.rawValue), .text(q.path), .integer(Int64(q.rows)), .text(q.rules),
                  .integer(q.createdAt)])
    }

    public func quarantine(symbol: String, timeframe: Timeframe) throws(StorageError) -> [QuarantineRecord] {
        try database.query("""
            SELECT symbol, timeframe, path, rows, rules, created_at FROM quarantine
            WHERE symbol = ? AND timeframe = ? ORDER BY id
            """, [.text(symbol), .text(timeframe.rawValue)]).compactMap { row in
            guard let s = row[0].string, let tf = row[1].string.flatMap(Timeframe.init(rawValue:)) else { return nil }
            return QuarantineRecord(symbol: s, timeframe: tf, path: row[2].string ?? "", rows: Int(row[3].int ?? 0),
                                    rules: row[4].string ?? "", createdAt: row[5].int ?? 0)
        }
    }

    /// Number of writes logged for a dataset.
    public func writeCount(symbol: String, timeframe: Timeframe) throws(StorageError) -> Int {
        Int(try database.query("SELECT COUNT(*) FROM write_log WHERE symbol = ? AND timeframe = ?",
                               [.text(symbol), .text(timeframe.rawValue)]).first?.first?.int ?? 0)
    }
}
