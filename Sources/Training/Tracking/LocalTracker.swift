import Foundation
import MarketData

/// The default tracker: a SQLite store at `<root>/tracking.sqlite` (experiments, runs with status and start/end
/// time, params, tags, metrics with step and timestamp, artifacts) and one folder per run,
/// `<root>/<run_id>/artifacts/`, holding the artifact files (hard links where the file system allows, else
/// copies). WAL journal mode; the schema is versioned like `MetadataStore` (`schema_version`, missing migrations
/// applied in order, each in its own transaction). Every call commits before it returns, so a run killed mid-way
/// keeps every metric logged so far (and shows as RUNNING).
///
///     let tracker = try LocalTracker(root: "data/runs")
///     let id = try tracker.startRun(experiment: "train-short_term", name: "r", params: [:], tags: [:])
///     try tracker.endRun(runID: id, status: .finished)
///     try tracker.runs().first?.status   // .finished
public final class LocalTracker: Tracker {
    public let root: String
    public let database: SQLiteDatabase
    public var destination: String { database.path }

    /// The migrations of this version of AITrader, in order. Append; never edit an applied one.
    public static let migrations: [MetadataMigration] = [
        MetadataMigration(version: 1, summary: "experiments, runs, params, tags, metrics, artifacts", sql: """
            CREATE TABLE experiments (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                experiment_id INTEGER NOT NULL REFERENCES experiments(id),
                name TEXT NOT NULL,
                status TEXT NOT NULL,
                start_time INTEGER NOT NULL,
                end_time INTEGER
            );
            CREATE INDEX runs_start ON runs (start_time);
            CREATE TABLE params (
                run_id TEXT NOT NULL REFERENCES runs(id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_id, key)
            );
            CREATE TABLE tags (
                run_id TEXT NOT NULL REFERENCES runs(id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_id, key)
            );
            CREATE TABLE metrics (
                run_id TEXT NOT NULL REFERENCES runs(id),
                key TEXT NOT NULL,
                value REAL NOT NULL,
                step INTEGER NOT NULL,
                timestamp INTEGER NOT NULL
            );
            CREATE INDEX metrics_run ON metrics (run_id, key, step);
            CREATE TABLE artifacts (
                run_id TEXT NOT NULL REFERENCES runs(id),
                name TEXT NOT NULL,
                source TEXT NOT NULL,
                bytes INTEGER NOT NULL,
                logged_at INTEGER NOT NULL,
                PRIMARY KEY (run_id, name)
            );
            """),
    ]

    /// The store under a data root: `<dataRoot>/runs`.
    public static func root(dataRoot: String) -> String { dataRoot + "/runs" }

    /// Opens (creating the folder and database if needed) and migrates the store in `root`.
    public convenience init(root: String) throws(TrackingError) {
        try self.init(root: root, migrations: Self.migrations)
    }

    init(root: String, migrations: [MetadataMigration]) throws(TrackingError) {
        self.root = root
        let path = root + "/tracking.sqlite"
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw .store(path: root, message: "cannot create the folder: \(error.localizedDescription)")
        }
        do throws(StorageError) {
            database = try SQLiteDatabase(path: path)
            let mode = try database.query("PRAGMA journal_mode=WAL").first?.first?.string
            guard mode?.lowercased() == "wal" else {
                throw StorageError(.database, path: path, reason: "cannot enable WAL journal mode (got \(mode ?? "nothing"))")
            }
            try database.execute("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
            try database.migrate(migrations, what: "tracking")
        } catch {
            throw .store(path: path, message: error.reason)
        }
    }

    /// Opens an existing store for reading only: nothing is created, migrated or written. Throws `.store` when
    /// there is none in `root` or its schema is newer than this program's.
    public init(readOnlyRoot root: String) throws(TrackingError) {
        self.root = root
        let path = root + "/tracking.sqlite"
        guard FileManager.default.fileExists(atPath: path) else {
            throw .store(path: path, message: "no tracking store (no run was ever tracked here)")
        }
        do throws(StorageError) {
            database = try SQLiteDatabase(path: path, readOnly: true)
            let version = try database.schemaVersion()
            if let newest = Self.migrations.last?.version, version > newest {
                throw StorageError(.database, path: path,
                                   reason: "tracking schema version \(version) is newer than this program's \(newest); upgrade AITrader")
            }
        } catch {
            throw .store(path: path, message: error.reason)
        }
    }

    /// Whether `root` holds a tracking store.
    public static func exists(root: String) -> Bool { FileManager.default.fileExists(atPath: root + "/tracking.sqlite") }

    public func schemaVersion() throws(TrackingError) -> Int {
        try store { () throws(StorageError) in try database.schemaVersion() }
    }


    /// Runs `body`, mapping a `StorageError` onto `.store`.
    func store<T>(_ body: () throws(StorageError) -> T) throws(TrackingError) -> T {
        do { return try body() } catch { throw .store(path: error.path ?? database.path, message: error.reason) }
    }

    /// `<root>/<runID>/artifacts`.
    public func artifactDirectory(runID: String) -> String { "\(root)/\(runID)/artifacts" }

    // MARK: writing

    public func startRun(experiment: String, name: String, params: [String: String], tags: [String: String])
        throws(TrackingError) -> String
    {
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let now = TrackedMetric.now()
        try store { () throws(StorageError) in
            try database.transaction { () throws(StorageError) in
                try database.run("INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)", [.text(experiment), .integer(now)])
                guard let experimentID = try database.query("SELECT id FROM experiments WHERE name = ?", [.text(experiment)]).first?.first?.int else {
                    throw StorageError(.database, path: database.path, reason: "experiment '\(experiment)' was not created")
                }
                try database.run("INSERT INTO runs (id, experiment_id, name, status, start_time) VALUES (?, ?, ?, ?, ?)",
                                 [.text(id), .integer(experimentID), .text(name), .text(RunStatus.running.rawValue), .integer(now)])
                for (k, v) in params.sorted(by: { $0.key < $1.key }) {
                    try database.run("INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)", [.text(id), .text(k), .text(v)])
                }
                try insertTags(id, tags)
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: artifactDirectory(runID: id), withIntermediateDirectories: true)
        } catch {
            throw .store(path: artifactDirectory(runID: id), message: "cannot create the folder: \(error.localizedDescription)")
        }
        return id
    }

    private func insertTags(_ id: String, _ tags: [String: String]) throws(StorageError) {
        for (k, v) in tags.sorted(by: { $0.key < $1.key }) {
            try database.run("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                             [.text(id), .text(k), .text(v)])
        }
    }

    private func requireRun(_ id: String) throws(StorageError) {
        guard try !database.query("SELECT 1 FROM runs WHERE id = ?", [.text(id)]).isEmpty else {
            throw StorageError(.notFound, path: database.path, reason: "no run '\(id)'")
        }
    }

    public func logMetrics(runID: String, _ metrics: [TrackedMetric]) throws(TrackingError) {
        try store { () throws(StorageError) in
            try database.transaction { () throws(StorageError) in
                try requireRun(runID)
                for m in metrics {
                    try database.run("INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)",
                                     [.text(runID), .text(m.key), .real(m.value), .integer(Int64(m.step)), .integer(m.timestamp)])
                }
            }
        }
    }

    public func setTags(runID: String, _ tags: [String: String]) throws(TrackingError) {
        try store { () throws(StorageError) in
            try database.transaction { () throws(StorageError) in
                try requireRun(runID)
                try insertTags(runID, tags)
            }
        }
    }

    /// Hard-links `path` into the run's artifacts folder as `name` (a copy when linking is impossible, e.g. across
    /// file systems); a later write of `path` (atomic rename) leaves the artifact as it was.
    public func logArtifact(runID: String, path: String, name: String) throws(TrackingError) {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
            throw .store(path: path, message: "artifact name '\(name)' must be a relative path inside the run")
        }
        try store { () throws(StorageError) in try requireRun(runID) }
        let target = artifactDirectory(runID: runID) + "/" + name
        let manager = FileManager.default
        let bytes: Int64
        do {
            let attributes = try manager.attributesOfItem(atPath: path)
            bytes = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if manager.fileExists(atPath: target) { try manager.removeItem(atPath: target) }
            do { try manager.linkItem(atPath: path, toPath: target) } catch { try manager.copyItem(atPath: path, toPath: target) }
        } catch {
            throw .store(path: path, message: "cannot store the artifact: \(error.localizedDescription)")
        }
        try store { () throws(StorageError) in
            try database.run("""
                INSERT INTO artifacts (run_id, name, source, bytes, logged_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (run_id, name) DO UPDATE SET source = excluded.source, bytes = excluded.bytes, logged_at = excluded.logged_at
                """, [.text(runID), .text(name), .text(path), .integer(bytes), .integer(TrackedMetric.now())])
        }
    }

    public func endRun(runID: String, status: RunStatus) throws(TrackingError) {
        try store { () throws(StorageError) in
            let changed = try database.run("UPDATE runs SET status = ?, end_time = ? WHERE id = ?",
                                           [.text(status.rawValue), .integer(TrackedMetric.now()), .text(runID)])
            guard changed == 1 else { throw StorageError(.notFound, path: database.path, reason: "no run '\(runID)'") }
        }
    }

    // MARK: reading

    /// Runs, newest first; only those of `experiment` when given; at most `limit`.
    public func runs(experiment: String? = nil, limit: Int = Int.max) throws(TrackingError) -> [TrackedRunRecord] {
        let ids = try store { () throws(StorageError) in
            try database.query("""
                SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id
                WHERE (?1 IS NULL OR e.name = ?1) ORDER BY r.start_time DESC, r.rowid DESC LIMIT ?2
                """, [experiment.map { .text($0) } ?? .null, .integer(Int64(min(limit, Int(Int64.max))))])
        }.compactMap { $0.first?.string }
        var records: [TrackedRunRecord] = []
        for id in ids { records.append(try run(id)) }
        return records
    }

    /// The run whose id is `idOrPrefix` or uniquely starts with it.
    public func run(_ idOrPrefix: String) throws(TrackingError) -> TrackedRunRecord {
        let rows = try store { () throws(StorageError) in
            try database.query("""
                SELECT r.id, e.name, r.name, r.status, r.start_time, r.end_time FROM runs r
                JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?1 OR r.id LIKE ?2 ESCAPE '\\' LIMIT 2
                """, [.text(idOrPrefix), .text(Self.likePrefix(idOrPrefix))])
        }
        let exact = rows.filter { $0[0].string == idOrPrefix }
        guard let row = exact.first ?? (rows.count == 1 ? rows.first : nil), let id = row[0].string else {
            throw .unknownRun(idOrPrefix + (rows.count > 1 ? " (ambiguous prefix)" : ""))
        }
        return try store { () throws(StorageError) in
            func pairs(_ table: String) throws(StorageError) -> [String: String] {
                var out: [String: String] = [:]
                for r in try database.query("SELECT key, value FROM \(table) WHERE run_id = ?", [.text(id)]) {
                    if let k = r[0].string { out[k] = r[1].string ?? "" }
                }
                return out
            }
            var latest: [String: Double] = [:]
            for r in try database.query("""
                SELECT key, value FROM metrics WHERE run_id = ? ORDER BY key, step, timestamp, rowid
                """, [.text(id)]) {
                if let k = r[0].string, let v = r[1].double { latest[k] = v }
            }
            let artifacts = try database.query("SELECT name FROM artifacts WHERE run_id = ? ORDER BY name", [.text(id)])
                .compactMap { $0.first?.string }
            return TrackedRunRecord(id: id, experiment: row[1].string ?? "", name: row[2].string ?? "",
                                    status: RunStatus(rawValue: row[3].string ?? "") ?? .running,
                                    startTime: row[4].int ?? 0, endTime: row[5].int, params: try pairs("params"),
                                    tags: try pairs("tags"), latestMetrics: latest, artifacts: artifacts,
                                    artifactDirectory: artifactDirectory(runID: id))
        }
    }

    /// Every value of one metric (or of all, when `key` is nil) in step order.
    public func metrics(runID: String, key: String? = nil) throws(TrackingError) -> [TrackedMetric] {
        try store { () throws(StorageError) in
            try database.query("""
                SELECT key, value, step, timestamp FROM metrics WHERE run_id = ?1 AND (?2 IS NULL OR key = ?2)
                ORDER BY key, step, timestamp, rowid
                """, [.text(runID), key.map { .text($0) } ?? .null]).map {
                TrackedMetric(key: $0[0].string ?? "", value: $0[1].double ?? .nan, step: Int($0[2].int ?? 0), timestamp: $0[3].int ?? 0)
            }
        }
    }

    static func likePrefix(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }
}
