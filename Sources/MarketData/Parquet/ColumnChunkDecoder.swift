/// Decodes one column chunk (dictionary page, data pages v1/v2, PLAIN or dictionary-encoded values, RLE
/// definition levels, any supported codec) into a dense array with a validity mask.
struct ColumnChunkDecoder<T> {
    /// Decodes `count` PLAIN values at `offset` of a page body.
    let plain: (UnsafeRawBufferPointer, Int, Int) throws(ParquetError) -> [T]
    /// The value stored in the slot of a null.
    let placeholder: T

    struct Output {
        var values: [T] = []
        var validity: [Bool]?
    }

    /// Appends the chunk's rows to `output`.
    func decode(file: UnsafeRawBufferPointer, meta: ParquetColumnMetaData, optional: Bool, into output: inout Output)
        throws(ParquetError)
    {
        guard PageCompression.isSupported(meta.codec) else {
            throw ParquetError(reason: "codec \(meta.codec) is not supported (supported: zstd, snappy, uncompressed)")
        }
        var position = Int(meta.dataPageOffset)
        if let d = meta.dictionaryPageOffset, d > 0, d < meta.dataPageOffset { position = Int(d) }
        guard position >= 0, position < file.count, meta.totalCompressedSize >= 0, meta.numValues >= 0 else {
            throw ParquetError(reason: "column chunk offsets/sizes outside the file (offset \(position), "
                + "\(meta.totalCompressedSize) bytes, \(meta.numValues) values)")
        }
        // totalCompressedSize is untrusted: clamp before adding (Int64.max + position overflows).
        let chunkEnd = position + Int(min(meta.totalCompressedSize, Int64(file.count - position)))
        var dictionary: [T]?
        var rowsRead: Int64 = 0
        // Capacity is reserved once for all chunks by the caller: reserving per chunk would copy the column
        // again for every row group (quadratic).
        if optional && output.validity == nil {
            output.validity = Array(repeating: true, count: output.values.count)
        }
        while rowsRead < meta.numValues {
            guard position < chunkEnd else {
                throw ParquetError(offset: position, reason: "column chunk ended after \(rowsRead) of \(meta.numValues) values")
            }
            var reader = ThriftCompactReader(file, offset: position)
            let header: ParquetPageHeader
            do { header = try ParquetPageHeader.decode(&reader) } catch {
                throw ParquetError(offset: error.offset, reason: "bad page header: \(error.reason)")
            }
            let bodyStart = reader.position
            let bodyEnd = bodyStart + Int(header.compressedPageSize)
            guard header.compressedPageSize >= 0, header.uncompressedPageSize >= 0, bodyEnd <= file.count,
                  bodyStart <= bodyEnd else {
                throw ParquetError(offset: position, reason: "page of \(header.compressedPageSize) bytes runs past the file end")
            }
            let body = UnsafeRawBufferPointer(rebasing: file[bodyStart..<bodyEnd])
            do throws(ParquetError) {
                switch header.type {
                case .dictionaryPage:
                    guard let d = header.dictionaryPage, d.numValues >= 0,
                          Int(d.numValues) <= Int(header.uncompressedPageSize) else {
                        throw ParquetError(reason: "dictionary page header missing or with an impossible value count")
                    }
                    let bytes = try decompress(body, meta.codec, Int(header.uncompressedPageSize))
                    dictionary = try bytes.withTypedBytes { (b: UnsafeRawBufferPointer) throws(ParquetError) in
                        try plain(b, 0, Int(d.numValues))
                    }
                case .dataPage:
                    guard let d = header.dataPage, d.numValues >= 0, Int64(d.numValues) <= meta.numValues - rowsRead else {
                        throw ParquetError(reason: "data page header missing or with more values than the chunk has left")
                    }
                    let bytes = try decompress(body, meta.codec, Int(header.uncompressedPageSize))
                    try bytes.withTypedBytes { (b: UnsafeRawBufferPointer) throws(ParquetError) in
                        var offset = 0
                        var levels: [UInt32]?
                        if optional {
                            guard d.definitionLevelEncoding == .rle else {
                                throw ParquetError(reason: "definition level encoding \(d.definitionLevelEncoding) not supported")
                            }
                            guard b.count >= 4 else { throw ParquetError(reason: "page too short for definition levels") }
                            let n = Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
                            guard n >= 0, 4 + n <= b.count else { throw ParquetError(reason: "definition levels overrun page") }
                            levels = try decodeLevels(UnsafeRawBufferPointer(rebasing: b[4..<(4 + n)]), Int(d.numValues))
                            offset = 4 + n
                        }
                        try appendValues(b, offset: offset, encoding: d.encoding, rows: Int(d.numValues), levels: levels,
                                         dictionary: dictionary, into: &output)
                    }
                    rowsRead += Int64(d.numValues)
                case .dataPageV2:
                    guard let d = header.dataPageV2, d.numValues >= 0, Int64(d.numValues) <= meta.numValues - rowsRead else {
                        throw ParquetError(reason: "data page v2 header missing or with more values than the chunk has left")
                    }
                    guard d.repetitionLevelsByteLength == 0 else {
                        throw ParquetError(reason: "repeated (nested) columns are not supported")
                    }
                    let levelLength = Int(d.definitionLevelsByteLength)
                    guard levelLength >= 0, levelLength <= body.count else {
                        throw ParquetError(reason: "definition levels overrun page")
                    }
                    var levels: [UInt32]?
                    if optional {
                        levels = try decodeLevels(UnsafeRawBufferPointer(rebasing: body[0..<levelLength]), Int(d.numValues))
                    }
                    let valueBody = UnsafeRawBufferPointer(rebasing: body[levelLength...])
                    let size = Int(header.uncompressedPageSize) - levelLength
                    let bytes = d.isCompressed ? try decompress(valueBody, meta.codec, size) : Array(valueBody)
                    try bytes.withTypedBytes { (b: UnsafeRawBufferPointer) throws(ParquetError) in
                        try appendValues(b, offset: 0, encoding: d.encoding, rows: Int(d.numValues), levels: levels,
                                         dictionary: dictionary, into: &output)
                    }
                    rowsRead += Int64(d.numValues)
                default:
                    break   // index pages and unknown page types carry no values
                }
            } catch {
                var e = error
                if e.offset == nil { e.offset = position }
                throw e
            }
            position = bodyEnd
        }
    }

    private func decompress(_ body: UnsafeRawBufferPointer, _ codec: ParquetCodec, _ size: Int) throws(ParquetError) -> [UInt8] {
        do { return try PageCompression.decompress(body, codec: codec, uncompressedSize: size) } catch {
            throw ParquetError(reason: error.reason)
        }
    }

    private func decodeLevels(_ bytes: UnsafeRawBufferPointer, _ count: Int) throws(ParquetError) -> [UInt32] {
        var p = 0
        do {
            let levels = try RLEHybrid.decode(bytes, position: &p, bitWidth: 1, count: count)
            return levels
        } catch {
            throw ParquetError(reason: "definition levels: \(error.reason)")
        }
    }

    /// Appends `rows` rows: non-null values decoded per `encoding`, nulls (level 0) as placeholders.
    private func appendValues(_ b: UnsafeRawBufferPointer, offset: Int, encoding: ParquetEncoding, rows: Int,
                              levels: [UInt32]?, dictionary: [T]?, into output: inout Output) throws(ParquetError)
    {
        let present = levels.map { $0.reduce(0) { $0 + Int($1) } } ?? rows
        let values: [T]
        switch encoding {
        case .plain:
            values = try plain(b, offset, present)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw ParquetError(reason: "dictionary-encoded page without a dictionary page") }
            guard offset < b.count || present == 0 else { throw ParquetError(reason: "dictionary page body is empty") }
            if present == 0 {
                values = []
            } else {
                let width = Int(b[offset])
                var p = offset + 1
                let indices: [UInt32]
                do {
                    indices = try RLEHybrid.decode(b, position: &p, bitWidth: width, count: present)
                } catch {
                    throw ParquetError(reason: "dictionary indices: \(error.reason)")
                }
                let n = UInt32(dictionary.count)
                var bad: UInt32?
                values = dictionary.withUnsafeBufferPointer { dict in
                    indices.map { i in
                        if i < n { return dict[Int(i)] }
                        bad = i
                        return placeholder
                    }
                }
                if let bad { throw ParquetError(reason: "dictionary index \(bad) out of range 0..<\(n)") }
            }
        default:
            throw ParquetError(reason: "value encoding \(encoding) is not supported (supported: PLAIN, dictionary)")
        }
        guard let levels else {
            output.values.append(contentsOf: values)
            output.validity?.append(contentsOf: repeatElement(true, count: rows))
            return
        }
        if present == rows {
            output.values.append(contentsOf: values)
            output.validity!.append(contentsOf: repeatElement(true, count: rows))
            return
        }
        var k = 0
        for level in levels {
            if level == 1 {
                output.values.append(values[k])
                output.validity!.append(true)
                k += 1
            } else {
                output.values.append(placeholder)
                output.validity!.append(false)
            }
        }
    }
}
