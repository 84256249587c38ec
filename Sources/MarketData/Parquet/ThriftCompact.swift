/// Thrift's compact protocol (the encoding of every Parquet footer and page header), written from the
/// specification: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
///
/// Only what Parquet needs is modelled as API (structs, lists, i8/i16/i32/i64, double, binary, bool), but the
/// reader can skip every compact type (including sets and maps), so files from newer writers with fields this code
/// does not know still decode.
///
///     var w = ThriftCompactWriter()
///     w.field(1, i32: 7)
///     w.field(4, binary: Array("name".utf8))
///     w.stop()
///     var r = ThriftCompactReader(w.bytes)
///     while let (id, type) = try r.nextField() { ... r.readI32() ... or try r.skip(type) }
public enum ThriftType: UInt8, Sendable {
    case stop = 0
    case boolTrue = 1
    case boolFalse = 2
    case byte = 3
    case i16 = 4
    case i32 = 5
    case i64 = 6
    case double = 7
    case binary = 8
    case list = 9
    case set = 10
    case map = 11
    case structure = 12
}

/// Builds compact-protocol bytes. Field ids are written as deltas from the previous field of the same struct when
/// the delta fits in 1...15, as the specification prescribes; `beginStruct`/`endStruct` keep the per-struct state.
public struct ThriftCompactWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var lastFieldId: Int16 = 0
    private var fieldIdStack: [Int16] = []

    public init() {}

    // MARK: primitives

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func zigzag(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    private mutating func fieldHeader(_ id: Int16, _ type: ThriftType) {
        let delta = Int(id) - Int(lastFieldId)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            zigzag(Int64(id))
        }
        lastFieldId = id
    }

    // MARK: fields

    public mutating func field(_ id: Int16, bool value: Bool) {
        fieldHeader(id, value ? .boolTrue : .boolFalse)
    }

    public mutating func field(_ id: Int16, i8 value: Int8) {
        fieldHeader(id, .byte)
        bytes.append(UInt8(bitPattern: value))
    }

    public mutating func field(_ id: Int16, i16 value: Int16) {
        fieldHeader(id, .i16)
        zigzag(Int64(value))
    }

    public mutating func field(_ id: Int16, i32 value: Int32) {
        fieldHeader(id, .i32)
        zigzag(Int64(value))
    }

    public mutating func field(_ id: Int16, i64 value: Int64) {
        fieldHeader(id, .i64)
        zigzag(value)
    }

    public mutating func field(_ id: Int16, double value: Double) {
        fieldHeader(id, .double)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func field(_ id: Int16, binary value: [UInt8]) {
        fieldHeader(id, .binary)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func field(_ id: Int16, string value: String) {
        field(id, binary: Array(value.utf8))
    }

    /// A nested struct field: `body` writes the struct's fields; the stop byte is added.
    public mutating func field(_ id: Int16, struct body: (inout ThriftCompactWriter) -> Void) {
        fieldHeader(id, .structure)
        structure(body)
    }

    /// A list field whose elements are written by `element` (one call per item).
    public mutating func field<T>(_ id: Int16, list items: [T], of type: ThriftType,
                                  element: (inout ThriftCompactWriter, T) -> Void) {
        fieldHeader(id, .list)
        listHeader(count: items.count, type: type)
        for item in items { element(&self, item) }
    }

    public mutating func listHeader(count: Int, type: ThriftType) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            varint(UInt64(count))
        }
    }

    // MARK: list elements (no field header)

    public mutating func element(i32 value: Int32) { zigzag(Int64(value)) }
    public mutating func element(i64 value: Int64) { zigzag(value) }
    public mutating func element(binary value: [UInt8]) {
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
    public mutating func element(string value: String) { element(binary: Array(value.utf8)) }
    public mutating func element(bool value: Bool) { bytes.append(value ? 1 : 2) }

    /// A struct value (list element or top-level message): saves the field-id state, writes, adds the stop byte.
    public mutating func structure(_ body: (inout ThriftCompactWriter) -> Void) {
        fieldIdStack.append(lastFieldId)
        lastFieldId = 0
        body(&self)
        stop()
        lastFieldId = fieldIdStack.removeLast()
    }

    public mutating func stop() { bytes.append(0) }
}

/// Failure to decode compact-protocol bytes, with the byte offset where it happened.
public struct ThriftError: Error, CustomStringConvertible, Equatable, Sendable {
    public var offset: Int
    public var reason: String
    public var description: String { "thrift compact decoding at byte \(offset): \(reason)" }
}

/// Reads compact-protocol bytes. Use `nextField()` in a loop inside each struct; unknown fields go to `skip`.
public struct ThriftCompactReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position: Int
    private var lastFieldId: Int16 = 0
    private var fieldIdStack: [Int16] = []
    /// The value of the last boolean field header (compact encodes field bools in the type nibble).
    private var pendingBool: Bool?
    /// Nesting limit, against hostile or corrupt input.
    private let maxDepth = 64
    /// Lists, sets and maps being skipped inside each other (bounded like struct nesting, so corrupt bytes that
    /// declare list-of-list-of-... cannot exhaust the stack).
    private var containerDepth = 0

    /// Reads from `bytes` starting at `offset`. The buffer must outlive the reader.
    public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        // An offset outside the buffer (from corrupt metadata) reads as immediate end of data.
        self.position = offset >= 0 && offset <= bytes.count ? offset : bytes.count
    }

    func fail(_ reason: String) -> ThriftError { ThriftError(offset: position, reason: reason) }

    public mutating func byte() throws(ThriftError) -> UInt8 {
        guard position < bytes.count else { throw fail("unexpected end of data") }
        let b = bytes[position]
        position += 1
        return b
    }

    public mutating func varint() throws(ThriftError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw fail("varint longer than 10 bytes") }
        }
    }

    public mutating func zigzag() throws(ThriftError) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    /// The next field's id and type inside the current struct, or nil at the struct's stop byte.
    public mutating func nextField() throws(ThriftError) -> (id: Int16, type: ThriftType)? {
        let header = try byte()
        if header == 0 { return nil }
        guard let type = ThriftType(rawValue: header & 0x0F) else {
            throw fail("unknown field type \(header & 0x0F)")
        }
        let delta = header >> 4
        let id: Int16
        if delta != 0 {
            id = lastFieldId &+ Int16(delta)
        } else {
            let raw = try zigzag()
            guard let narrow = Int16(exactly: raw) else { throw fail("field id \(raw) out of range") }
            id = narrow
        }
        lastFieldId = id
        pendingBool = type == .boolTrue ? true : type == .boolFalse ? false : nil
        return (id, type)
    }

    /// Enters a struct value (after its field header, or as a list element).
    public mutating func beginStruct() throws(ThriftError) {
        guard fieldIdStack.count < maxDepth else { throw fail("structs nested deeper than \(maxDepth)") }
        fieldIdStack.append(lastFieldId)
        lastFieldId = 0
    }

    /// Leaves a struct value; call after `nextField()` returned nil.
    public mutating func endStruct() {
        lastFieldId = fieldIdStack.popLast() ?? 0
    }

    public mutating func readBool() throws(ThriftError) -> Bool {
        if let b = pendingBool {
            pendingBool = nil
            return b
        }
        return try byte() == 1
    }

    public mutating func readI8() throws(ThriftError) -> Int8 { Int8(bitPattern: try byte()) }

    public mutating func readI16() throws(ThriftError) -> Int16 {
        let v = try zigzag()
        guard let n = Int16(exactly: v) else { throw fail("i16 out of range: \(v)") }
        return n
    }

    public mutating func readI32() throws(ThriftError) -> Int32 {
        let v = try zigzag()
        guard let n = Int32(exactly: v) else { throw fail("i32 out of range: \(v)") }
        return n
    }

    public mutating func readI64() throws(ThriftError) -> Int64 { try zigzag() }

    public mutating func readDouble() throws(ThriftError) -> Double {
        guard position + 8 <= bytes.count else { throw fail("unexpected end of data in double") }
        var bits: UInt64 = 0
        for k in 0..<8 { bits |= UInt64(bytes[position + k]) << (8 * UInt64(k)) }
        position += 8
        return Double(bitPattern: bits)
    }

    public mutating func readBinary() throws(ThriftError) -> [UInt8] {
        let n = try varint()
        guard n <= UInt64(bytes.count - position) else { throw fail("binary length \(n) past end of data") }
        let out = Array(bytes[position..<(position + Int(n))])
        position += Int(n)
        return out
    }

    public mutating func readString() throws(ThriftError) -> String {
        String(decoding: try readBinary(), as: UTF8.self)
    }

    /// A list header: element count and element type.
    public mutating func readListHeader() throws(ThriftError) -> (count: Int, type: ThriftType) {
        let header = try byte()
        guard let type = ThriftType(rawValue: header & 0x0F) else {
            throw fail("unknown list element type \(header & 0x0F)")
        }
        var count = Int(header >> 4)
        if count == 15 {
            let n = try varint()
            guard n <= UInt64(bytes.count - position) else { throw fail("list size \(n) past end of data") }
            count = Int(n)
        }
        return (count, type)
    }

    /// Reads a list whose elements `element` decodes (one call per element).
    public mutating func readList<T>(_ element: (inout ThriftCompactReader, ThriftType) throws(ThriftError) -> T)
        throws(ThriftError) -> [T]
    {
        let (count, type) = try readListHeader()
        var out: [T] = []
        out.reserveCapacity(min(count, 1_024))   // count is only bounded by the bytes left; elements may be large
        for _ in 0..<count { out.append(try element(&self, type)) }
        return out
    }

    /// Reads a struct value: `field` is called for every field (and must consume it, or call `skip`).
    public mutating func readStruct(_ field: (inout ThriftCompactReader, Int16, ThriftType) throws(ThriftError) -> Void)
        throws(ThriftError)
    {
        try beginStruct()
        while let (id, type) = try nextField() { try field(&self, id, type) }
        endStruct()
    }

    /// Skips one value of `type` (a field's value or a collection element), recursing into containers.
    public mutating func skip(_ type: ThriftType) throws(ThriftError) {
        switch type {
        case .stop: throw fail("unexpected stop type")
        case .boolTrue, .boolFalse:
            if pendingBool != nil { pendingBool = nil } else { _ = try byte() }
        case .byte: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard position + 8 <= bytes.count else { throw fail("unexpected end of data in double") }
            position += 8
        case .binary:
            let n = try varint()
            guard n <= UInt64(bytes.count - position) else { throw fail("binary length \(n) past end of data") }
            position += Int(n)
        case .list, .set:
            let (count, elementType) = try readListHeader()
            guard containerDepth < maxDepth else { throw fail("containers nested deeper than \(maxDepth)") }
            containerDepth += 1
            defer { containerDepth -= 1 }
            for _ in 0..<count { try skipElement(elementType) }
        case .map:
            guard containerDepth < maxDepth else { throw fail("containers nested deeper than \(maxDepth)") }
            containerDepth += 1
            defer { containerDepth -= 1 }
            let count = try varint()
            if count > 0 {
                let types = try byte()
                guard let k = ThriftType(rawValue: types >> 4), let v = ThriftType(rawValue: types & 0x0F) else {
                    throw fail("unknown map key/value types \(types)")
                }
                guard count <= UInt64(bytes.count - position) else { throw fail("map size \(count) past end of data") }
                for _ in 0..<count {
                    try skipElement(k)
                    try skipElement(v)
                }
            }
        case .structure:
            try beginStruct()
            while let (_, fieldType) = try nextField() { try skip(fieldType) }
            endStruct()
        }
    }

    /// Collection elements carry no field header: booleans take one byte each.
    private mutating func skipElement(_ type: ThriftType) throws(ThriftError) {
        pendingBool = nil
        if type == .boolTrue || type == .boolFalse { _ = try byte() } else { try skip(type) }
    }
}
