/// Parquet's RLE / bit-packing hybrid encoding, used for definition levels and dictionary indices.
///
/// A stream is a sequence of runs, each introduced by a ULEB128 header: `(count << 1) | 0` is an RLE run of `count`
/// copies of one value stored in ceil(bitWidth/8) little-endian bytes; `(groups << 1) | 1` is `groups * 8` values
/// bit-packed LSB first, `bitWidth` bytes per group of 8.
///
///     let bytes = RLEHybrid.encode([0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3], bitWidth: 2)
///     let back = try RLEHybrid.decode(bytes, bitWidth: 2, count: 11)   // the same 11 values
public enum RLEHybrid {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable, Sendable {
        public var reason: String
        public var description: String { "RLE/bit-packed hybrid: \(reason)" }
    }

    /// Bits needed for values up to `maxValue` (0 for 0).
    public static func bitWidth(forMax maxValue: Int) -> Int {
        maxValue <= 0 ? 0 : Int.bitWidth - maxValue.leadingZeroBitCount
    }

    // MARK: encoding

    /// Encodes `values` (each < 2^bitWidth): runs of >= 8 equal values become RLE runs, the rest bit-packed groups.
    public static func encode(_ values: [UInt32], bitWidth: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * bitWidth / 8 + 16)
        var literals: [UInt32] = []
        let n = values.count
        var i = 0

        func header(_ v: Int) {
            var x = v
            while x >= 0x80 { out.append(UInt8(x & 0x7F) | 0x80); x >>= 7 }
            out.append(UInt8(x))
        }
        func flushLiterals() {
            guard !literals.isEmpty else { return }
            while literals.count % 8 != 0 { literals.append(0) }
            header((literals.count / 8) << 1 | 1)
            var buffer: UInt64 = 0, bits = 0
            for v in literals {
                buffer |= UInt64(v) << UInt64(bits)
                bits += bitWidth
                while bits >= 8 {
                    out.append(UInt8(truncatingIfNeeded: buffer))
                    buffer >>= 8
                    bits -= 8
                }
            }
            if bits > 0 { out.append(UInt8(truncatingIfNeeded: buffer)) }
            literals.removeAll(keepingCapacity: true)
        }
        let valueBytes = (bitWidth + 7) / 8
        while i < n {
            let v = values[i]
            var run = 1
            while i + run < n && values[i + run] == v { run += 1 }
            // Pad the pending literals to a multiple of 8 with this run's first values, then RLE the rest.
            let pad = (8 - literals.count % 8) % 8
            if run >= 8 + pad {
                for _ in 0..<pad { literals.append(v) }
                flushLiterals()
                header((run - pad) << 1)
                for k in 0..<valueBytes { out.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * k))) }
            } else {
                for _ in 0..<run { literals.append(v) }
            }
            i += run
        }
        flushLiterals()
        return out
    }

    // MARK: decoding

    public static func decode(_ bytes: [UInt8], bitWidth: Int, count: Int) throws(Error) -> [UInt32] {
        try bytes.withTypedBytes { (buffer) throws(Error) in
            var position = 0
            return try decode(buffer, position: &position, bitWidth: bitWidth, count: count)
        }
    }

    /// Decodes `count` values starting at `position` (advanced past the runs consumed). A final bit-packed run may
    /// hold padding beyond `count`; it is ignored.
    public static func decode(_ bytes: UnsafeRawBufferPointer, position: inout Int, bitWidth: Int, count: Int)
        throws(Error) -> [UInt32]
    {
        guard bitWidth >= 0 && bitWidth <= 32 else { throw Error(reason: "bit width \(bitWidth) out of range") }
        guard count >= 0, position >= 0, position <= bytes.count else {
            throw Error(reason: "bad value count \(count) or start \(position)")
        }
        var failure: Error?
        var p = position
        let out = [UInt32](unsafeUninitializedCapacity: count) { out, initialized in
            var o = 0
            let n = bytes.count
            func fail(_ reason: String) { failure = Error(reason: reason + " (at byte \(p))") }
            if bitWidth == 0 {
                for k in 0..<count { out[k] = 0 }
                initialized = count
                return
            }
            let valueBytes = (bitWidth + 7) / 8
            let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
            while o < count {
                var h = 0, shift = 0
                while true {
                    guard p < n else { fail("truncated run header"); initialized = o; return }
                    let b = bytes[p]
                    p += 1
                    h |= Int(b & 0x7F) << shift
                    if b & 0x80 == 0 { break }
                    shift += 7
                    guard shift < 35 else { fail("run header too long"); initialized = o; return }
                }
                if h & 1 == 0 {
                    let run = h >> 1
                    guard p + valueBytes <= n else { fail("truncated RLE value"); initialized = o; return }
                    var v: UInt32 = 0
                    for k in 0..<valueBytes { v |= UInt32(bytes[p + k]) << UInt32(8 * k) }
                    p += valueBytes
                    let take = min(run, count - o)
                    for k in 0..<take { out[o + k] = v }
                    o += take
                } else {
                    let groups = h >> 1
                    let byteCount = groups * bitWidth
                    // A writer may end the last run early when the data ends; read what is there.
                    let available = min(byteCount, n - p)
                    var buffer: UInt64 = 0, bits = 0, q = p
                    let values = min(groups * 8, count - o)
                    let end = p + available
                    for k in 0..<values {
                        while bits < bitWidth {
                            guard q < end else {
                                fail("bit-packed run truncated")
                                initialized = o + k
                                return
                            }
                            buffer |= UInt64(bytes[q]) << UInt64(bits)
                            q += 1
                            bits += 8
                        }
                        out[o + k] = UInt32(truncatingIfNeeded: buffer & mask)
                        buffer >>= UInt64(bitWidth)
                        bits -= bitWidth
                    }
                    o += values
                    p += available
                }
            }
            initialized = o
        }
        if let failure { throw failure }
        position = p
        return out
    }
}
