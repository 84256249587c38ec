/// One tensor of a safetensors file: dtype, shape and its raw little-endian bytes, kept exactly as stored so
/// a file round-trips bit for bit. The engine reads it as `[Float]` through `floats()`.
///
///     let w = SafetensorsTensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
///     try w.floats()          // [1, 2, 3, 4, 5, 6]
///     w.shape                 // [2, 3]
public struct SafetensorsTensor: Equatable, Sendable {
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Raw little-endian element bytes, `elementCount * dtype.size` of them.
    public let data: [UInt8]

    /// Number of elements (the product of `shape`; 1 for a scalar of shape `[]`).
    public var elementCount: Int { shape.reduce(1, *) }

    /// A tensor from raw little-endian bytes; checks that their length matches shape and dtype.
    public init(dtype: SafetensorsDType, shape: [Int], data: [UInt8], name: String = "") throws(SafetensorsError) {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .shapeMismatch(tensor: name, message: "negative dimension in shape \(shape)")
        }
        let (count, overflow) = Self.product(shape)
        guard !overflow, count.multipliedReportingOverflow(by: dtype.size).partialValue == data.count,
              !count.multipliedReportingOverflow(by: dtype.size).overflow else {
            throw .shapeMismatch(tensor: name, message: "shape \(shape) of \(dtype.rawValue) needs "
                + "\(count) x \(dtype.size) bytes, got \(data.count)")
        }
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// An F32 tensor. `floats.count` must equal the product of `shape` (checked with a precondition: a
    /// mismatch is a programming error, not bad input).
    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) floats")
        self.dtype = .f32
        self.shape = shape
        var bytes = [UInt8](repeating: 0, count: floats.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (i, v) in floats.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        self.data = bytes
    }

    /// An I64 tensor (token ids, counts, steps).
    public init(shape: [Int], int64s: [Int64]) {
        precondition(shape.reduce(1, *) == int64s.count, "shape \(shape) does not hold \(int64s.count) integers")
        self.dtype = .i64
        self.shape = shape
        var bytes = [UInt8](repeating: 0, count: int64s.count * 8)
        bytes.withUnsafeMutableBytes { raw in
            for (i, v) in int64s.enumerated() { raw.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: Int64.self) }
        }
        self.data = bytes
    }

    /// The elements as `Float`, converting F64 (rounded to nearest), F16, BF16 (exact) and integer types.
    /// Throws for BOOL only.
    public func floats(source: String = "<memory>", name: String = "") throws(SafetensorsError) -> [Float] {
        if dtype == .bool { throw .unsupportedDType(source: source, tensor: name, dtype: dtype.rawValue) }
        let n = elementCount
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Float] in
            switch dtype {
            case .f32:
                return (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .f64:
                return (0..<n).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
            case .f16:
                return (0..<n).map { Self.halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
            case .bf16:
                return (0..<n).map { Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16) }
            case .i64:
                return (0..<n).map { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
            case .u64:
                return (0..<n).map { Float(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
            case .i32:
                return (0..<n).map { Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .u32:
                return (0..<n).map { Float(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .i16:
                return (0..<n).map { Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))) }
            case .u16:
                return (0..<n).map { Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
            case .i8: return (0..<n).map { Float(Int8(bitPattern: raw[$0])) }
            case .u8: return (0..<n).map { Float(raw[$0]) }
            case .bool: return []
            }
        }
    }

    /// The elements as `Int64` for integer dtypes (I64, I32, U32, I16, U16, I8, U8, BOOL); throws for floats and U64.
    public func int64s(source: String = "<memory>", name: String = "") throws(SafetensorsError) -> [Int64] {
        if [.f16, .bf16, .f32, .f64, .u64].contains(dtype) {
            throw .unsupportedDType(source: source, tensor: name, dtype: dtype.rawValue + " (as integers)")
        }
        let n = elementCount
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Int64] in
            switch dtype {
            case .i64: return (0..<n).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            case .i32: return (0..<n).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .u32: return (0..<n).map { Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .i16: return (0..<n).map { Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))) }
            case .u16: return (0..<n).map { Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
            case .i8: return (0..<n).map { Int64(Int8(bitPattern: raw[$0])) }
            case .u8, .bool: return (0..<n).map { Int64(raw[$0]) }
            default: return []
            }
        }
    }

    /// IEEE 754 binary16 to binary32, exact for every value (subnormals, infinities, NaN payloads).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
    }

    static func product(_ shape: [Int]) -> (Int, Bool) {
        var total = 1
        for d in shape {
            let (p, o) = total.multipliedReportingOverflow(by: d)
            if o { return (0, true) }
            total = p
        }
        return (total, false)
    }
}
