import Common
import Foundation

/// One leaf column of a file's schema.
public struct ParquetField: Equatable, Sendable {
    public var name: String
    public var physicalType: ParquetPhysicalType
    public var repetition: ParquetRepetition
    /// From the LogicalType annotation, or derived from the legacy ConvertedType.
    public var logicalType: ParquetLogicalType?
    /// Position among the leaf columns (= column chunk index in each row group).
    public var index: Int
    /// Full path for nested columns (only flat columns, path length 1, can be read).
    public var path: [String]
}

/// Min/max of a column chunk, decoded to the column's type.
public struct ParquetColumnStatistics: Equatable, Sendable {
    public enum Value: Equatable, Sendable {
        case int(Int64), double(Double), bool(Bool), bytes([UInt8])
    }
    public var min: Value?
    public var max: Value?
    public var nullCount: Int64?
}

/// Reads Parquet files written by this module, pyarrow/Arrow C++, Spark or DuckDB: flat schemas of BOOLEAN,
/// INT32, INT64, FLOAT, DOUBLE and BYTE_ARRAY columns, REQUIRED or OPTIONAL; data pages v1 and v2; PLAIN,
/// PLAIN_DICTIONARY and RLE_DICTIONARY encodings; UNCOMPRESSED, SNAPPY and ZSTD pages. The file is memory-mapped;
/// only the row groups and columns asked for are decoded.
///
///     let reader = try ParquetReader(path: "EURUSD.parquet")
///     reader.fields.map(\.name)                       // ["Open", ..., "__index_level_0__"]
///     let groups = reader.rowGroups(overlapping: from...to, column: "timestamp")   // by min/max statistics
///     let table = try reader.read(columns: ["timestamp", "close"], rowGroups: groups)
public struct ParquetReader: Sendable {
    public let path: String
    public let metadata: ParquetFileMetaData
    public let fields: [ParquetField]
    private let data: Data

    /// Opens (memory-maps) a file and decodes its footer.
    public init(path: String) throws(ParquetError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw ParquetError(path: path, reason: "cannot open: \(FileProblem.reading(path))")
        }
        try self.init(data: data, path: path)
    }

    /// Reads from bytes in memory; `path` only names them in errors.
    public init(data: Data, path: String = "<memory>") throws(ParquetError) {
        self.path = path
        self.data = data
        let magic = Array("PAR1".utf8)
        guard data.count >= 12, Array(data.prefix(4)) == magic, Array(data.suffix(4)) == magic else {
            throw ParquetError(path: path, reason: "not a Parquet file (missing PAR1 magic at start or end)")
        }
        let n = data.count
        let tail = Array(data.suffix(8)).map { Int($0) }
        let footerLength = tail[0] | tail[1] << 8 | tail[2] << 16 | tail[3] << 24
        guard footerLength > 0, footerLength <= n - 12 else {
            throw ParquetError(path: path, reason: "footer length \(footerLength) does not fit a \(n)-byte file")
        }
        let footerStart = n - 8 - footerLength
        do {
            metadata = try data.withTypedBytes { (b: UnsafeRawBufferPointer) throws(ThriftError) in
                try ParquetFileMetaData.decode(from: UnsafeRawBufferPointer(rebasing: b[footerStart..<(n - 8)]))
            }
        } catch {
            throw ParquetError(path: path, offset: footerStart + error.offset, reason: "bad footer: \(error.reason)")
        }
        fields = try Self.leafFields(metadata.schema, path: path)
        for (g, group) in metadata.rowGroups.enumerated() where group.columns.count != fields.count {
            throw ParquetError(path: path, rowGroup: g,
                               reason: "has \(group.columns.count) column chunks for \(fields.count) schema columns")
        }
        try Self.checkRowCounts(metadata, fileSize: n, path: path)
    }

    /// The most rows a file of `fileSize` bytes may declare: 64 per byte, at least 2^24. Dense encodings
    /// (RLE runs, all-null columns) can legitimately pack many rows per byte, but no real file packs more;
    /// a footer claiming 2^40 rows in a small file is corrupt or crafted, and must not size our allocations.
    public static func maxRows(fileSize: Int) -> Int64 {
        max(1 << 24, Int64(fileSize).multipliedReportingOverflow(by: 64).partialValue)
    }

    /// Footer row counts, checked before anything is sized by them: none negative, the groups' sum (without
    /// overflow) equal to the file's `num_rows`, and within `maxRows(fileSize:)`.
    static func checkRowCounts(_ metadata: ParquetFileMetaData, fileSize: Int, path: String) throws(ParquetError) {
        let limit = maxRows(fileSize: fileSize)
        guard metadata.numRows >= 0, metadata.numRows <= limit else {
            throw ParquetError(path: path, reason: "footer num_rows \(metadata.numRows) is impossible for a \(fileSize)-byte file "
                               + "(at most \(limit))")
        }
        var total: Int64 = 0
        for (g, group) in metadata.rowGroups.enumerated() {
            guard group.numRows >= 0, group.numRows <= limit - total else {
                throw ParquetError(path: path, rowGroup: g, reason: "num_rows \(group.numRows) is negative or takes the file "
                                   + "past \(limit) rows (\(fileSize) bytes)")
            }
            total += group.numRows
        }
        guard total == metadata.numRows else {
            throw ParquetError(path: path, reason: "footer num_rows \(metadata.numRows) differs from the row groups' total \(total)")
        }
    }

    public var rowCount: Int { Int(metadata.numRows) }
    public var rowGroupCount: Int { metadata.rowGroups.count }
    public func rowCount(rowGroup: Int) -> Int { Int(metadata.rowGroups[rowGroup].numRows) }
    public var keyValueMetadata: [String: String] {
        Dictionary(metadata.keyValueMetadata.map { ($0.key, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
    }

    public func field(named name: String) -> ParquetField? { fields.first { $0.name == name } }

    /// Decoded min/max/null count of `column` in `rowGroup`, if the writer recorded them.
    public func statistics(rowGroup: Int, column: String) -> ParquetColumnStatistics? {
        guard let f = field(named: column), rowGroup < metadata.rowGroups.count,
              let s = metadata.rowGroups[rowGroup].columns[f.index].metaData?.statistics else { return nil }
        func value(_ bytes: [UInt8]?) -> ParquetColumnStatistics.Value? {
            guard let bytes else { return nil }
            func load<T: BitwiseCopyable>(_: T.Type) -> T? {
                guard bytes.count == MemoryLayout<T>.size else { return nil }
                return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
            }
            switch f.physicalType {
            case .int32: return load(Int32.self).map { .int(Int64($0)) }
            case .int64: return load(Int64.self).map { .int($0) }
            case .float: return load(Float.self).map { .double(Double($0)) }
            case .double: return load(Double.self).map { .double($0) }
            case .boolean: return bytes.first.map { .bool($0 != 0) }
            default: return .bytes(bytes)
            }
        }
        return ParquetColumnStatistics(min: value(s.min), max: value(s.max), nullCount: s.nullCount)
    }

    /// Row groups whose min/max statistics for an integer (e.g. timestamp) column may contain a value in `range`.
    /// Groups without statistics are always included. Values are in the column's own unit.
    public func rowGroups(overlapping range: ClosedRange<Int64>, column: String) -> [Int] {
        (0..<rowGroupCount).filter { g in
            guard let s = statistics(rowGroup: g, column: column),
                  case .int(let lo)? = s.min, case .int(let hi)? = s.max else { return true }
            return hi >= range.lowerBound && lo <= range.upperBound
        }
    }

    /// Every row of every column.
    public func readAll() throws(ParquetError) -> ParquetTable { try read() }

    /// Reads the named columns (all when nil) of the given row groups (all when nil), in file order.
    public func read(columns names: [String]? = nil, rowGroups groups: [Int]? = nil) throws(ParquetError) -> ParquetTable {
        let selected: [ParquetField]
        if let names {
            selected = try names.map { (name: String) throws(ParquetError) -> ParquetField in
                guard let f = field(named: name) else {
                    throw ParquetError(path: path, column: name,
                                       reason: "no such column (columns: \(fields.map(\.name).joined(separator: ", ")))")
                }
                return f
            }
        } else {
            selected = fields
        }
        let groupList = groups ?? Array(0..<rowGroupCount)
        for g in groupList where g < 0 || g >= rowGroupCount {
            throw ParquetError(path: path, rowGroup: g, reason: "row group out of range 0..<\(rowGroupCount)")
        }
        let rows = groupList.reduce(0) { $0 + rowCount(rowGroup: $1) }
        var results = [Result<ParquetColumn, ParquetError>?](repeating: nil, count: selected.count)
        if selected.count > 1 && rows >= 65_536 && ProcessInfo.processInfo.activeProcessorCount > 1 {
            // Columns decode independently: one task per column, results written to distinct slots.
            results.withUnsafeMutableBufferPointer { slots in
                let base = UnsafeMutableSendablePointer(slots.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: selected.count) { i in
                    base.pointer[i] = Result { () throws(ParquetError) in try readColumn(selected[i], rowGroups: groupList) }
                }
            }
        } else {
            for (i, f) in selected.enumerated() {
                results[i] = Result { () throws(ParquetError) in try readColumn(f, rowGroups: groupList) }
            }
        }
        var columns: [ParquetColumn] = []
        for r in results { columns.append(try r!.get()) }
        return ParquetTable(columns, metadata: keyValueMetadata)
    }

    private func readColumn(_ f: ParquetField, rowGroups groups: [Int]) throws(ParquetError) -> ParquetColumn {
        guard f.path.count == 1, f.repetition != .repeated else {
            throw ParquetError(path: path, column: f.path.joined(separator: "."), reason: "nested/repeated columns are not supported")
        }
        let optional = f.repetition == .optional
        func run<T>(_ decoder: ColumnChunkDecoder<T>) throws(ParquetError) -> (values: [T], validity: [Bool]?) {
            var out = ColumnChunkDecoder<T>.Output()
            // Row counts are checked at open (checkRowCounts); the reservation is still only a hint, never more
            // than one slot per file byte, so a dense-but-false claim costs nothing before pages back it.
            let total = min(groups.reduce(0) { $0 + rowCount(rowGroup: $1) }, data.count + 1_024)
            out.values.reserveCapacity(total)
            if optional { out.validity = []; out.validity!.reserveCapacity(total) }
            for g in groups {
                guard let meta = metadata.rowGroups[g].columns[f.index].metaData else {
                    throw ParquetError(path: path, rowGroup: g, column: f.name, reason: "column chunk has no metadata")
                }
                // A flat column has one value per row: the chunk may not claim more (or fewer) than its group.
                guard meta.numValues == metadata.rowGroups[g].numRows else {
                    throw ParquetError(path: path, rowGroup: g, column: f.name,
                                       reason: "column chunk num_values \(meta.numValues) differs from the row group's "
                                           + "num_rows \(metadata.rowGroups[g].numRows)")
                }
                guard meta.type == f.physicalType else {
                    throw ParquetError(path: path, rowGroup: g, column: f.name,
                                       reason: "chunk type \(meta.type) differs from schema type \(f.physicalType)")
                }
                if let p = metadata.rowGroups[g].columns[f.index].filePath, !p.isEmpty {
                    throw ParquetError(path: path, rowGroup: g, column: f.name, reason: "column data in external file '\(p)' not supported")
                }
                do {
                    try data.withTypedBytes { (b: UnsafeRawBufferPointer) throws(ParquetError) in
                        try decoder.decode(file: b, meta: meta, optional: optional, into: &out)
                    }
                } catch {
                    var e = error
                    e.path = path
                    e.rowGroup = g
                    e.column = f.name
                    throw e
                }
            }
            if out.validity?.allSatisfy({ $0 }) == true { out.validity = nil }
            return (out.values, out.validity)
        }
        func fixed<T: BitwiseCopyable>(_ type: T.Type, _ placeholder: T) -> ColumnChunkDecoder<T> {
            ColumnChunkDecoder(plain: { (b, offset, count) throws(ParquetError) in
                try PlainEncoding.decode(b, offset: offset, count: count, as: T.self)
            }, placeholder: placeholder)
        }
        let values: ParquetValues
        var validity: [Bool]?
        switch f.physicalType {
        case .int32:
            let r = try run(fixed(Int32.self, 0)); values = .int32(r.values); validity = r.validity
        case .int64:
            let r = try run(fixed(Int64.self, 0)); values = .int64(r.values); validity = r.validity
        case .float:
            let r = try run(fixed(Float.self, .nan)); values = .float(r.values); validity = r.validity
        case .double:
            let r = try run(fixed(Double.self, .nan)); values = .double(r.values); validity = r.validity
        case .boolean:
            let r = try run(ColumnChunkDecoder<Bool>(plain: { (b, offset, count) throws(ParquetError) in
                try PlainEncoding.decode(booleans: b, offset: offset, count: count)
            }, placeholder: false))
            values = .boolean(r.values); validity = r.validity
        case .byteArray:
            let r = try run(ColumnChunkDecoder<[UInt8]>(plain: { (b, offset, count) throws(ParquetError) in
                try PlainEncoding.decode(byteArrays: b, offset: offset, count: count)
            }, placeholder: []))
            if f.logicalType == .string {
                values = .string(r.values.map { String(decoding: $0, as: UTF8.self) })
            } else {
                values = .bytes(r.values)
            }
            validity = r.validity
        default:
            throw ParquetError(path: path, column: f.name, reason: "physical type \(f.physicalType) is not supported")
        }
        var column = ParquetColumn(name: f.name, values: values, nullable: optional, validity: validity)
        column.logicalType = f.logicalType
        return column
    }

    /// The leaf columns of a flattened schema (depth-first, children counts from `num_children`).
    static func leafFields(_ schema: [ParquetSchemaElement], path file: String) throws(ParquetError) -> [ParquetField] {
        guard let root = schema.first else { throw ParquetError(path: file, reason: "empty schema") }
        var fields: [ParquetField] = []
        var i = 1
        func walk(_ count: Int, _ prefix: [String]) throws(ParquetError) {
            // num_children comes from the file: a corrupt (negative or too large) count is an error, not a trap.
            guard count >= 0, count <= schema.count - i else {
                throw ParquetError(path: file, reason: "schema group declares \(count) children but \(schema.count - i) elements follow")
            }
            for _ in 0..<count {
                guard i < schema.count else { throw ParquetError(path: file, reason: "schema ends inside a group") }
                let e = schema[i]
                i += 1
                if let children = e.numChildren, children > 0 {
                    try walk(Int(children), prefix + [e.name])
                } else {
                    guard let type = e.type else {
                        throw ParquetError(path: file, column: e.name, reason: "leaf column without a physical type")
                    }
                    fields.append(ParquetField(name: e.name, physicalType: type, repetition: e.repetition ?? .required,
                                               logicalType: e.logicalType ?? legacyLogicalType(e), index: fields.count,
                                               path: prefix + [e.name]))
                }
            }
        }
        try walk(Int(root.numChildren ?? Int32(schema.count - 1)), [])
        return fields
    }

    /// Logical type implied by a legacy ConvertedType (files from older writers).
    static func legacyLogicalType(_ e: ParquetSchemaElement) -> ParquetLogicalType? {
        switch e.convertedType {
        case 0?: .string
        case 6?: .date
        case 9?: .timestamp(unit: .milliseconds, utc: true)
        case 10?: .timestamp(unit: .microseconds, utc: true)
        case let c? where (11...18).contains(c):
            .integer(bitWidth: [8, 16, 32, 64][Int(c - (c >= 15 ? 15 : 11))], signed: c >= 15)
        default: nil
        }
    }
}

/// A pointer handed to concurrent workers that each write a distinct element.
private struct UnsafeMutableSendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
