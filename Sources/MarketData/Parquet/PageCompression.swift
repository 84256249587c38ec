import CZstd

/// Page compression for Parquet: ZSTD through the system libzstd, SNAPPY in Swift (`Snappy`), or none.
///
///     let packed = try PageCompression.compress(bytes, codec: .zstd, zstdLevel: 3)
///     let back = try PageCompression.decompress(packed, codec: .zstd, uncompressedSize: bytes.count)
public enum PageCompression {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable, Sendable {
        public var reason: String
        public var description: String { reason }
    }

    /// The linked libzstd's version, e.g. "1.5.4".
    public static var zstdVersion: String { String(cString: ZSTD_versionString()) }

    /// Codecs this implementation can read and write.
    public static func isSupported(_ codec: ParquetCodec) -> Bool {
        codec == .uncompressed || codec == .snappy || codec == .zstd
    }

    public static func compress(_ input: [UInt8], codec: ParquetCodec, zstdLevel: Int32 = 1) throws(Error) -> [UInt8] {
        switch codec {
        case .uncompressed:
            return input
        case .snappy:
            return Snappy.compress(input)
        case .zstd:
            let bound = ZSTD_compressBound(input.count)
            var failure: String?
            let out = [UInt8](unsafeUninitializedCapacity: bound) { out, initialized in
                let n = input.withUnsafeBytes { src in
                    ZSTD_compress(out.baseAddress, bound, src.baseAddress, src.count, zstdLevel)
                }
                if ZSTD_isError(n) != 0 {
                    failure = String(cString: ZSTD_getErrorName(n))
                    initialized = 0
                } else {
                    initialized = n
                }
            }
            if let failure { throw Error(reason: "zstd compression failed: \(failure)") }
            return out
        default:
            throw Error(reason: "writing codec \(codec) is not supported (use zstd, snappy or uncompressed)")
        }
    }

    /// Decompresses one page body whose uncompressed size the page header gives.
    public static func decompress(_ input: UnsafeRawBufferPointer, codec: ParquetCodec, uncompressedSize: Int)
        throws(Error) -> [UInt8]
    {
        switch codec {
        case .uncompressed:
            guard input.count == uncompressedSize else {
                throw Error(reason: "uncompressed page has \(input.count) bytes, header says \(uncompressedSize)")
            }
            return Array(input)
        case .snappy:
            let out: [UInt8]
            do throws(Snappy.Error) {
                let announced = try Snappy.uncompressedLength(input).length
                guard announced == uncompressedSize else {
                    throw Snappy.Error(offset: 0, reason: "stream announces \(announced) bytes, page header says \(uncompressedSize)")
                }
                out = try Snappy.decompress(input)
            } catch { throw Error(reason: error.description) }
            guard out.count == uncompressedSize else {
                throw Error(reason: "snappy page decompressed to \(out.count) bytes, header says \(uncompressedSize)")
            }
            return out
        case .zstd:
            // The page header's size is untrusted and sizes the buffer: zstd cannot expand more than about
            // 32768:1 (a 4-byte RLE block per 128 KiB), so a larger claim is corrupt, not an allocation to make.
            guard uncompressedSize >= 0,
                  uncompressedSize <= max(1 << 16, input.count.multipliedReportingOverflow(by: 32_768).partialValue) else {
                throw Error(reason: "zstd page claims \(uncompressedSize) bytes from \(input.count): impossible ratio")
            }
            var failure: String?
            let out = [UInt8](unsafeUninitializedCapacity: uncompressedSize) { out, initialized in
                let n = ZSTD_decompress(out.baseAddress, uncompressedSize, input.baseAddress, input.count)
                if ZSTD_isError(n) != 0 {
                    failure = String(cString: ZSTD_getErrorName(n))
                    initialized = 0
                } else {
                    initialized = n
                }
            }
            if let failure { throw Error(reason: "zstd decompression failed: \(failure)") }
            guard out.count == uncompressedSize else {
                throw Error(reason: "zstd page decompressed to \(out.count) bytes, header says \(uncompressedSize)")
            }
            return out
        default:
            throw Error(reason: "codec \(codec) is not supported by this reader (supported: zstd, snappy, uncompressed)")
        }
    }
}
