/// An in-memory columnar table: the unit `ParquetWriter` writes and `ParquetReader` returns.
///
/// Columns are flat (no nested groups), each a dense array of one physical type. A `nullable` column is stored
/// OPTIONAL (definition levels); its `validity` marks nulls (`false`), and the value slot of a null holds a
/// placeholder (0, NaN for floating point, "" or [] for byte arrays). pyarrow writes every column OPTIONAL by default.
///
///     let table = ParquetTable([
///         .timestamps("timestamp", [1_700_000_000_000, 1_700_000_060_000], unit: .milliseconds),
///         .doubles("close", [1.0712, .nan]),                     // NaN is a value, not a null
///         .strings("venue", ["XNYS", "XNAS"]),
///         ParquetColumn(name: "qty", values: .int32([5, 0]), validity: [true, false]),   // second row null
///     ])
///     try ParquetWriter().write(table, to: "x.parquet")
///     let back = try ParquetReader(path: "x.parquet").readAll()
///     back["close"]?.doubles        // [1.0712, nan]
public struct ParquetTable: Equatable, Sendable {
    public var columns: [ParquetColumn]
    /// File-level key/value metadata (e.g. `pandas`, `ARROW:schema`, or the bar store's own keys).
    public var metadata: [String: String]

    public init(_ columns: [ParquetColumn], metadata: [String: String] = [:]) {
        self.columns = columns
        self.metadata = metadata
    }

    /// Builds a table from (name, column) pairs; the pair's name wins over the column's.
    public init(columns pairs: [(String, ParquetColumn)], metadata: [String: String] = [:]) {
        self.columns = pairs.map { name, column in
            var c = column
            c.name = name
            return c
        }
        self.metadata = metadata
    }

    public var rowCount: Int { columns.first?.count ?? 0 }
    public var columnNames: [String] { columns.map(\.name) }

    public subscript(name: String) -> ParquetColumn? {
        columns.first { $0.name == name }
    }

    /// Checks equal column lengths, unique names and validity lengths.
    public func validate() throws(ParquetError) {
        var seen = Set<String>()
        for c in columns {
            guard seen.insert(c.name).inserted else { throw ParquetError.invalidTable("duplicate column name '\(c.name)'") }
            guard c.count == rowCount else {
                throw ParquetError.invalidTable("column '\(c.name)' has \(c.count) rows, '\(columns[0].name)' has \(rowCount)")
            }
            if let v = c.validity, v.count != c.count {
                throw ParquetError.invalidTable("column '\(c.name)': validity has \(v.count) entries for \(c.count) values")
            }
            if c.validity != nil && !c.nullable {
                throw ParquetError.invalidTable("column '\(c.name)' has a validity mask but is not nullable")
            }
        }
    }
}

/// The values of one column, by physical type.
public enum ParquetValues: Equatable, Sendable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    /// BYTE_ARRAY annotated as UTF-8 STRING.
    case string([String])
    /// BYTE_ARRAY without annotation.
    case bytes([[UInt8]])

    public var count: Int {
        switch self {
        case .boolean(let v): v.count
        case .int32(let v): v.count
        case .int64(let v): v.count
        case .float(let v): v.count
        case .double(let v): v.count
        case .string(let v): v.count
        case .bytes(let v): v.count
        }
    }

    public var physicalType: ParquetPhysicalType {
        switch self {
        case .boolean: .boolean
        case .int32: .int32
        case .int64: .int64
        case .float: .float
        case .double: .double
        case .string, .bytes: .byteArray
        }
    }

    /// Equality that treats NaN == NaN (bit-identical stored values), for round-trip checks.
    public func sameStoredValues(as other: ParquetValues) -> Bool {
        switch (self, other) {
        case (.double(let a), .double(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        case (.float(let a), .float(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        default: self == other
        }
    }
}

/// One named column: values, optional null mask and logical type.
public struct ParquetColumn: Equatable, Sendable {
    public var name: String
    public var values: ParquetValues
    /// Stored OPTIONAL (may hold nulls) rather than REQUIRED.
    public var nullable: Bool
    /// `false` marks a null row; nil means no nulls (an all-true mask given to `init` becomes nil).
    /// Only for nullable columns.
    public var validity: [Bool]?
    /// Timestamp unit/zone, date or integer width. Strings carry `.string` automatically.
    public var logicalType: ParquetLogicalType?

    public init(name: String, values: ParquetValues, nullable: Bool = false, validity: [Bool]? = nil,
                logicalType: ParquetLogicalType? = nil) {
        self.name = name
        self.values = values
        self.nullable = nullable || validity != nil
        // An all-true mask carries no information: normalised to nil (the reader returns nil for "no nulls").
        self.validity = validity.flatMap { $0.contains(false) ? $0 : nil }
        if case .string = values, logicalType == nil { self.logicalType = .string } else { self.logicalType = logicalType }
    }

    public var count: Int { values.count }
    public var physicalType: ParquetPhysicalType { values.physicalType }
    public var nullCount: Int { validity.map { $0.lazy.filter { !$0 }.count } ?? 0 }

    public func isNull(_ row: Int) -> Bool { validity.map { !$0[row] } ?? false }

    // MARK: constructors

    public static func doubles(_ name: String, _ values: [Double], nullable: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, values: .double(values), nullable: nullable)
    }

    public static func floats(_ name: String, _ values: [Float], nullable: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, values: .float(values), nullable: nullable)
    }

    public static func int64s(_ name: String, _ values: [Int64], nullable: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, values: .int64(values), nullable: nullable)
    }

    public static func int32s(_ name: String, _ values: [Int32], nullable: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, values: .int32(values), nullable: nullable)
    }

    public static func booleans(_ name: String, _ values: [Bool], nullable: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, values: .boolean(values), nullable: nullable)
    }

    public static func strings(_ name: String, _ values: [String], nullable: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, values: .string(values), nullable: nullable)
    }

    /// INT64 instants with a TIMESTAMP logical type (`utc: true` = pyarrow `timestamp[unit, tz=UTC]`).
    public static func timestamps(_ name: String, _ values: [Int64], unit: ParquetTimeUnit = .milliseconds,
                                  utc: Bool = true, nullable: Bool = false) -> ParquetColumn {
        ParquetColumn(name: name, values: .int64(values), nullable: nullable, logicalType: .timestamp(unit: unit, utc: utc))
    }

    // MARK: typed access

    public var doubles: [Double]? { if case .double(let v) = values { v } else { nil } }
    public var floats: [Float]? { if case .float(let v) = values { v } else { nil } }
    public var int64s: [Int64]? { if case .int64(let v) = values { v } else { nil } }
    public var int32s: [Int32]? { if case .int32(let v) = values { v } else { nil } }
    public var booleans: [Bool]? { if case .boolean(let v) = values { v } else { nil } }
    public var strings: [String]? { if case .string(let v) = values { v } else { nil } }

    /// The timestamp unit when the column is an INT64 TIMESTAMP.
    public var timestampUnit: ParquetTimeUnit? {
        if case .timestamp(let unit, _) = logicalType { unit } else { nil }
    }

    /// Timestamps converted to UTC epoch milliseconds (floor division for finer units), or nil if not a timestamp.
    public var epochMilliseconds: [Int64]? {
        guard let unit = timestampUnit, let raw = int64s else { return nil }
        if unit == .milliseconds { return raw }
        let d = unit.perMillisecond
        return raw.map { v in
            let q = v / d
            return (v % d != 0 && v < 0) ? q - 1 : q
        }
    }

    /// Values as Double for numeric columns (INT32/INT64/FLOAT/DOUBLE), for consumers that don't care about width.
    public var numericDoubles: [Double]? {
        switch values {
        case .double(let v): v
        case .float(let v): v.map(Double.init)
        case .int64(let v): v.map(Double.init)
        case .int32(let v): v.map(Double.init)
        default: nil
        }
    }
}
