import Common
import Foundation
import MarketData
import Trading

/// The robot's write-ahead journal: every cycle, signal, order, fill, position change, breaker event and problem
/// (a failed prediction) in one
/// SQLite file (WAL, synchronous FULL), each written *before* the action it records is sent. After a crash the
/// robot restores its state from the last completed cycle and reconciles the orders journaled since then with the
/// venue (`TradingRobot.recover`).
///
///     let journal = try RobotJournal(path: "sessions/eurusd/journal.sqlite")
///     let cycle = try journal.beginCycle(time: barClose)
///     try journal.recordOrderIntent(clientOrderID: id, cycle: cycle, time: barClose, request: request)
///     ... send ...
///     try journal.completeCycle(cycle, state: stateJSON)
///
/// `RobotJournal(inMemory:)` keeps the same records without a file (backtests that need no recovery).
public final class RobotJournal: @unchecked Sendable {
    public let path: String
    let database: SQLiteDatabase
    private let encoder = RobotJSON.encoder

    static let migrations: [MetadataMigration] = [
        MetadataMigration(version: 1, summary: "robot journal", sql: """
            CREATE TABLE session (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE cycles (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, status TEXT NOT NULL,
                                 state TEXT, started_at INTEGER NOT NULL, completed_at INTEGER);
            CREATE TABLE signals (id INTEGER PRIMARY KEY, cycle INTEGER NOT NULL, time INTEGER NOT NULL,
                                  symbol TEXT NOT NULL, body TEXT NOT NULL);
            CREATE TABLE orders (client_id TEXT PRIMARY KEY, cycle INTEGER NOT NULL, time INTEGER NOT NULL,
                                 symbol TEXT NOT NULL, request TEXT NOT NULL, status TEXT NOT NULL,
                                 venue_id TEXT, filled REAL NOT NULL DEFAULT 0, average_price REAL NOT NULL DEFAULT 0,
                                 reason TEXT, updated INTEGER NOT NULL);
            CREATE TABLE order_events (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL, time INTEGER NOT NULL,
                                       event TEXT NOT NULL, detail TEXT);
            CREATE TABLE fills (fill_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, symbol TEXT NOT NULL,
                                side TEXT NOT NULL, units REAL NOT NULL, price REAL NOT NULL,
                                commission REAL NOT NULL, time INTEGER NOT NULL);
            CREATE TABLE positions (id INTEGER PRIMARY KEY, cycle INTEGER NOT NULL, time INTEGER NOT NULL,
                                    symbol TEXT NOT NULL, quantity REAL NOT NULL, average_price REAL NOT NULL);
            CREATE TABLE breaker_events (id INTEGER PRIMARY KEY, cycle INTEGER NOT NULL, time INTEGER NOT NULL,
                                         kind TEXT NOT NULL, tripped INTEGER NOT NULL, reason TEXT NOT NULL,
                                         until INTEGER);
            CREATE TABLE risk_rejections (id INTEGER PRIMARY KEY, cycle INTEGER NOT NULL, time INTEGER NOT NULL,
                                          symbol TEXT NOT NULL, rule TEXT NOT NULL, message TEXT NOT NULL,
                                          request TEXT NOT NULL);
            CREATE INDEX orders_by_cycle ON orders (cycle);
            CREATE INDEX fills_by_time ON fills (time);
            """),
        MetadataMigration(version: 2, summary: "cycle problems (failed predictions)", sql: """
            CREATE TABLE cycle_problems (id INTEGER PRIMARY KEY, cycle INTEGER NOT NULL, time INTEGER NOT NULL,
                                         text TEXT NOT NULL);
            """),
    ]

    /// How much a committed record survives.
    public enum Durability: String, Sendable {
        /// Every commit reaches the disk before the robot goes on (SQLite synchronous=FULL): survives a power loss
        /// or an OS crash. Paper and live trading.
        case full
        /// A commit survives the robot's process being killed (WAL, synchronous=NORMAL; the OS has the pages), not a
        /// power loss. Simulations: nothing real is at stake, and a cycle costs no fsync.
        case process
    }

    /// Opens (creating) the journal at `path`. Parent directories are created.
    public init(path: String, durability: Durability = .full) throws(RobotError) {
        self.path = path
        do {
            let parent = (path as NSString).deletingLastPathComponent
            if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        } catch {
            throw .journal(path: path, message: "cannot create its directory: \(error.localizedDescription)")
        }
        do {
            database = try SQLiteDatabase(path: path)
            _ = try database.query("PRAGMA journal_mode=WAL")
            try database.execute(durability == .full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
            try database.migrate(Self.migrations, what: "robot journal")
        } catch {
            throw .journal(path: path, message: error.reason)
        }
    }

    /// A journal in memory: the same records, nothing survives the process (backtests).
    public init(inMemory: Void = ()) throws(RobotError) {
        path = ":memory:"
        do {
            database = try SQLiteDatabase(path: ":memory:")
            try database.migrate(Self.migrations, what: "robot journal")
        } catch {
            throw .journal(path: path, message: error.reason)
        }
    }

    /// Runs `body`'s records as one transaction — one commit (one fsync with `.full`) for a group of records written
    /// together: a cycle's decisions and order intents, the venue's reports of a sync. All or none are recorded.
    public func batch<T>(_ body: () throws(RobotError) -> T) throws(RobotError) -> T {
        var outcome: Result<T, RobotError>?
        do throws(StorageError) {
            try database.transaction { () throws(StorageError) in
                do throws(RobotError) {
                    outcome = .success(try body())
                } catch {
                    outcome = .failure(error)
                    throw StorageError(.database, path: path, reason: "rolled back: \(error)")
                }
            }
        } catch {
            if case .failure(let e)? = outcome { throw e }
            throw .journal(path: path, message: error.reason)
        }
        switch outcome {
        case .success(let v)?: return v
        case .failure(let e)?: throw e
        case nil: throw .journal(path: path, message: "a batch of records did not run")
        }
    }

    func wrap<T>(_ body: () throws(StorageError) -> T) throws(RobotError) -> T {
        do { return try body() } catch { throw .journal(path: path, message: error.reason) }
    }

    func json<T: Encodable>(_ value: T) throws(RobotError) -> String {
        do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
            throw .journal(path: path, message: "cannot encode a record: \(error)")
        }
    }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    // MARK: Session

    /// Stores a session setting (symbols, mode, checkpoints...) — written once when a session starts.
    public func setSession(_ key: String, _ value: String) throws(RobotError) {
        try wrap { () throws(StorageError) in
            try database.run("INSERT INTO session (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                             [.text(key), .text(value)])
        }
    }

    public func session(_ key: String) throws(RobotError) -> String? {
        try wrap { () throws(StorageError) in
            try database.query("SELECT value FROM session WHERE key = ?", [.text(key)]).first?.first?.string
        }
    }

    // MARK: Cycles

    /// Records the start of the cycle for the bar closing at `time`; returns its sequence number. A cycle that was
    /// started but never completed (a crash) is started again under the same number, its signals, breaker events,
    /// risk rejections, problems and position records cleared (its orders stay: recovery has reconciled them).
    public func beginCycle(time: Int64) throws(RobotError) -> Int64 {
        try wrap { () throws(StorageError) in
            if let row = try database.query("SELECT seq FROM cycles WHERE time = ?", [.integer(time)]).first,
               let seq = row[0].int {
                // A cycle interrupted by a crash runs again: what it recorded is recorded anew.
                try database.transaction { () throws(StorageError) in
                    for table in ["signals", "breaker_events", "risk_rejections", "cycle_problems", "positions"] {
                        try database.run("DELETE FROM \(table) WHERE cycle = ?", [.integer(seq)])
                    }
                }
                return seq
            }
            try database.run("INSERT INTO cycles (time, status, started_at) VALUES (?, 'started', ?)",
                             [.integer(time), .integer(Self.now())])
            return try database.query("SELECT last_insert_rowid()").first?.first?.int ?? 0
        }
    }

    /// Marks the started cycle for the bar closing at `time` as failed (a live broker could not be reached), with
    /// the reason as a problem: the robot goes on at the next bar close, and recovery ignores the cycle.
    public func failCycle(time: Int64, reason: String) throws(RobotError) {
        try wrap { () throws(StorageError) in
            try database.transaction { () throws(StorageError) in
                guard let seq = try database.query("SELECT seq FROM cycles WHERE time = ? AND status = 'started'",
                                                   [.integer(time)]).first?.first?.int else { return }
                try database.run("UPDATE cycles SET status = 'failed', completed_at = ? WHERE seq = ?",
                                 [.integer(Self.now()), .integer(seq)])
                try database.run("INSERT INTO cycle_problems (cycle, time, text) VALUES (?, ?, ?)",
                                 [.integer(seq), .integer(time), .text(reason)])
            }
        }
    }

    /// Marks the cycle complete with the robot's state after it (JSON), in one transaction.
    public func completeCycle(_ seq: Int64, state: String) throws(RobotError) {
        try wrap { () throws(StorageError) in
            try database.run("UPDATE cycles SET status = 'completed', state = ?, completed_at = ? WHERE seq = ?",
                             [.text(state), .integer(Self.now()), .integer(seq)])
        }
    }

    /// The last completed cycle: its bar-close time and state JSON (nil for a new journal).
    public func lastCompletedCycle() throws(RobotError) -> (seq: Int64, time: Int64, state: String)? {
        try wrap { () throws(StorageError) in
            guard let row = try database.query(
                "SELECT seq, time, state FROM cycles WHERE status = 'completed' ORDER BY seq DESC LIMIT 1").first,
                let seq = row[0].int, let time = row[1].int, let state = row[2].string else { return nil }
            return (seq, time, state)
        }
    }

    /// Bar-close times of every completed cycle, oldest first.
    public func completedCycleTimes() throws(RobotError) -> [Int64] {
        try wrap { () throws(StorageError) in
            try database.query("SELECT time FROM cycles WHERE status = 'completed' ORDER BY seq").compactMap { $0[0].int }
        }
    }

    public func cycleCount() throws(RobotError) -> Int {
        try wrap { () throws(StorageError) in
            Int(try database.query("SELECT COUNT(*) FROM cycles WHERE status = 'completed'").first?.first?.int ?? 0)
        }
    }
}
