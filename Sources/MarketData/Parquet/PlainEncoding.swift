/// PLAIN encoding of Parquet values (the format of data pages, dictionary pages and statistics):
/// fixed-width numbers little-endian back to back, booleans bit-packed LSB first, byte arrays as a 4-byte
/// little-endian length followed by the bytes.
enum PlainEncoding {
    static func append<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeRawBufferPointer(values))
    }

    static func encode<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static func encode(booleans values: [Bool]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (values.count + 7) / 8)
        for (i, v) in values.enumerated() where v { out[i >> 3] |= 1 << UInt8(i & 7) }
        return out
    }

    static func encode(byteArrays values: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.reduce(0) { $0 + $1.count + 4 })
        for v in values {
            let n = UInt32(v.count)
            out.append(UInt8(n & 0xFF)); out.append(UInt8((n >> 8) & 0xFF))
            out.append(UInt8((n >> 16) & 0xFF)); out.append(UInt8(n >> 24))
            out.append(contentsOf: v)
        }
        return out
    }

    /// Decodes `count` fixed-width values starting at `offset`; throws (as a reason) when the page is short.
    static func decode<T: BitwiseCopyable>(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int, as: T.Type)
        throws(ParquetError) -> [T]
    {
        let width = MemoryLayout<T>.stride
        guard count >= 0, offset >= 0, count <= (bytes.count - offset) / width else {
            throw ParquetError(reason: "PLAIN page holds \(bytes.count - offset) bytes, \(count) values of \(width) need \(count * width)")
        }
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            UnsafeMutableRawBufferPointer(out).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count * width)]))
            initialized = count
        }
    }

    static func decode(booleans bytes: UnsafeRawBufferPointer, offset: Int, count: Int) throws(ParquetError) -> [Bool] {
        guard count >= 0, offset >= 0, offset + (count + 7) / 8 <= bytes.count else {
            throw ParquetError(reason: "PLAIN boolean page too short for \(count) values")
        }
        return (0..<count).map { i in bytes[offset + (i >> 3)] >> UInt8(i & 7) & 1 == 1 }
    }

    static func decode(byteArrays bytes: UnsafeRawBufferPointer, offset: Int, count: Int) throws(ParquetError) -> [[UInt8]] {
        guard count >= 0, offset >= 0, count <= (bytes.count - offset) / 4 else {
            throw ParquetError(reason: "PLAIN byte array page too short for \(count) values")
        }
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        var p = offset
        for i in 0..<count {
            guard p + 4 <= bytes.count else { throw ParquetError(reason: "PLAIN byte array \(i): length past end of page") }
            let n = Int(bytes[p]) | Int(bytes[p + 1]) << 8 | Int(bytes[p + 2]) << 16 | Int(bytes[p + 3]) << 24
            p += 4
            guard n >= 0, p + n <= bytes.count else {
                throw ParquetError(reason: "PLAIN byte array \(i): \(n) bytes past end of page")
            }
            out.append(Array(bytes[p..<(p + n)]))
            p += n
        }
        return out
    }
}
