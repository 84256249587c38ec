/// A failure of the bar store or its metadata database, with what was being done and where.
///
///     StorageError(.checksumMismatch, path: "data/bars/EURUSD/1h.parquet",
///                  reason: "file is damaged or was changed outside AITrader (...); re-import it with --replace")
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// Rows broke validation rules (`report` lists them); nothing was written.
        case validation
        /// Incoming bars differ from stored bars at the same timestamps (and the policy is not `.replace`).
        case overlapConflict
        /// A stored file's SHA-256 differs from the one recorded at write time.
        case checksumMismatch
        /// No such dataset.
        case notFound
        /// Bad argument (symbol, path, range).
        case invalidArgument
        /// File system failure.
        case io
        /// Parquet encoding/decoding failure.
        case parquet
        /// SQLite failure (message from SQLite).
        case database
        /// No store at the data root (a read-only open found no catalogue there and created nothing).
        case noStore
        /// A write to a store opened read-only.
        case readOnly
    }

    public var kind: Kind
    public var path: String?
    public var reason: String
    public var report: ValidationReport?

    public init(_ kind: Kind, path: String? = nil, reason: String, report: ValidationReport? = nil) {
        self.kind = kind
        self.path = path
        self.reason = reason
        self.report = report
    }

    /// The message for the user: where, what happened and what to do, without internal type or case names
    /// (`kind` is for code that branches on the failure).
    ///
    ///     data/store/bars/EURUSD/1h.parquet: 3 incoming bars differ from the stored bars at the same times, nothing
    ///     written (re-run the import with --replace to overwrite them): ...
    public var description: String {
        var s = ""
        if let path { s += "\(path): " }
        s += reason
        if let report, kind == .validation { s += "\n" + report.description }
        return s
    }
}
