import Foundation
import Testing
@testable import MarketData

@Suite struct ThriftCompactTests {
    @Test func roundTripsFieldsListsAndNestedStructs() throws {
        var w = ThriftCompactWriter()
        w.structure { w in
            w.field(1, i32: -7)
            w.field(2, i64: 1 << 40)
            w.field(3, bool: true)
            w.field(4, bool: false)
            w.field(5, string: "héllo")
            w.field(20, i16: -300)   // delta > 15: long-form header
            w.field(21, double: -2.5)
            w.field(22) { w in
                w.field(1, i8: -5)
                w.field(40, i32: 123)
            }
            w.field(23, list: Array(0..<20), of: .i32) { w, v in w.element(i32: Int32(v) - 10) }   // long list header
            w.field(24, list: ["a", "bc"], of: .binary) { w, v in w.element(string: v) }
            w.field(25, list: [true, false, true], of: .boolTrue) { w, v in w.element(bool: v) }
            w.field(26, i32: 99)  // after the nested struct, deltas continue from 25
        }
        let bytes = w.bytes
        try bytes.withUnsafeBytes { b in
            var r = ThriftCompactReader(b)
            var seen: [Int16] = []
            try r.readStruct { (r, id, type) throws(ThriftError) in
                seen.append(id)
                switch id {
                case 1: #expect(try r.readI32() == -7)
                case 2: #expect(try r.readI64() == 1 << 40)
                case 3: #expect(try r.readBool() == true)
                case 4: #expect(try r.readBool() == false)
                case 5: #expect(try r.readString() == "héllo")
                case 20: #expect(try r.readI16() == -300)
                case 21: #expect(try r.readDouble() == -2.5)
                case 22:
                    try r.readStruct { (r, id, type) throws(ThriftError) in
                        if id == 1 { #expect(try r.readI8() == -5) } else if id == 40 { #expect(try r.readI32() == 123) }
                        else { try r.skip(type) }
                    }
                case 23:
                    let v = try r.readList { (r, _) throws(ThriftError) in try r.readI32() }
                    #expect(v == (0..<20).map { Int32($0) - 10 })
                case 24:
                    #expect(try r.readList { (r, _) throws(ThriftError) in try r.readString() } == ["a", "bc"])
                case 25:
                    #expect(try r.readList { (r, _) throws(ThriftError) in try r.readBool() } == [true, false, true])
                case 26: #expect(try r.readI32() == 99)
                default: try r.skip(type)
                }
            }
            #expect(seen == [1, 2, 3, 4, 5, 20, 21, 22, 23, 24, 25, 26])
            #expect(r.position == b.count)
        }
    }

    @Test func skipsUnknownFieldsOfEveryType() throws {
        var w = ThriftCompactWriter()
        w.structure { w in
            w.field(1, i32: 1)
            w.field(2, double: 1.0)
            w.field(3, bool: true)
            w.field(4) { w in w.field(1, list: ["x"], of: .binary) { w, v in w.element(string: v) } }
            w.field(5, list: [1, 2], of: .structure) { w, v in w.structure { w in w.field(1, i64: Int64(v)) } }
            w.field(6, i32: 42)
        }
        // A map field (type 11) spliced in by hand: id 7 {1: "a"} as i32 -> binary.
        var bytes = w.bytes
        bytes.removeLast()   // drop stop
        bytes += [0x1B, 0x01, 0x58, 0x02, 0x01, 0x61, 0x00]
        try bytes.withUnsafeBytes { b in
            var r = ThriftCompactReader(b)
            var value: Int32?
            try r.readStruct { (r, id, type) throws(ThriftError) in
                if id == 6 { value = try r.readI32() } else { try r.skip(type) }
            }
            #expect(value == 42)
            #expect(r.position == b.count)
        }
    }

    @Test func reportsTruncationWithOffset() {
        let bytes: [UInt8] = [0x15]   // field 1, i32, then nothing
        #expect(throws: ThriftError.self) {
            try bytes.withUnsafeBytes { b in
                var r = ThriftCompactReader(b)
                try r.readStruct { (r, _, type) throws(ThriftError) in try r.skip(type) }
            }
        }
    }

    /// A field of list-of-list-of-... (each level one header byte) is refused at a bounded depth instead of
    /// recursing until the stack runs out.
    @Test func deeplyNestedListsAreAnError() {
        // field 1: list, header 0x19 = one element of type list, repeated 100 000 times
        let bytes: [UInt8] = [0x19] + [UInt8](repeating: 0x19, count: 100_000)
        #expect(throws: ThriftError.self) {
            try bytes.withUnsafeBytes { b in
                var r = ThriftCompactReader(b)
                try r.readStruct { (r, _, type) throws(ThriftError) in try r.skip(type) }
            }
        }
    }

    @Test func roundTripsParquetFooter() throws {
        let meta = ParquetFileMetaData(
            version: 2,
            schema: [ParquetSchemaElement(name: "schema", numChildren: 2),
                     ParquetSchemaElement(name: "t", type: .int64, repetition: .required, convertedType: 9,
                                          logicalType: .timestamp(unit: .milliseconds, utc: true)),
                     ParquetSchemaElement(name: "s", type: .byteArray, repetition: .optional, convertedType: 0,
                                          logicalType: .string)],
            numRows: 3,
            rowGroups: [ParquetRowGroup(columns: [
                ParquetColumnChunk(filePath: nil, fileOffset: 4, metaData: ParquetColumnMetaData(
                    type: .int64, encodings: [.plain], pathInSchema: ["t"], codec: .zstd, numValues: 3,
                    totalUncompressedSize: 40, totalCompressedSize: 30, dataPageOffset: 4, dictionaryPageOffset: nil,
                    statistics: ParquetStatistics(min: [1, 0, 0, 0, 0, 0, 0, 0], max: [3, 0, 0, 0, 0, 0, 0, 0], nullCount: 0))),
                ParquetColumnChunk(filePath: nil, fileOffset: 34, metaData: ParquetColumnMetaData(
                    type: .byteArray, encodings: [.plain, .rle, .rleDictionary], pathInSchema: ["s"], codec: .snappy,
                    numValues: 3, totalUncompressedSize: 20, totalCompressedSize: 20, dataPageOffset: 50,
                    dictionaryPageOffset: 34, statistics: ParquetStatistics(min: Array("a".utf8), max: Array("b".utf8),
                                                                           nullCount: 1))),
            ], totalByteSize: 60, numRows: 3, fileOffset: 4, totalCompressedSize: 50, ordinal: 0)],
            keyValueMetadata: [("k", "v"), ("empty", nil)], createdBy: "test", typeDefinedColumnOrders: 2)
        var w = ThriftCompactWriter()
        meta.encode(into: &w)
        let back = try ParquetFileMetaData.decode(from: w.bytes)
        #expect(back == meta)
    }
}

@Suite struct RLEHybridTests {
    @Test func roundTripsMixedRunsAtEveryWidth() throws {
        for width in [1, 2, 3, 7, 8, 12, 17, 31] {
            let maxValue = UInt32((UInt64(1) << UInt64(width)) - 1)
            var values: [UInt32] = []
            for i in 0..<1000 {
                switch (i / 100) % 3 {
                case 0: values.append(UInt32(i * 7919) % (maxValue + 1))
                case 1: values.append(maxValue)
                default: values.append(UInt32(i / 13) % (maxValue + 1))
                }
            }
            let encoded = RLEHybrid.encode(values, bitWidth: width)
            #expect(try RLEHybrid.decode(encoded, bitWidth: width, count: values.count) == values, "width \(width)")
        }
    }

    @Test func decodesSpecExample() throws {
        // parquet-format Encodings.md: values 0..7 bit-packed at width 3 = header 0x03, bytes 0x88 0xC6 0xFA.
        #expect(try RLEHybrid.decode([0x03, 0x88, 0xC6, 0xFA], bitWidth: 3, count: 8) == [0, 1, 2, 3, 4, 5, 6, 7])
        // RLE run of 5 copies of 9 at width 4: header 5 << 1 = 0x0A, value byte 0x09.
        #expect(try RLEHybrid.decode([0x0A, 0x09], bitWidth: 4, count: 5) == [9, 9, 9, 9, 9])
        #expect(throws: RLEHybrid.Error.self) { try RLEHybrid.decode([0x0A], bitWidth: 4, count: 5) }
    }
}

@Suite struct SnappyTests {
    @Test func roundTripsRepetitiveAndRandomData() throws {
        var rng = SystemRandomNumberGenerator()
        let random = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let repetitive = (0..<200_000).map { UInt8(($0 / 3) % 7) }
        let doubles = (0..<5000).map { 1.07 + Double($0 % 97) * 1e-5 }.withUnsafeBytes { Array($0) }
        for input in [[], [42], random, repetitive, doubles, Array("abcabcabcabcabcabcabcabc".utf8)] {
            let packed = Snappy.compress(input)
            #expect(try Snappy.decompress(packed) == input)
        }
        #expect(Snappy.compress(repetitive).count < repetitive.count / 10)
    }

    @Test func decodesHandWrittenStreamWithOverlappingCopy() throws {
        // length 9; literal "ab"; copy len 7 offset 2 (1-byte offset form: tag 0b001_011_01? len-4=3 -> (3<<2)|1).
        let stream: [UInt8] = [9, 0x04, 0x61, 0x62, (3 << 2) | 1, 2]
        #expect(String(decoding: try Snappy.decompress(stream), as: UTF8.self) == "ababababa")
        #expect(throws: Snappy.Error.self) { try Snappy.decompress([9, 0x04, 0x61, 0x62, (3 << 2) | 1, 5]) }
    }
}
