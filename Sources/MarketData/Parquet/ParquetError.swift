/// A Parquet read or write failure, located by file, row group, column and byte offset where known.
///
///     ParquetError(path: "EURUSD/1h.parquet", rowGroup: 2, column: "close", offset: 81234,
///                  reason: "snappy: corrupt input at byte 17: copy offset 900 outside output")
///     // EURUSD/1h.parquet: row group 2, column 'close', byte 81234: snappy: corrupt input ...
public struct ParquetError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String?
    public var rowGroup: Int?
    public var column: String?
    public var offset: Int?
    public var reason: String

    public init(path: String? = nil, rowGroup: Int? = nil, column: String? = nil, offset: Int? = nil, reason: String) {
        self.path = path
        self.rowGroup = rowGroup
        self.column = column
        self.offset = offset
        self.reason = reason
    }

    public static func invalidTable(_ reason: String) -> ParquetError {
        ParquetError(reason: "invalid table: \(reason)")
    }

    public var description: String {
        var parts: [String] = []
        if let rowGroup { parts.append("row group \(rowGroup)") }
        if let column { parts.append("column '\(column)'") }
        if let offset { parts.append("byte \(offset)") }
        let location = parts.joined(separator: ", ")
        return (path.map { $0 + ": " } ?? "") + (location.isEmpty ? "" : location + ": ") + reason
    }

    /// The same error with the file path filled in.
    func at(path: String) -> ParquetError {
        var e = self
        if e.path == nil { e.path = path }
        return e
    }
}
