/// Parquet's footer and page-header structures (parquet-format `parquet.thrift`), with exactly the fields this
/// reader and writer use; everything else in a file is skipped on read. Encoding and decoding live in
/// `ParquetMetadataCoding.swift`.
///
/// Numbers are the thrift enum values of the specification, so unknown future values survive as `.other(n)`
/// instead of failing the whole file.
public enum ParquetPhysicalType: Equatable, Sendable {
    case boolean, int32, int64, int96, float, double, byteArray, fixedLenByteArray
    case other(Int32)

    public init(raw: Int32) {
        switch raw {
        case 0: self = .boolean
        case 1: self = .int32
        case 2: self = .int64
        case 3: self = .int96
        case 4: self = .float
        case 5: self = .double
        case 6: self = .byteArray
        case 7: self = .fixedLenByteArray
        default: self = .other(raw)
        }
    }

    public var raw: Int32 {
        switch self {
        case .boolean: 0
        case .int32: 1
        case .int64: 2
        case .int96: 3
        case .float: 4
        case .double: 5
        case .byteArray: 6
        case .fixedLenByteArray: 7
        case .other(let n): n
        }
    }
}

public enum ParquetRepetition: Int32, Sendable {
    case required = 0, optional = 1, repeated = 2
}

/// Value and level encodings (`Encoding` in parquet.thrift).
public enum ParquetEncoding: Equatable, Sendable, Hashable {
    case plain, plainDictionary, rle, bitPacked, deltaBinaryPacked, deltaLengthByteArray, deltaByteArray
    case rleDictionary, byteStreamSplit
    case other(Int32)

    public init(raw: Int32) {
        switch raw {
        case 0: self = .plain
        case 2: self = .plainDictionary
        case 3: self = .rle
        case 4: self = .bitPacked
        case 5: self = .deltaBinaryPacked
        case 6: self = .deltaLengthByteArray
        case 7: self = .deltaByteArray
        case 8: self = .rleDictionary
        case 9: self = .byteStreamSplit
        default: self = .other(raw)
        }
    }

    public var raw: Int32 {
        switch self {
        case .plain: 0
        case .plainDictionary: 2
        case .rle: 3
        case .bitPacked: 4
        case .deltaBinaryPacked: 5
        case .deltaLengthByteArray: 6
        case .deltaByteArray: 7
        case .rleDictionary: 8
        case .byteStreamSplit: 9
        case .other(let n): n
        }
    }
}

/// Page compression (`CompressionCodec`). This implementation reads UNCOMPRESSED, SNAPPY and ZSTD, and writes all
/// three (ZSTD through the system libzstd is the default).
public enum ParquetCodec: Equatable, Sendable {
    case uncompressed, snappy, gzip, lzo, brotli, lz4, zstd, lz4Raw
    case other(Int32)

    public init(raw: Int32) {
        switch raw {
        case 0: self = .uncompressed
        case 1: self = .snappy
        case 2: self = .gzip
        case 3: self = .lzo
        case 4: self = .brotli
        case 5: self = .lz4
        case 6: self = .zstd
        case 7: self = .lz4Raw
        default: self = .other(raw)
        }
    }

    public var raw: Int32 {
        switch self {
        case .uncompressed: 0
        case .snappy: 1
        case .gzip: 2
        case .lzo: 3
        case .brotli: 4
        case .lz4: 5
        case .zstd: 6
        case .lz4Raw: 7
        case .other(let n): n
        }
    }
}

public enum ParquetPageType: Equatable, Sendable {
    case dataPage, indexPage, dictionaryPage, dataPageV2
    case other(Int32)

    public init(raw: Int32) {
        switch raw {
        case 0: self = .dataPage
        case 1: self = .indexPage
        case 2: self = .dictionaryPage
        case 3: self = .dataPageV2
        default: self = .other(raw)
        }
    }

    public var raw: Int32 {
        switch self {
        case .dataPage: 0
        case .indexPage: 1
        case .dictionaryPage: 2
        case .dataPageV2: 3
        case .other(let n): n
        }
    }
}

/// Units of TIMESTAMP logical types.
public enum ParquetTimeUnit: String, Equatable, Sendable {
    case milliseconds = "ms", microseconds = "us", nanoseconds = "ns"

    /// How many of this unit make one millisecond's worth, as a divisor/multiplier pair for conversion to ms.
    public var perMillisecond: Int64 {
        switch self {
        case .milliseconds: 1
        case .microseconds: 1_000
        case .nanoseconds: 1_000_000
        }
    }
}

/// The logical types this implementation understands (others are read as their physical type).
public enum ParquetLogicalType: Equatable, Sendable {
    /// INT64 instants. `utc` is parquet's `isAdjustedToUTC` (pyarrow: a timezone-aware column).
    case timestamp(unit: ParquetTimeUnit, utc: Bool)
    /// UTF-8 text in a BYTE_ARRAY.
    case string
    /// Days since the epoch in an INT32.
    case date
    /// Integer width/signedness annotation on INT32/INT64 (e.g. int8 stored as INT32).
    case integer(bitWidth: Int8, signed: Bool)
    /// A logical type this code does not interpret (the thrift union field id).
    case other(Int16)
}

/// Min/max (PLAIN-encoded bytes) and null count of a column chunk or page.
public struct ParquetStatistics: Equatable, Sendable {
    public var min: [UInt8]?
    public var max: [UInt8]?
    public var nullCount: Int64?
    public var distinctCount: Int64?

    public init(min: [UInt8]? = nil, max: [UInt8]? = nil, nullCount: Int64? = nil, distinctCount: Int64? = nil) {
        self.min = min
        self.max = max
        self.nullCount = nullCount
        self.distinctCount = distinctCount
    }
}

/// One node of the flattened schema tree (the root group first, then its children in order).
public struct ParquetSchemaElement: Equatable, Sendable {
    public var name: String
    public var type: ParquetPhysicalType?
    public var typeLength: Int32?
    public var repetition: ParquetRepetition?
    public var numChildren: Int32?
    /// Legacy ConvertedType number (UTF8 = 0, TIMESTAMP_MILLIS = 9, TIMESTAMP_MICROS = 10, ...).
    public var convertedType: Int32?
    public var logicalType: ParquetLogicalType?
    public var fieldId: Int32?

    public init(name: String, type: ParquetPhysicalType? = nil, typeLength: Int32? = nil,
                repetition: ParquetRepetition? = nil, numChildren: Int32? = nil, convertedType: Int32? = nil,
                logicalType: ParquetLogicalType? = nil, fieldId: Int32? = nil) {
        self.name = name
        self.type = type
        self.typeLength = typeLength
        self.repetition = repetition
        self.numChildren = numChildren
        self.convertedType = convertedType
        self.logicalType = logicalType
        self.fieldId = fieldId
    }
}

public struct ParquetDataPageHeader: Equatable, Sendable {
    public var numValues: Int32
    public var encoding: ParquetEncoding
    public var definitionLevelEncoding: ParquetEncoding
    public var repetitionLevelEncoding: ParquetEncoding
}

public struct ParquetDictionaryPageHeader: Equatable, Sendable {
    public var numValues: Int32
    public var encoding: ParquetEncoding
}

public struct ParquetDataPageHeaderV2: Equatable, Sendable {
    public var numValues: Int32
    public var numNulls: Int32
    public var numRows: Int32
    public var encoding: ParquetEncoding
    public var definitionLevelsByteLength: Int32
    public var repetitionLevelsByteLength: Int32
    public var isCompressed: Bool
}

public struct ParquetPageHeader: Equatable, Sendable {
    public var type: ParquetPageType
    public var uncompressedPageSize: Int32
    public var compressedPageSize: Int32
    public var crc: Int32?
    public var dataPage: ParquetDataPageHeader?
    public var dictionaryPage: ParquetDictionaryPageHeader?
    public var dataPageV2: ParquetDataPageHeaderV2?

    public init(type: ParquetPageType, uncompressedPageSize: Int32, compressedPageSize: Int32, crc: Int32? = nil,
                dataPage: ParquetDataPageHeader? = nil, dictionaryPage: ParquetDictionaryPageHeader? = nil,
                dataPageV2: ParquetDataPageHeaderV2? = nil) {
        self.type = type
        self.uncompressedPageSize = uncompressedPageSize
        self.compressedPageSize = compressedPageSize
        self.crc = crc
        self.dataPage = dataPage
        self.dictionaryPage = dictionaryPage
        self.dataPageV2 = dataPageV2
    }
}

public struct ParquetColumnMetaData: Equatable, Sendable {
    public var type: ParquetPhysicalType
    public var encodings: [ParquetEncoding]
    public var pathInSchema: [String]
    public var codec: ParquetCodec
    public var numValues: Int64
    public var totalUncompressedSize: Int64
    public var totalCompressedSize: Int64
    public var dataPageOffset: Int64
    public var dictionaryPageOffset: Int64?
    public var statistics: ParquetStatistics?
}

public struct ParquetColumnChunk: Equatable, Sendable {
    public var filePath: String?
    public var fileOffset: Int64
    public var metaData: ParquetColumnMetaData?
}

public struct ParquetRowGroup: Equatable, Sendable {
    public var columns: [ParquetColumnChunk]
    public var totalByteSize: Int64
    public var numRows: Int64
    public var fileOffset: Int64?
    public var totalCompressedSize: Int64?
    public var ordinal: Int16?
}

/// The file footer: schema, row groups with their column chunks and statistics, key/value metadata.
public struct ParquetFileMetaData: Equatable, Sendable {
    public var version: Int32
    public var schema: [ParquetSchemaElement]
    public var numRows: Int64
    public var rowGroups: [ParquetRowGroup]
    public var keyValueMetadata: [(key: String, value: String?)]
    public var createdBy: String?
    /// Number of TYPE_ORDER column orders (one per leaf column when min_value/max_value are trustworthy).
    public var typeDefinedColumnOrders: Int

    public static func == (a: ParquetFileMetaData, b: ParquetFileMetaData) -> Bool {
        a.version == b.version && a.schema == b.schema && a.numRows == b.numRows && a.rowGroups == b.rowGroups
            && a.keyValueMetadata.map(\.key) == b.keyValueMetadata.map(\.key)
            && a.keyValueMetadata.map(\.value) == b.keyValueMetadata.map(\.value)
            && a.createdBy == b.createdBy && a.typeDefinedColumnOrders == b.typeDefinedColumnOrders
    }
}
