import Foundation

/// Versioned schema migrations of an SQLite file (the bar catalogue, the tracking store): a `schema_version` table
/// records every applied migration; each migration runs in its own transaction with its row.
///
///     try database.migrate(MetadataStore.migrations, what: "database")
extension SQLiteDatabase {
    /// The highest applied migration (0 for a new database).
    public func schemaVersion() throws(StorageError) -> Int {
        Int(try query("SELECT COALESCE(MAX(version), 0) FROM schema_version").first?.first?.int ?? 0)
    }

    /// Applies the migrations newer than the database's version, in order. A database newer than the newest
    /// migration is refused (`what` names the store in that message); a failing migration leaves the database at the
    /// last one that succeeded and says so.
    public func migrate(_ migrations: [MetadataMigration], what: String) throws(StorageError) {
        try execute("""
            CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER PRIMARY KEY, summary TEXT NOT NULL, applied_at INTEGER NOT NULL)
            """)
        let current = try schemaVersion()
        if let newest = migrations.last?.version, current > newest {
            throw StorageError(.database, path: path,
                               reason: "\(what) schema version \(current) is newer than this program's \(newest); upgrade AITrader")
        }
        for m in migrations where m.version > current {
            do {
                try transaction { () throws(StorageError) in
                    try execute(m.sql)
                    try run("INSERT INTO schema_version (version, summary, applied_at) VALUES (?, ?, ?)",
                            [.integer(Int64(m.version)), .text(m.summary), .integer(Int64((Date().timeIntervalSince1970 * 1000).rounded()))])
                }
            } catch {
                let left = (try? schemaVersion()) ?? current
                throw StorageError(.database, path: path,
                                   reason: "migration \(m.version) (\(m.summary)) failed, database left at version \(left): \(error.reason)")
            }
        }
    }
}
