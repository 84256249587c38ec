/// Snappy raw-format compression, written from the format description
/// (https://github.com/google/snappy/blob/main/format_description.txt): pyarrow's default Parquet codec.
///
/// The stream is a varint of the uncompressed length, then elements: literals (tag low bits 00) and back-references
/// with 1-, 2- or 4-byte offsets (01, 10, 11). Copies may overlap their own output (run-length style).
///
///     let packed = Snappy.compress(bytes)
///     let back = try Snappy.decompress(packed)   // == bytes
public enum Snappy {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable, Sendable {
        public var offset: Int
        public var reason: String
        public var description: String { "snappy: corrupt input at byte \(offset): \(reason)" }
    }

    /// The uncompressed length announced by the stream's preamble.
    public static func uncompressedLength(_ input: UnsafeRawBufferPointer) throws(Error) -> (length: Int, headerSize: Int) {
        var result = 0, shift = 0, i = 0
        while true {
            guard i < input.count else { throw Error(offset: i, reason: "truncated length preamble") }
            let b = input[i]
            i += 1
            result |= Int(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            guard shift <= 28 else { throw Error(offset: i, reason: "length preamble too long") }
        }
        return (result, i)
    }

    public static func decompress(_ input: [UInt8]) throws(Error) -> [UInt8] {
        try input.withTypedBytes { (b) throws(Error) in try decompress(b) }
    }

    /// Decompresses a whole raw snappy stream.
    public static func decompress(_ input: UnsafeRawBufferPointer) throws(Error) -> [UInt8] {
        let (length, start) = try uncompressedLength(input)
        // The preamble is untrusted and sizes the buffer: no snappy element expands more than 64 bytes from 3
        // (a 2-byte-offset copy), so a longer claim is corrupt, not an allocation to make.
        guard length <= (input.count - start) * 22 + 64 else {
            throw Error(offset: 0, reason: "preamble announces \(length) bytes from \(input.count - start): impossible ratio")
        }
        var failure: Error?
        let out = [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
            initialized = 0
            do throws(Error) { initialized = try decode(input, from: start, into: out) } catch { failure = error }
            if failure != nil { initialized = 0 }
        }
        if let failure { throw failure }
        guard out.count == length else {
            throw Error(offset: input.count, reason: "produced \(out.count) bytes, preamble says \(length)")
        }
        return out
    }

    private static func decode(_ src: UnsafeRawBufferPointer, from start: Int, into dst: UnsafeMutableBufferPointer<UInt8>)
        throws(Error) -> Int
    {
        var i = start, o = 0
        let n = src.count, cap = dst.count
        while i < n {
            let tag = src[i]
            i += 1
            switch tag & 3 {
            case 0:
                var len = Int(tag >> 2)
                if len >= 60 {
                    let extra = len - 59
                    guard i + extra <= n else { throw Error(offset: i, reason: "truncated literal length") }
                    len = 0
                    for k in 0..<extra { len |= Int(src[i + k]) << (8 * k) }
                    i += extra
                }
                len += 1
                guard i + len <= n, o + len <= cap else { throw Error(offset: i, reason: "literal of \(len) overruns") }
                (dst.baseAddress! + o).update(from: src.baseAddress!.assumingMemoryBound(to: UInt8.self) + i, count: len)
                i += len
                o += len
            default:
                var len: Int, offset: Int
                if tag & 3 == 1 {
                    guard i < n else { throw Error(offset: i, reason: "truncated copy") }
                    len = 4 + Int((tag >> 2) & 7)
                    offset = Int(tag >> 5) << 8 | Int(src[i])
                    i += 1
                } else if tag & 3 == 2 {
                    guard i + 2 <= n else { throw Error(offset: i, reason: "truncated copy") }
                    len = 1 + Int(tag >> 2)
                    offset = Int(src[i]) | Int(src[i + 1]) << 8
                    i += 2
                } else {
                    guard i + 4 <= n else { throw Error(offset: i, reason: "truncated copy") }
                    len = 1 + Int(tag >> 2)
                    offset = Int(src[i]) | Int(src[i + 1]) << 8 | Int(src[i + 2]) << 16 | Int(src[i + 3]) << 24
                    i += 4
                }
                guard offset > 0, offset <= o else { throw Error(offset: i, reason: "copy offset \(offset) outside output") }
                guard o + len <= cap else { throw Error(offset: i, reason: "copy of \(len) overruns output") }
                if offset >= len {
                    (dst.baseAddress! + o).update(from: dst.baseAddress! + o - offset, count: len)
                } else {
                    for k in 0..<len { dst[o + k] = dst[o - offset + k] }
                }
                o += len
            }
        }
        return o
    }

    /// Compresses with a greedy hash-table matcher (4-byte minimum matches, offsets < 64 KiB per block).
    /// Output is valid for any snappy decoder; ratios are close to the reference implementation on columnar data.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count + input.count / 6 + 32)
        var v = input.count
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        input.withUnsafeBufferPointer { src in
            let n = src.count
            var table = [Int32](repeating: -1, count: 1 << 14)
            var literalStart = 0
            var i = 0
            func load32(_ p: Int) -> UInt32 {
                UInt32(src[p]) | UInt32(src[p + 1]) << 8 | UInt32(src[p + 2]) << 16 | UInt32(src[p + 3]) << 24
            }
            func emitLiteral(_ from: Int, _ to: Int) {
                var start = from
                while start < to {
                    let len = min(to - start, 1 << 16)
                    let l = len - 1
                    if l < 60 {
                        out.append(UInt8(l << 2))
                    } else if l < 256 {
                        out.append(60 << 2); out.append(UInt8(l))
                    } else {
                        out.append(61 << 2); out.append(UInt8(l & 0xFF)); out.append(UInt8(l >> 8))
                    }
                    out.append(contentsOf: src[start..<(start + len)])
                    start += len
                }
            }
            func emitCopy(_ offset: Int, _ length: Int) {
                var len = length
                while len > 0 {
                    let chunk = len > 64 ? (len - 64 < 4 ? 60 : 64) : len
                    if chunk >= 4 && chunk <= 11 && offset < 2048 {
                        out.append(UInt8(1 | ((chunk - 4) << 2) | ((offset >> 8) << 5)))
                        out.append(UInt8(offset & 0xFF))
                    } else {
                        out.append(UInt8(2 | ((chunk - 1) << 2)))
                        out.append(UInt8(offset & 0xFF)); out.append(UInt8(offset >> 8))
                    }
                    len -= chunk
                }
            }
            while i + 4 <= n {
                let word = load32(i)
                let h = Int((word &* 0x1E35A7BD) >> 18)
                let candidate = Int(table[h])
                table[h] = Int32(truncatingIfNeeded: i)
                if candidate >= 0 && i - candidate < 65536 && load32(candidate) == word {
                    emitLiteral(literalStart, i)
                    var len = 4
                    while i + len < n && src[candidate + len] == src[i + len] { len += 1 }
                    emitCopy(i - candidate, len)
                    i += len
                    literalStart = i
                } else {
                    i += 1
                }
            }
            emitLiteral(literalStart, n)
        }
        return out
    }
}
