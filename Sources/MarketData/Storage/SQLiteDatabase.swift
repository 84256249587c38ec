import CSQLite
import Foundation

/// A value bound to or read from SQLite.
public enum SQLiteValue: Equatable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public var int: Int64? { if case .integer(let v) = self { v } else { nil } }
    public var string: String? { if case .text(let v) = self { v } else { nil } }
    public var double: Double? {
        switch self {
        case .real(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }
}

/// A thin, thread-safe wrapper over one SQLite connection (system libsqlite3): statements with bound parameters,
/// transactions, and errors carrying SQLite's own message.
///
///     let db = try SQLiteDatabase(path: "meta.sqlite")
///     try db.execute("CREATE TABLE t(a INTEGER, b TEXT)")
///     try db.run("INSERT INTO t VALUES (?, ?)", [.integer(1), .text("x")])
///     let rows = try db.query("SELECT a, b FROM t WHERE a = ?", [.integer(1)])   // [[.integer(1), .text("x")]]
///     try db.transaction { () throws(StorageError) in ... }                      // rolled back if the body throws
public final class SQLiteDatabase: @unchecked Sendable {
    public let path: String
    private let handle: OpaquePointer
    /// Serialises use of the connection (and makes a transaction's statements contiguous).
    private let lock = NSRecursiveLock()

    /// Opens (creating) the database at `path`; `readOnly` opens an existing one for reading and creates nothing.
    public init(path: String, readOnly: Bool = false) throws(StorageError) {
        self.path = path
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close(db) }
            throw StorageError(.database, path: path, reason: "cannot open database: \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, 120_000)   // writers of big datasets hold the lock while encoding
    }

    deinit { sqlite3_close(handle) }

    private func error(_ what: String) -> StorageError {
        StorageError(.database, path: path, reason: "\(what): \(String(cString: sqlite3_errmsg(handle)))")
    }

    /// Runs one or more statements without parameters.
    public func execute(_ sql: String) throws(StorageError) {
        lock.lock()
        defer { lock.unlock() }
        var message: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &message) != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw StorageError(.database, path: path, reason: "\(text) (in: \(sql.prefix(120)))")
        }
    }

    /// Runs one statement with parameters; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws(StorageError) -> Int {
        _ = try query(sql, parameters)
        return Int(sqlite3_changes(handle))
    }

    /// Runs one statement with parameters and returns every result row.
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws(StorageError) -> [[SQLiteValue]] {
        lock.lock()
        defer { lock.unlock() }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw error("cannot prepare '\(sql.prefix(120))'")
        }
        defer { sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, p) in parameters.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch p {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .real(let v): rc = sqlite3_bind_double(statement, index, v)
            case .text(let v): rc = sqlite3_bind_text(statement, index, v, -1, transient)
            }
            guard rc == SQLITE_OK else { throw error("cannot bind parameter \(index)") }
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error("'\(sql.prefix(120))' failed") }
            var row: [SQLiteValue] = []
            for c in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, c) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, c)))
                case SQLITE_NULL: row.append(.null)
                default:
                    let text = sqlite3_column_text(statement, c).map { String(cString: $0) } ?? ""
                    row.append(.text(text))
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; any error rolls everything back and is rethrown.
    /// Nested calls join the outer transaction (which alone commits or rolls back).
    /// BEGIN IMMEDIATE takes SQLite's write lock at once, so transactions of other connections and processes
    /// wait (up to the busy timeout) instead of interleaving.
    public func transaction<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        try inTransaction("BEGIN IMMEDIATE", body)
    }

    /// Runs `body` inside BEGIN (deferred) ... COMMIT, so that its queries read one snapshot of the database (WAL):
    /// a writer committing in between is seen by all of them or by none. Takes no write lock; joins an enclosing
    /// transaction.
    public func transactionForReading<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        try inTransaction("BEGIN", body)
    }

    /// `begin` ... COMMIT around `body`, ROLLBACK when it throws; inside an open transaction `body` just joins it.
    private func inTransaction<T>(_ begin: String, _ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        lock.lock()
        defer { lock.unlock() }
        if sqlite3_get_autocommit(handle) == 0 { return try body() }
        try execute(begin)
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}
