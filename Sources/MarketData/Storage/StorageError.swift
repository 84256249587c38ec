/// A failure of the bar store or its metadata database, with what was being done and where.
///
///     StorageError(.checksumMismatch, path: "data/bars/EURUSD/1h.parquet",
///                  reason: "sha256 is 3f2a..., metadata says 9c1b... (file changed outside the store?)")
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

    public var description: String {
        var s = "\(kind.rawValue) error: "
        if let path { s += "\(path): " }
        s += reason
        if let report, kind == .validation { s += "\n" + report.description }
        return s
    }
}
