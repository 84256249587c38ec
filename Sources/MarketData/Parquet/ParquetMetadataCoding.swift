/// Thrift compact encoding and decoding of the Parquet footer and page headers. Field ids are those of
/// parquet-format's `parquet.thrift`; unknown fields are skipped, missing required fields are errors.
///
///     var w = ThriftCompactWriter()
///     metadata.encode(into: &w)
///     let back = try ParquetFileMetaData.decode(from: w.bytes)

extension ThriftCompactReader {
    mutating func required<T>(_ value: T?, _ name: String) throws(ThriftError) -> T {
        guard let value else { throw fail("required field '\(name)' missing") }
        return value
    }
}

extension ParquetStatistics {
    func encode(into w: inout ThriftCompactWriter, legacy: Bool) {
        // Legacy max/min (fields 1, 2) are written for signed numeric types too, for old readers.
        if legacy, let max { w.field(1, binary: max) }
        if legacy, let min { w.field(2, binary: min) }
        if let nullCount { w.field(3, i64: nullCount) }
        if let distinctCount { w.field(4, i64: distinctCount) }
        if let max { w.field(5, binary: max) }
        if let min { w.field(6, binary: min) }
    }

    /// Prefers `min_value`/`max_value` (fields 5, 6); falls back to the legacy `min`/`max` only when
    /// `trustLegacy` (their sort order is only right for signed numeric types).
    static func decode(_ r: inout ThriftCompactReader, trustLegacy: Bool = true) throws(ThriftError) -> ParquetStatistics {
        var s = ParquetStatistics()
        var legacyMin: [UInt8]?, legacyMax: [UInt8]?
        try r.readStruct { (r, id, type) throws(ThriftError) in
            switch (id, type) {
            case (1, .binary): legacyMax = try r.readBinary()
            case (2, .binary): legacyMin = try r.readBinary()
            case (3, .i64): s.nullCount = try r.readI64()
            case (4, .i64): s.distinctCount = try r.readI64()
            case (5, .binary): s.max = try r.readBinary()
            case (6, .binary): s.min = try r.readBinary()
            default: try r.skip(type)
            }
        }
        if s.min == nil && s.max == nil && trustLegacy {
            s.min = legacyMin
            s.max = legacyMax
        }
        return s
    }
}

extension ParquetLogicalType {
    func encode(into w: inout ThriftCompactWriter) {
        switch self {
        case .string: w.field(1, struct: { _ in })
        case .date: w.field(6, struct: { _ in })
        case .timestamp(let unit, let utc):
            w.field(8) { w in
                w.field(1, bool: utc)
                w.field(2) { w in
                    switch unit {
                    case .milliseconds: w.field(1, struct: { _ in })
                    case .microseconds: w.field(2, struct: { _ in })
                    case .nanoseconds: w.field(3, struct: { _ in })
                    }
                }
            }
        case .integer(let bitWidth, let signed):
            w.field(10) { w in
                w.field(1, i8: bitWidth)
                w.field(2, bool: signed)
            }
        case .other(let id): w.field(id, struct: { _ in })
        }
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> ParquetLogicalType? {
        var result: ParquetLogicalType?
        try r.readStruct { (r, id, type) throws(ThriftError) in
            switch (id, type) {
            case (1, .structure): try r.skip(type); result = .string
            case (6, .structure): try r.skip(type); result = .date
            case (8, .structure):
                var utc = false
                var unit: ParquetTimeUnit?
                try r.readStruct { (r, id, type) throws(ThriftError) in
                    switch (id, type) {
                    case (1, .boolTrue), (1, .boolFalse): utc = try r.readBool()
                    case (2, .structure):
                        try r.readStruct { (r, id, type) throws(ThriftError) in
                            switch id {
                            case 1: unit = .milliseconds
                            case 2: unit = .microseconds
                            case 3: unit = .nanoseconds
                            default: break
                            }
                            try r.skip(type)
                        }
                    default: try r.skip(type)
                    }
                }
                result = .timestamp(unit: try r.required(unit, "TimestampType.unit"), utc: utc)
            case (10, .structure):
                var width: Int8 = 64
                var signed = true
                try r.readStruct { (r, id, type) throws(ThriftError) in
                    switch (id, type) {
                    case (1, .byte): width = try r.readI8()
                    case (2, .boolTrue), (2, .boolFalse): signed = try r.readBool()
                    default: try r.skip(type)
                    }
                }
                result = .integer(bitWidth: width, signed: signed)
            default:
                try r.skip(type)
                result = .other(id)
            }
        }
        return result
    }
}

extension ParquetSchemaElement {
    func encode(into w: inout ThriftCompactWriter) {
        if let type { w.field(1, i32: type.raw) }
        if let typeLength { w.field(2, i32: typeLength) }
        if let repetition { w.field(3, i32: repetition.rawValue) }
        w.field(4, string: name)
        if let numChildren { w.field(5, i32: numChildren) }
        if let convertedType { w.field(6, i32: convertedType) }
        if let fieldId { w.field(9, i32: fieldId) }
        if let logicalType { w.field(10) { w in logicalType.encode(into: &w) } }
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> ParquetSchemaElement {
        var e = ParquetSchemaElement(name: "")
        var name: String?
        try r.readStruct { (r, id, type) throws(ThriftError) in
            switch (id, type) {
            case (1, .i32): e.type = ParquetPhysicalType(raw: try r.readI32())
            case (2, .i32): e.typeLength = try r.readI32()
            case (3, .i32):
                let raw = try r.readI32()
                guard let rep = ParquetRepetition(rawValue: raw) else { throw r.fail("unknown repetition \(raw)") }
                e.repetition = rep
            case (4, .binary): name = try r.readString()
            case (5, .i32): e.numChildren = try r.readI32()
            case (6, .i32): e.convertedType = try r.readI32()
            case (9, .i32): e.fieldId = try r.readI32()
            case (10, .structure): e.logicalType = try ParquetLogicalType.decode(&r)
            default: try r.skip(type)
            }
        }
        e.name = try r.required(name, "SchemaElement.name")
        return e
    }
}

extension ParquetPageHeader {
    public func encode(into w: inout ThriftCompactWriter) {
        w.structure { w in
            w.field(1, i32: type.raw)
            w.field(2, i32: uncompressedPageSize)
            w.field(3, i32: compressedPageSize)
            if let crc { w.field(4, i32: crc) }
            if let d = dataPage {
                w.field(5) { w in
                    w.field(1, i32: d.numValues)
                    w.field(2, i32: d.encoding.raw)
                    w.field(3, i32: d.definitionLevelEncoding.raw)
                    w.field(4, i32: d.repetitionLevelEncoding.raw)
                }
            }
            if let d = dictionaryPage {
                w.field(7) { w in
                    w.field(1, i32: d.numValues)
                    w.field(2, i32: d.encoding.raw)
                }
            }
            if let d = dataPageV2 {
                w.field(8) { w in
                    w.field(1, i32: d.numValues)
                    w.field(2, i32: d.numNulls)
                    w.field(3, i32: d.numRows)
                    w.field(4, i32: d.encoding.raw)
                    w.field(5, i32: d.definitionLevelsByteLength)
                    w.field(6, i32: d.repetitionLevelsByteLength)
                    w.field(7, bool: d.isCompressed)
                }
            }
        }
    }

    /// Decodes a page header at the reader's position (top-level struct).
    public static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> ParquetPageHeader {
        var type: Int32?, uncompressed: Int32?, compressed: Int32?
        var h = ParquetPageHeader(type: .dataPage, uncompressedPageSize: 0, compressedPageSize: 0)
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch (id, t) {
            case (1, .i32): type = try r.readI32()
            case (2, .i32): uncompressed = try r.readI32()
            case (3, .i32): compressed = try r.readI32()
            case (4, .i32): h.crc = try r.readI32()
            case (5, .structure):
                var n: Int32?, enc: Int32?, dl: Int32 = 3, rl: Int32 = 3
                try r.readStruct { (r, id, t) throws(ThriftError) in
                    switch (id, t) {
                    case (1, .i32): n = try r.readI32()
                    case (2, .i32): enc = try r.readI32()
                    case (3, .i32): dl = try r.readI32()
                    case (4, .i32): rl = try r.readI32()
                    default: try r.skip(t)
                    }
                }
                h.dataPage = ParquetDataPageHeader(
                    numValues: try r.required(n, "DataPageHeader.num_values"),
                    encoding: ParquetEncoding(raw: try r.required(enc, "DataPageHeader.encoding")),
                    definitionLevelEncoding: ParquetEncoding(raw: dl), repetitionLevelEncoding: ParquetEncoding(raw: rl))
            case (7, .structure):
                var n: Int32?, enc: Int32 = 0
                try r.readStruct { (r, id, t) throws(ThriftError) in
                    switch (id, t) {
                    case (1, .i32): n = try r.readI32()
                    case (2, .i32): enc = try r.readI32()
                    default: try r.skip(t)
                    }
                }
                h.dictionaryPage = ParquetDictionaryPageHeader(
                    numValues: try r.required(n, "DictionaryPageHeader.num_values"), encoding: ParquetEncoding(raw: enc))
            case (8, .structure):
                var v = [Int32?](repeating: nil, count: 7)
                var compressedFlag = true
                try r.readStruct { (r, id, t) throws(ThriftError) in
                    switch (id, t) {
                    case (1...6, .i32): v[Int(id)] = try r.readI32()
                    case (7, .boolTrue), (7, .boolFalse): compressedFlag = try r.readBool()
                    default: try r.skip(t)
                    }
                }
                h.dataPageV2 = ParquetDataPageHeaderV2(
                    numValues: try r.required(v[1], "DataPageHeaderV2.num_values"),
                    numNulls: try r.required(v[2], "DataPageHeaderV2.num_nulls"),
                    numRows: try r.required(v[3], "DataPageHeaderV2.num_rows"),
                    encoding: ParquetEncoding(raw: try r.required(v[4], "DataPageHeaderV2.encoding")),
                    definitionLevelsByteLength: try r.required(v[5], "DataPageHeaderV2.definition_levels_byte_length"),
                    repetitionLevelsByteLength: try r.required(v[6], "DataPageHeaderV2.repetition_levels_byte_length"),
                    isCompressed: compressedFlag)
            default: try r.skip(t)
            }
        }
        h.type = ParquetPageType(raw: try r.required(type, "PageHeader.type"))
        h.uncompressedPageSize = try r.required(uncompressed, "PageHeader.uncompressed_page_size")
        h.compressedPageSize = try r.required(compressed, "PageHeader.compressed_page_size")
        return h
    }
}

extension ParquetColumnMetaData {
    func encode(into w: inout ThriftCompactWriter) {
        w.field(1, i32: type.raw)
        w.field(2, list: encodings, of: .i32) { w, e in w.element(i32: e.raw) }
        w.field(3, list: pathInSchema, of: .binary) { w, p in w.element(string: p) }
        w.field(4, i32: codec.raw)
        w.field(5, i64: numValues)
        w.field(6, i64: totalUncompressedSize)
        w.field(7, i64: totalCompressedSize)
        w.field(9, i64: dataPageOffset)
        if let dictionaryPageOffset { w.field(11, i64: dictionaryPageOffset) }
        if let statistics {
            let legacy = type == .int32 || type == .int64 || type == .float || type == .double
            w.field(12) { w in statistics.encode(into: &w, legacy: legacy) }
        }
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> ParquetColumnMetaData {
        var type: Int32?, codec: Int32?, numValues: Int64?, uncompressed: Int64?, compressed: Int64?
        var dataOffset: Int64?, dictOffset: Int64?, stats: ParquetStatistics?
        var encodings: [ParquetEncoding] = [], path: [String]?
        var statsStart: Int?
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch (id, t) {
            case (1, .i32): type = try r.readI32()
            case (2, .list):
                encodings = try r.readList { (r, _) throws(ThriftError) in ParquetEncoding(raw: try r.readI32()) }
            case (3, .list): path = try r.readList { (r, _) throws(ThriftError) in try r.readString() }
            case (4, .i32): codec = try r.readI32()
            case (5, .i64): numValues = try r.readI64()
            case (6, .i64): uncompressed = try r.readI64()
            case (7, .i64): compressed = try r.readI64()
            case (9, .i64): dataOffset = try r.readI64()
            case (11, .i64): dictOffset = try r.readI64()
            case (12, .structure):
                statsStart = r.position
                try r.skip(t)
            default: try r.skip(t)
            }
        }
        let physical = ParquetPhysicalType(raw: try r.required(type, "ColumnMetaData.type"))
        if let statsStart {
            // Decoded after the type is known: legacy min/max are only trusted for signed numeric types.
            var sub = ThriftCompactReader(r.bytes, offset: statsStart)
            let signed = physical == .int32 || physical == .int64 || physical == .float || physical == .double
            stats = try ParquetStatistics.decode(&sub, trustLegacy: signed)
        }
        return ParquetColumnMetaData(
            type: physical, encodings: encodings, pathInSchema: try r.required(path, "ColumnMetaData.path_in_schema"),
            codec: ParquetCodec(raw: try r.required(codec, "ColumnMetaData.codec")),
            numValues: try r.required(numValues, "ColumnMetaData.num_values"),
            totalUncompressedSize: try r.required(uncompressed, "ColumnMetaData.total_uncompressed_size"),
            totalCompressedSize: try r.required(compressed, "ColumnMetaData.total_compressed_size"),
            dataPageOffset: try r.required(dataOffset, "ColumnMetaData.data_page_offset"),
            dictionaryPageOffset: dictOffset, statistics: stats)
    }
}

extension ParquetRowGroup {
    func encode(into w: inout ThriftCompactWriter) {
        w.field(1, list: columns, of: .structure) { w, chunk in
            w.structure { w in
                if let p = chunk.filePath { w.field(1, string: p) }
                w.field(2, i64: chunk.fileOffset)
                if let m = chunk.metaData { w.field(3) { w in m.encode(into: &w) } }
            }
        }
        w.field(2, i64: totalByteSize)
        w.field(3, i64: numRows)
        if let fileOffset { w.field(5, i64: fileOffset) }
        if let totalCompressedSize { w.field(6, i64: totalCompressedSize) }
        if let ordinal { w.field(7, i16: ordinal) }
    }

    static func decode(_ r: inout ThriftCompactReader) throws(ThriftError) -> ParquetRowGroup {
        var columns: [ParquetColumnChunk]?, total: Int64?, rows: Int64?
        var g = ParquetRowGroup(columns: [], totalByteSize: 0, numRows: 0)
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch (id, t) {
            case (1, .list):
                columns = try r.readList { (r, _) throws(ThriftError) in
                    var chunk = ParquetColumnChunk(filePath: nil, fileOffset: 0, metaData: nil)
                    try r.readStruct { (r, id, t) throws(ThriftError) in
                        switch (id, t) {
                        case (1, .binary): chunk.filePath = try r.readString()
                        case (2, .i64): chunk.fileOffset = try r.readI64()
                        case (3, .structure): chunk.metaData = try ParquetColumnMetaData.decode(&r)
                        default: try r.skip(t)
                        }
                    }
                    return chunk
                }
            case (2, .i64): total = try r.readI64()
            case (3, .i64): rows = try r.readI64()
            case (5, .i64): g.fileOffset = try r.readI64()
            case (6, .i64): g.totalCompressedSize = try r.readI64()
            case (7, .i16): g.ordinal = try r.readI16()
            default: try r.skip(t)
            }
        }
        g.columns = try r.required(columns, "RowGroup.columns")
        g.totalByteSize = try r.required(total, "RowGroup.total_byte_size")
        g.numRows = try r.required(rows, "RowGroup.num_rows")
        return g
    }
}

extension ParquetFileMetaData {
    public func encode(into w: inout ThriftCompactWriter) {
        w.structure { w in
            w.field(1, i32: version)
            w.field(2, list: schema, of: .structure) { w, e in w.structure { w in e.encode(into: &w) } }
            w.field(3, i64: numRows)
            w.field(4, list: rowGroups, of: .structure) { w, g in w.structure { w in g.encode(into: &w) } }
            if !keyValueMetadata.isEmpty {
                w.field(5, list: keyValueMetadata, of: .structure) { w, kv in
                    w.structure { w in
                        w.field(1, string: kv.key)
                        if let v = kv.value { w.field(2, string: v) }
                    }
                }
            }
            if let createdBy { w.field(6, string: createdBy) }
            if typeDefinedColumnOrders > 0 {
                w.field(7, list: Array(repeating: 0, count: typeDefinedColumnOrders), of: .structure) { w, _ in
                    w.structure { w in w.field(1, struct: { _ in }) }
                }
            }
        }
    }

    public static func decode(from bytes: UnsafeRawBufferPointer) throws(ThriftError) -> ParquetFileMetaData {
        var r = ThriftCompactReader(bytes)
        var version: Int32?, schema: [ParquetSchemaElement]?, numRows: Int64?, rowGroups: [ParquetRowGroup]?
        var kv: [(key: String, value: String?)] = []
        var createdBy: String?
        var orders = 0
        try r.readStruct { (r, id, t) throws(ThriftError) in
            switch (id, t) {
            case (1, .i32): version = try r.readI32()
            case (2, .list): schema = try r.readList { (r, _) throws(ThriftError) in try ParquetSchemaElement.decode(&r) }
            case (3, .i64): numRows = try r.readI64()
            case (4, .list): rowGroups = try r.readList { (r, _) throws(ThriftError) in try ParquetRowGroup.decode(&r) }
            case (5, .list):
                kv = try r.readList { (r, _) throws(ThriftError) in
                    var key: String?, value: String?
                    try r.readStruct { (r, id, t) throws(ThriftError) in
                        switch (id, t) {
                        case (1, .binary): key = try r.readString()
                        case (2, .binary): value = try r.readString()
                        default: try r.skip(t)
                        }
                    }
                    return (try r.required(key, "KeyValue.key"), value)
                }
            case (6, .binary): createdBy = try r.readString()
            case (7, .list):
                let flags = try r.readList { (r, _) throws(ThriftError) -> Bool in
                    var typeOrder = false
                    try r.readStruct { (r, id, t) throws(ThriftError) in
                        if id == 1 { typeOrder = true }
                        try r.skip(t)
                    }
                    return typeOrder
                }
                orders = flags.filter { $0 }.count
            default: try r.skip(t)
            }
        }
        return ParquetFileMetaData(
            version: try r.required(version, "FileMetaData.version"), schema: try r.required(schema, "FileMetaData.schema"),
            numRows: try r.required(numRows, "FileMetaData.num_rows"),
            rowGroups: try r.required(rowGroups, "FileMetaData.row_groups"), keyValueMetadata: kv, createdBy: createdBy,
            typeDefinedColumnOrders: orders)
    }

    public static func decode(from bytes: [UInt8]) throws(ThriftError) -> ParquetFileMetaData {
        try bytes.withTypedBytes { (buffer) throws(ThriftError) in try decode(from: buffer) }
    }
}
