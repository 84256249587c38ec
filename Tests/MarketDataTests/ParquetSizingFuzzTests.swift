import Common
import Foundation
import Testing
@testable import MarketData

/// Structure-aware fuzzing of the fields that size things: the footer's row and value counts, offsets and sizes
/// are decoded, set to hostile values (negative, 2^31, 2^40, Int64.max, off by one, the file size ...), re-encoded
/// as Thrift and spliced back; page headers' value counts and sizes likewise. Every file must read to a
/// `ParquetError` or to a table whose columns all have the footer's row count — never a trap or a huge allocation.
/// Seeded per round; AITRADER_FUZZ_ROUNDS for a longer search (default 150 per codec, well under a second each).
@Suite struct ParquetSizingFuzzTests {
    static var rounds: Int { ProcessInfo.processInfo.environment["AITRADER_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 150 }

    /// Values that break naive size arithmetic, plus ones near `v` and the file size.
    static func hostile(_ v: Int64, fileSize: Int, _ rng: inout SplitMix64) -> Int64 {
        let n = Int64(fileSize)
        let choices: [Int64] = [-1, 0, 1, v &- 1, v &+ 1, v &* 2, n, n &* 64 &+ 1, (1 << 24) + 1, Int64(Int32.max), 1 << 31,
                                1 << 32, 1 << 40, Int64.max, Int64.min, Int64.max &- v]
        return choices[Int(rng.next() % UInt64(choices.count))]
    }

    /// `clean` with its footer replaced by `metadata` (re-encoded).
    static func splice(_ clean: [UInt8], footer: Range<Int>, _ metadata: ParquetFileMetaData) -> [UInt8] {
        var w = ThriftCompactWriter()
        metadata.encode(into: &w)
        let encoded = w.bytes
        var out = Array(clean[..<footer.lowerBound]) + encoded
        let n = UInt32(encoded.count)
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt32(i)))) }
        return out + Array("PAR1".utf8)
    }

    /// Reads everything; a successful read must be self-consistent.
    static func check(_ bytes: [UInt8], _ what: String) {
        do {
            let reader = try ParquetReader(data: Data(bytes), path: "fuzz.parquet")
            let table = try reader.readAll()
            for column in table.columns {
                #expect(column.count == reader.rowCount, "\(what): column \(column.name) has \(column.count) rows, footer says \(reader.rowCount)")
            }
        } catch let error as ParquetError {
            #expect(error.path == "fuzz.parquet", "\(what): error does not name the file: \(error)")
        } catch {
            Issue.record("\(what): untyped error \(error)")
        }
    }

    static func cleanFile(_ codec: ParquetCodec) throws -> (bytes: [UInt8], footer: Range<Int>, metadata: ParquetFileMetaData) {
        var options = ParquetWriteOptions(codec: codec, rowGroupRows: 40)
        options.dataPageBytes = 64
        let clean = try ParquetWriter(options: options).encode(sampleTable(rows: 100))
        let end = clean.count - 8
        let length = clean[end ..< end + 4].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let footer = (end - length) ..< end
        let metadata = try ParquetFileMetaData.decode(from: Array(clean[footer]))
        return (clean, footer, metadata)
    }

    @Test func footerSizingFields() throws {
        for (c, codec) in [ParquetCodec.snappy, .zstd, .uncompressed].enumerated() {
            let (clean, footer, metadata) = try Self.cleanFile(codec)
            // The unmodified re-encoding reads back (the splice itself is sound).
            Self.check(Self.splice(clean, footer: footer, metadata), "codec \(codec) unmodified")
            for round in 0..<Self.rounds {
                let seed = UInt64(c) << 32 | UInt64(round)
                var rng = SplitMix64(seed: seed)
                var m = metadata
                for _ in 0..<(1 + Int(rng.next() % 2)) {
                    let g = Int(rng.next() % UInt64(m.rowGroups.count))
                    let k = Int(rng.next() % UInt64(m.rowGroups[g].columns.count))
                    guard var meta = m.rowGroups[g].columns[k].metaData else { continue }
                    switch rng.next() % 7 {
                    case 0: m.numRows = Self.hostile(m.numRows, fileSize: clean.count, &rng)
                    case 1:
                        // Consistent lies: the group and the file agree on a hostile count.
                        let v = Self.hostile(m.rowGroups[g].numRows, fileSize: clean.count, &rng)
                        m.numRows = m.numRows &- m.rowGroups[g].numRows &+ v
                        m.rowGroups[g].numRows = v
                    case 2: meta.numValues = Self.hostile(meta.numValues, fileSize: clean.count, &rng)
                    case 3: meta.dataPageOffset = Self.hostile(meta.dataPageOffset, fileSize: clean.count, &rng)
                    case 4: meta.totalCompressedSize = Self.hostile(meta.totalCompressedSize, fileSize: clean.count, &rng)
                    case 5: meta.dictionaryPageOffset = Self.hostile(meta.dictionaryPageOffset ?? 4, fileSize: clean.count, &rng)
                    default: meta.totalUncompressedSize = Self.hostile(meta.totalUncompressedSize, fileSize: clean.count, &rng)
                    }
                    m.rowGroups[g].columns[k].metaData = meta
                }
                Self.check(Self.splice(clean, footer: footer, m), "codec \(codec) round \(round) (seed \(seed))")
            }
        }
    }

    @Test func pageHeaderSizingFields() throws {
        for (c, codec) in [ParquetCodec.snappy, .zstd, .uncompressed].enumerated() {
            let (clean, _, metadata) = try Self.cleanFile(codec)
            // Every page header's position: the first of each chunk (dictionary or data page).
            let starts = metadata.rowGroups.flatMap { $0.columns.compactMap { $0.metaData } }.map {
                Int(min($0.dictionaryPageOffset ?? $0.dataPageOffset, $0.dataPageOffset))
            }
            for round in 0..<Self.rounds {
                let seed = UInt64(c) << 32 | UInt64(round) | 1 << 62
                var rng = SplitMix64(seed: seed)
                let at = starts[Int(rng.next() % UInt64(starts.count))]
                var (header, length): (ParquetPageHeader, Int)
                do {
                    (header, length) = try clean.withTypedBytes { (b: UnsafeRawBufferPointer) throws(ThriftError) in
                        var reader = ThriftCompactReader(b, offset: at)
                        let h = try ParquetPageHeader.decode(&reader)
                        return (h, reader.position - at)
                    }
                } catch {
                    Issue.record("codec \(codec): clean page header at \(at) does not decode: \(error)")
                    return
                }
                func int32(_ v: Int32) -> Int32 {
                    Int32(truncatingIfNeeded: Self.hostile(Int64(v), fileSize: clean.count, &rng))
                }
                switch rng.next() % 5 {
                case 0: header.compressedPageSize = int32(header.compressedPageSize)
                case 1: header.uncompressedPageSize = int32(header.uncompressedPageSize)
                case 2:
                    let (data, dictionary) = (int32(header.dataPage?.numValues ?? 0), int32(header.dictionaryPage?.numValues ?? 0))
                    header.dataPage?.numValues = data
                    header.dictionaryPage?.numValues = dictionary
                case 3:
                    let (values, levels) = (int32(header.dataPageV2?.numValues ?? 0), int32(0))
                    header.dataPageV2?.numValues = values
                    header.dataPageV2?.definitionLevelsByteLength = levels
                default: header.dictionaryPage?.numValues = Int32.max
                         header.uncompressedPageSize = Int32.max
                }
                var w = ThriftCompactWriter()
                header.encode(into: &w)
                // Spliced in place of the old header (later offsets shift when the length changes: also hostile).
                let bytes = Array(clean[..<at]) + w.bytes + Array(clean[(at + length)...])
                Self.check(bytes, "codec \(codec) round \(round) (seed \(seed)) page at \(at)")
            }
        }
    }

    /// The audit's case: a footer claiming 2^40 rows is refused at open, before anything is reserved.
    @Test func hugeRowCountIsRefusedAtOpen() throws {
        let (clean, footer, metadata) = try Self.cleanFile(.zstd)
        var m = metadata
        m.numRows = m.numRows - m.rowGroups[0].numRows + (1 << 40)
        m.rowGroups[0].numRows = 1 << 40
        #expect {
            try ParquetReader(data: Data(Self.splice(clean, footer: footer, m)), path: "big.parquet")
        } throws: { error in
            "\(error)".contains("big.parquet") && "\(error)".contains("num_rows 10995116")
        }
    }
}
