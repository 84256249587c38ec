import Common
import Foundation

/// How `ParquetWriter` lays out a file.
public struct ParquetWriteOptions: Sendable {
    /// Page codec: `.zstd` (default, system libzstd), `.snappy` or `.uncompressed`.
    public var codec: ParquetCodec = .zstd
    /// zstd level (1 = fast, pyarrow's default; up to 19 for archives).
    public var zstdLevel: Int32 = 1
    /// Rows per row group. Smaller groups make range reads skip more; larger ones compress better.
    public var rowGroupRows: Int = 1 << 20
    /// Target uncompressed bytes of values per data page.
    public var dataPageBytes: Int = 1 << 20
    /// Dictionary encoding: `.auto` uses it where the values repeat enough to pay (never for booleans).
    public var dictionary: DictionaryPolicy = .auto
    /// DATA_PAGE (v1, the default and pyarrow's) or DATA_PAGE_V2.
    public var dataPageVersion: Int = 1
    /// Write per-column-chunk min/max/null-count statistics (used by readers to skip row groups).
    public var statistics: Bool = true
    public var createdBy: String = "AITrader parquet (Swift)"

    public enum DictionaryPolicy: Sendable { case auto, always, never }

    public init() {}

    public init(codec: ParquetCodec = .zstd, rowGroupRows: Int = 1 << 20, dictionary: DictionaryPolicy = .auto,
                dataPageVersion: Int = 1) {
        self.codec = codec
        self.rowGroupRows = rowGroupRows
        self.dictionary = dictionary
        self.dataPageVersion = dataPageVersion
    }
}

/// Writes a `ParquetTable` as a Parquet file (format 2.x footer, data page v1 or v2, PLAIN or dictionary
/// encoding, zstd/snappy/uncompressed, column statistics and TYPE_ORDER column orders), readable by pyarrow,
/// Spark, DuckDB and this module's `ParquetReader`.
///
///     var options = ParquetWriteOptions()
///     options.rowGroupRows = 100_000
///     let bytes = try ParquetWriter(options: options).encode(table)
///     try ParquetWriter().write(table, to: "features.parquet")    // atomic: temp file + fsync + rename
public struct ParquetWriter: Sendable {
    public var options: ParquetWriteOptions

    public init(options: ParquetWriteOptions = ParquetWriteOptions()) {
        self.options = options
    }

    /// Encodes and writes `table` atomically: a reader sees the old file or the new one, never a partial one.
    public func write(_ table: ParquetTable, to path: String) throws(ParquetError) {
        let bytes = try encode(table)
        do {
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw ParquetError(path: path, reason: error.description)
        }
    }

    /// The whole file as bytes.
    public func encode(_ table: ParquetTable) throws(ParquetError) -> [UInt8] {
        try table.validate()
        guard PageCompression.isSupported(options.codec) else {
            throw ParquetError(reason: "cannot write codec \(options.codec): use zstd, snappy or uncompressed")
        }
        guard options.dataPageVersion == 1 || options.dataPageVersion == 2 else {
            throw ParquetError(reason: "data page version must be 1 or 2, not \(options.dataPageVersion)")
        }
        var out: [UInt8] = Array("PAR1".utf8)
        let groupRows = max(1, options.rowGroupRows)
        var rowGroups: [ParquetRowGroup] = []
        var start = 0
        repeat {
            let end = min(table.rowCount, start + groupRows)
            var chunks: [ParquetColumnChunk] = []
            var uncompressedTotal: Int64 = 0, compressedTotal: Int64 = 0
            let groupStart = out.count
            // Column chunks encode independently (in parallel for big groups), each into its own buffer with
            // offsets relative to the buffer; they are then laid out in schema order and the offsets shifted.
            let encoded = encodeChunks(table.columns, rows: start..<end)
            for (column, result) in zip(table.columns, encoded) {
                var meta: ParquetColumnMetaData
                let bytes: [UInt8]
                switch result {
                case .success(let chunk): (meta, bytes) = chunk
                case .failure(let error):
                    throw ParquetError(rowGroup: rowGroups.count, column: column.name, reason: error.reason)
                }
                let base = Int64(out.count)
                meta.dataPageOffset += base
                meta.dictionaryPageOffset = meta.dictionaryPageOffset.map { $0 + base }
                out += bytes
                uncompressedTotal += meta.totalUncompressedSize
                compressedTotal += meta.totalCompressedSize
                chunks.append(ParquetColumnChunk(filePath: nil, fileOffset: meta.dictionaryPageOffset ?? meta.dataPageOffset,
                                                 metaData: meta))
            }
            rowGroups.append(ParquetRowGroup(columns: chunks, totalByteSize: uncompressedTotal, numRows: Int64(end - start),
                                             fileOffset: Int64(groupStart), totalCompressedSize: compressedTotal,
                                             ordinal: Int16(truncatingIfNeeded: rowGroups.count)))
            start = end
        } while start < table.rowCount

        var schema = [ParquetSchemaElement(name: "schema", numChildren: Int32(table.columns.count))]
        for c in table.columns { schema.append(schemaElement(for: c)) }
        let footer = ParquetFileMetaData(
            version: 2, schema: schema, numRows: Int64(table.rowCount), rowGroups: rowGroups,
            keyValueMetadata: table.metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            createdBy: options.createdBy, typeDefinedColumnOrders: table.columns.count)
        var w = ThriftCompactWriter()
        footer.encode(into: &w)
        out.append(contentsOf: w.bytes)
        let n = UInt32(w.bytes.count)
        out.append(contentsOf: [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)])
        out.append(contentsOf: Array("PAR1".utf8))
        return out
    }

    func schemaElement(for c: ParquetColumn) -> ParquetSchemaElement {
        var e = ParquetSchemaElement(name: c.name, type: c.physicalType, repetition: c.nullable ? .optional : .required)
        e.logicalType = c.logicalType
        switch c.logicalType {
        case .string: e.convertedType = 0
        case .date: e.convertedType = 6
        case .timestamp(.milliseconds, true): e.convertedType = 9
        case .timestamp(.microseconds, true): e.convertedType = 10
        case .integer(let width, let signed):
            let base: Int32 = signed ? 15 : 11
            switch width {
            case 8: e.convertedType = base
            case 16: e.convertedType = base + 1
            case 32: e.convertedType = base + 2
            case 64: e.convertedType = base + 3
            default: break
            }
        default: break
        }
        return e
    }

    /// Encodes each column's chunk of `rows`; concurrently when there is enough work for several cores.
    private func encodeChunks(_ columns: [ParquetColumn], rows: Range<Int>)
        -> [Result<(ParquetColumnMetaData, [UInt8]), ParquetError>]
    {
        @Sendable func one(_ c: ParquetColumn) -> Result<(ParquetColumnMetaData, [UInt8]), ParquetError> {
            Result { () throws(ParquetError) in
                var bytes: [UInt8] = []
                let meta = try writeChunk(c, rows: rows, into: &bytes)
                return (meta, bytes)
            }
        }
        guard columns.count > 1, rows.count >= 16_384, ProcessInfo.processInfo.activeProcessorCount > 1 else {
            return columns.map(one)
        }
        var results = [Result<(ParquetColumnMetaData, [UInt8]), ParquetError>?](repeating: nil, count: columns.count)
        results.withUnsafeMutableBufferPointer { slots in
            let base = SendablePointer(slots.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: columns.count) { i in base.pointer[i] = one(columns[i]) }
        }
        return results.map { $0! }
    }

    /// Appends one column chunk (optional dictionary page, then data pages) and returns its metadata.
    private func writeChunk(_ column: ParquetColumn, rows: Range<Int>, into out: inout [UInt8]) throws(ParquetError)
        -> ParquetColumnMetaData
    {
        let (levels, values) = column.chunk(rows: rows)
        let chunkStart = out.count
        var uncompressedTotal = 0
        var dictionaryOffset: Int64?
        var dictionary: (plain: [UInt8], entries: Int, indices: [UInt32])?
        if options.dictionary != .never, !(values is BooleanChunkValues) {
            let maxEntries = options.dictionary == .always ? Int(Int32.max) : 1 << 20
            let maxBytes = options.dictionary == .always ? Int(Int32.max) : options.dataPageBytes
            dictionary = values.dictionary(maxEntries: maxEntries, maxBytes: maxBytes)
        }
        if let dict = dictionary {
            dictionaryOffset = Int64(out.count)
            let body = try compress(dict.plain)
            var header = ParquetPageHeader(type: .dictionaryPage, uncompressedPageSize: Int32(dict.plain.count),
                                           compressedPageSize: Int32(body.count))
            header.dictionaryPage = ParquetDictionaryPageHeader(numValues: Int32(dict.entries), encoding: .plain)
            uncompressedTotal += appendPage(header, body, into: &out) - body.count + dict.plain.count
        }
        let dataOffset = Int64(out.count)
        let bytesPerValue = max(1, values.plainBytesPerValue)
        let rowsPerPage = max(1, options.dataPageBytes / bytesPerValue)
        var valueStart = 0
        var pageStart = 0
        let rowCount = rows.count
        repeat {
            let pageEnd = min(rowCount, pageStart + rowsPerPage)
            let pageLevels = levels.map { Array($0[pageStart..<pageEnd]) }
            let present = pageLevels.map { $0.reduce(0) { $0 + Int($1) } } ?? (pageEnd - pageStart)
            let valueRange = valueStart..<(valueStart + present)
            var valueBytes: [UInt8]
            if let dict = dictionary {
                let width = RLEHybrid.bitWidth(forMax: dict.entries - 1)
                valueBytes = [UInt8(width)]
                valueBytes += RLEHybrid.encode(Array(dict.indices[valueRange]), bitWidth: width)
            } else {
                valueBytes = values.plain(valueRange)
            }
            let levelBytes = pageLevels.map { RLEHybrid.encode($0, bitWidth: 1) } ?? []
            let encoding: ParquetEncoding = dictionary == nil ? .plain : .rleDictionary
            let numValues = Int32(pageEnd - pageStart)
            if options.dataPageVersion == 1 {
                var body: [UInt8] = []
                if levels != nil {
                    let n = UInt32(levelBytes.count)
                    body += [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
                    body += levelBytes
                }
                body += valueBytes
                let packed = try compress(body)
                var header = ParquetPageHeader(type: .dataPage, uncompressedPageSize: Int32(body.count),
                                               compressedPageSize: Int32(packed.count))
                header.dataPage = ParquetDataPageHeader(numValues: numValues, encoding: encoding,
                                                        definitionLevelEncoding: .rle, repetitionLevelEncoding: .rle)
                uncompressedTotal += appendPage(header, packed, into: &out) - packed.count + body.count
            } else {
                let packed = try compress(valueBytes)
                var header = ParquetPageHeader(type: .dataPageV2, uncompressedPageSize: Int32(levelBytes.count + valueBytes.count),
                                               compressedPageSize: Int32(levelBytes.count + packed.count))
                header.dataPageV2 = ParquetDataPageHeaderV2(
                    numValues: numValues, numNulls: numValues - Int32(present), numRows: numValues, encoding: encoding,
                    definitionLevelsByteLength: Int32(levelBytes.count), repetitionLevelsByteLength: 0,
                    isCompressed: options.codec != .uncompressed)
                let written = appendPage(header, levelBytes + packed, into: &out)
                uncompressedTotal += written - packed.count + valueBytes.count
            }
            valueStart += present
            pageStart = pageEnd
        } while pageStart < rowCount

        var statistics: ParquetStatistics?
        if options.statistics {
            var s = ParquetStatistics(nullCount: Int64(rowCount - values.count))
            if let (lo, hi) = values.minMax() {
                s.min = lo
                s.max = hi
            }
            statistics = s
        }
        var encodings: [ParquetEncoding] = dictionary == nil ? [.plain, .rle] : [.plain, .rle, .rleDictionary]
        if levels == nil && dictionary == nil { encodings = [.plain] }
        return ParquetColumnMetaData(
            type: column.physicalType, encodings: encodings, pathInSchema: [column.name], codec: options.codec,
            numValues: Int64(rowCount), totalUncompressedSize: Int64(uncompressedTotal),
            totalCompressedSize: Int64(out.count - chunkStart), dataPageOffset: dataOffset,
            dictionaryPageOffset: dictionaryOffset, statistics: statistics)
    }

    private func compress(_ bytes: [UInt8]) throws(ParquetError) -> [UInt8] {
        do {
            return try PageCompression.compress(bytes, codec: options.codec, zstdLevel: options.zstdLevel)
        } catch {
            throw ParquetError(reason: error.reason)
        }
    }

    /// Appends header + body; returns the bytes written.
    private func appendPage(_ header: ParquetPageHeader, _ body: [UInt8], into out: inout [UInt8]) -> Int {
        var w = ThriftCompactWriter()
        header.encode(into: &w)
        out += w.bytes
        out += body
        return w.bytes.count + body.count
    }
}

/// A pointer handed to concurrent workers that each write a distinct element.
private struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
