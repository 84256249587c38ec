/// The non-null values of one column chunk in a form the writer can page, dictionary-encode and summarise,
/// whatever their physical type.
protocol ChunkValues {
    var count: Int { get }
    /// PLAIN bytes of values `range`.
    func plain(_ range: Range<Int>) -> [UInt8]
    /// Dictionary (PLAIN bytes of the distinct values, their count) and one index per value, or nil when the
    /// column is not worth a dictionary (`maxEntries` exceeded, or no saving).
    func dictionary(maxEntries: Int, maxBytes: Int) -> (plain: [UInt8], entries: Int, indices: [UInt32])?
    /// PLAIN bytes of the minimum and maximum (NaN excluded), or nil when there is none.
    func minMax() -> (min: [UInt8], max: [UInt8])?
    var plainBytesPerValue: Int { get }
}

/// Numeric values whose PLAIN form is their little-endian memory image.
protocol ParquetFixedWidthValue: BitwiseCopyable, Comparable {
    /// A key identifying the stored bit pattern (so 0.0 and -0.0, or distinct NaNs, stay distinct).
    var dictionaryKey: UInt64 { get }
    var isNaNValue: Bool { get }
}

extension Int32: ParquetFixedWidthValue {
    var dictionaryKey: UInt64 { UInt64(UInt32(bitPattern: self)) }
    var isNaNValue: Bool { false }
}
extension Int64: ParquetFixedWidthValue {
    var dictionaryKey: UInt64 { UInt64(bitPattern: self) }
    var isNaNValue: Bool { false }
}
extension Float: ParquetFixedWidthValue {
    var dictionaryKey: UInt64 { UInt64(bitPattern) }
    var isNaNValue: Bool { isNaN }
}
extension Double: ParquetFixedWidthValue {
    var dictionaryKey: UInt64 { bitPattern }
    var isNaNValue: Bool { isNaN }
}

/// Decides early whether a dictionary pays: a sample of the first values must be at least half repeats.
private func dictionaryLooksWorthIt(distinctInSample: Int, sampleSize: Int) -> Bool {
    distinctInSample * 2 <= sampleSize
}

struct FixedChunkValues<T: ParquetFixedWidthValue>: ChunkValues {
    let values: [T]
    var count: Int { values.count }
    var plainBytesPerValue: Int { MemoryLayout<T>.stride }

    /// Specialised: called through `any ChunkValues`, which would otherwise run the unspecialised generic body.
    @_specialize(where T == Double)
    @_specialize(where T == Int64)
    @_specialize(where T == Int32)
    @_specialize(where T == Float)
    func plain(_ range: Range<Int>) -> [UInt8] {
        values.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: $0[range]))) }
    }

    /// Specialised: called through `any ChunkValues`, which would otherwise run the unspecialised generic body.
    @_specialize(where T == Double)
    @_specialize(where T == Int64)
    @_specialize(where T == Int32)
    @_specialize(where T == Float)
    func dictionary(maxEntries: Int, maxBytes: Int) -> (plain: [UInt8], entries: Int, indices: [UInt32])? {
        guard !values.isEmpty else { return nil }
        var index: [UInt64: UInt32] = [:]
        var distinct: [T] = []
        var indices = [UInt32](repeating: 0, count: values.count)
        let sample = min(values.count, 4096)
        let limit = min(maxEntries, maxBytes / MemoryLayout<T>.stride)
        for (i, v) in values.enumerated() {
            let key = v.dictionaryKey
            if let k = index[key] {
                indices[i] = k
            } else {
                guard distinct.count < limit else { return nil }
                let k = UInt32(distinct.count)
                index[key] = k
                distinct.append(v)
                indices[i] = k
            }
            if i + 1 == sample && !dictionaryLooksWorthIt(distinctInSample: distinct.count, sampleSize: sample) {
                return nil
            }
        }
        let width = RLEHybrid.bitWidth(forMax: distinct.count - 1)
        let dictBytes = distinct.count * MemoryLayout<T>.stride + (values.count * width + 7) / 8
        guard dictBytes * 4 < values.count * MemoryLayout<T>.stride * 3 else { return nil }
        return (PlainEncoding.encode(distinct), distinct.count, indices)
    }

    /// Specialised: called through `any ChunkValues`, which would otherwise run the unspecialised generic body.
    @_specialize(where T == Double)
    @_specialize(where T == Int64)
    @_specialize(where T == Int32)
    @_specialize(where T == Float)
    func minMax() -> (min: [UInt8], max: [UInt8])? {
        var lo: T?, hi: T?
        for v in values where !v.isNaNValue {
            if let l = lo, let h = hi {
                if v < l { lo = v }
                if v > h { hi = v }
            } else {
                lo = v
                hi = v
            }
        }
        guard let lo, let hi else { return nil }
        return (PlainEncoding.encode([lo]), PlainEncoding.encode([hi]))
    }
}

struct BooleanChunkValues: ChunkValues {
    let values: [Bool]
    var count: Int { values.count }
    var plainBytesPerValue: Int { 1 }
    func plain(_ range: Range<Int>) -> [UInt8] { PlainEncoding.encode(booleans: Array(values[range])) }
    func dictionary(maxEntries: Int, maxBytes: Int) -> (plain: [UInt8], entries: Int, indices: [UInt32])? { nil }
    func minMax() -> (min: [UInt8], max: [UInt8])? {
        guard !values.isEmpty else { return nil }
        let hasFalse = values.contains(false), hasTrue = values.contains(true)
        return ([hasFalse ? 0 : 1], [hasTrue ? 1 : 0])
    }
}

struct ByteArrayChunkValues: ChunkValues {
    let values: [[UInt8]]
    var count: Int { values.count }
    var plainBytesPerValue: Int {
        values.isEmpty ? 4 : 4 + values.prefix(1024).reduce(0) { $0 + $1.count } / min(values.count, 1024)
    }

    func plain(_ range: Range<Int>) -> [UInt8] { PlainEncoding.encode(byteArrays: Array(values[range])) }

    func dictionary(maxEntries: Int, maxBytes: Int) -> (plain: [UInt8], entries: Int, indices: [UInt32])? {
        guard !values.isEmpty else { return nil }
        var index: [[UInt8]: UInt32] = [:]
        var distinct: [[UInt8]] = []
        var bytes = 0
        var indices = [UInt32](repeating: 0, count: values.count)
        let sample = min(values.count, 4096)
        for (i, v) in values.enumerated() {
            if let k = index[v] {
                indices[i] = k
            } else {
                bytes += v.count + 4
                guard distinct.count < maxEntries, bytes <= maxBytes else { return nil }
                let k = UInt32(distinct.count)
                index[v] = k
                distinct.append(v)
                indices[i] = k
            }
            if i + 1 == sample && !dictionaryLooksWorthIt(distinctInSample: distinct.count, sampleSize: sample) {
                return nil
            }
        }
        return (PlainEncoding.encode(byteArrays: distinct), distinct.count, indices)
    }

    /// Byte arrays compare as unsigned lexicographic bytes (UTF-8 order for strings); statistics longer than
    /// 1 KiB are left out rather than truncated.
    func minMax() -> (min: [UInt8], max: [UInt8])? {
        guard var lo = values.first, var hi = values.first else { return nil }
        for v in values.dropFirst() {
            if v.lexicographicallyPrecedes(lo) { lo = v }
            if hi.lexicographicallyPrecedes(v) { hi = v }
        }
        guard lo.count <= 1024, hi.count <= 1024 else { return nil }
        return (lo, hi)
    }
}

extension ParquetColumn {
    /// Definition levels (1 = present) of rows `range`, and the non-null values in them, ready for encoding.
    func chunk(rows range: Range<Int>) -> (levels: [UInt32]?, values: any ChunkValues) {
        let mask = validity.map { Array($0[range]) }
        func keep<T>(_ all: [T]) -> [T] {
            guard let mask else { return Array(all[range]) }
            var out: [T] = []
            out.reserveCapacity(range.count)
            for (k, i) in range.enumerated() where mask[k] { out.append(all[i]) }
            return out
        }
        let levels: [UInt32]? = nullable ? (mask.map { $0.map { $0 ? 1 : 0 } } ?? Array(repeating: 1, count: range.count)) : nil
        let values: any ChunkValues
        switch self.values {
        case .boolean(let v): values = BooleanChunkValues(values: keep(v))
        case .int32(let v): values = FixedChunkValues(values: keep(v))
        case .int64(let v): values = FixedChunkValues(values: keep(v))
        case .float(let v): values = FixedChunkValues(values: keep(v))
        case .double(let v): values = FixedChunkValues(values: keep(v))
        case .string(let v): values = ByteArrayChunkValues(values: keep(v).map { Array($0.utf8) })
        case .bytes(let v): values = ByteArrayChunkValues(values: keep(v))
        }
        return (levels, values)
    }
}
