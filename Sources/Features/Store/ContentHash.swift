import MarketData

/// SHA-256 content digests for cache keys (the feature store keys every stored frame by the digest of its source
/// bars, its feature configuration and the feature code version).
///
///     ContentHash.hex(of: Array("abc".utf8))
///     // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
public enum ContentHash {
    public static func hex(of bytes: [UInt8]) -> String { SHA256.hex(bytes) }

    /// The digest of a bar series' contents (timestamps and OHLCV, raw little-endian bytes, column by column).
    public static func hex(of bars: BarSeries) -> String {
        var h = SHA256()
        bars.timestamps.withUnsafeBufferPointer { h.update(UnsafeRawBufferPointer($0)) }
        for column in [bars.open, bars.high, bars.low, bars.close, bars.volume] {
            column.withUnsafeBufferPointer { h.update(UnsafeRawBufferPointer($0)) }
        }
        return h.hexDigest()
    }
}

/// The version of the feature computation code, part of every feature-store cache key. Bump it whenever an
/// indicator's numbers change, so stored features computed by older code are recomputed.
public enum FeatureCodeVersion {
    public static let current = 1
}
