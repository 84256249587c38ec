import Common
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A safetensors file in memory: named tensors plus the `__metadata__` string map.
///
/// Format (huggingface/safetensors): 8-byte little-endian header length N, N bytes of JSON header
/// `{"__metadata__": {...}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}`
/// padded with spaces to a multiple of 8, then the raw little-endian tensor data; offsets are relative to the
/// end of the header and the tensors tile the data without gaps or overlaps.
///
/// Writing is deterministic: metadata keys sorted, tensors laid out as the reference writer does (by dtype,
/// then name), so a file read and written again is bit-identical, and files are interchangeable with
/// `safetensors.torch.load_file` / `save_file`.
///
///     var file = SafetensorsFile(metadata: ["model_type": "short_term"])
///     file.tensors["head.weight"] = SafetensorsTensor(shape: [2, 128], floats: weights)
///     try file.write(to: "ck.safetensors")
///     let back = try SafetensorsFile(contentsOf: "ck.safetensors")
///     let w = try back.floats("head.weight")
public struct SafetensorsFile: Equatable, Sendable {
    public var tensors: [String: SafetensorsTensor]
    public var metadata: [String: String]
    /// Where the file came from (its path, or "<memory>"), used in error messages.
    public var source: String

    /// The reference implementation refuses headers above 100 MB; so do we.
    public static let maxHeaderBytes = 100_000_000

    public init(tensors: [String: SafetensorsTensor] = [:], metadata: [String: String] = [:], source: String = "<memory>") {
        self.tensors = tensors
        self.metadata = metadata
        self.source = source
    }

    public static func == (a: SafetensorsFile, b: SafetensorsFile) -> Bool {
        a.tensors == b.tensors && a.metadata == b.metadata
    }

    /// Reads and validates a file.
    public init(contentsOf path: String) throws(SafetensorsError) {
        try self.init(bytes: try Self.readBytes(path), source: path)
    }

    /// Parses and validates the bytes of a file.
    public init(bytes: [UInt8], source: String = "<memory>") throws(SafetensorsError) {
        self.source = source
        guard bytes.count >= 8 else {
            throw .truncated(source: source, message: "\(bytes.count) bytes, fewer than the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw .badHeader(source: source, field: "header length", message: "\(headerLength) bytes exceeds the 100 MB limit (not a safetensors file?)")
        }
        let headerEnd = 8 + Int(headerLength)
        guard headerEnd <= bytes.count else {
            throw .truncated(source: source, message: "header says \(headerLength) bytes but only \(bytes.count - 8) follow")
        }
        let header = bytes[8..<headerEnd]
        guard header.first == UInt8(ascii: "{") else {
            throw .badJSON(source: source, offset: 0, message: "the header must start with '{' (not a safetensors file?)")
        }
        guard case let .object(members) = try HeaderJSON.parse(header, source: source) else {
            throw .badHeader(source: source, field: "(root)", message: "the header is not a JSON object")
        }
        let dataLength = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: SafetensorsDType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard case let .object(pairs) = value else {
                    throw .badHeader(source: source, field: "__metadata__", message: "expected an object of strings, got \(value.kind)")
                }
                for (key, v) in pairs {
                    guard case let .string(s) = v else {
                        throw .badHeader(source: source, field: "__metadata__.\(key)", message: "expected a string, got \(v.kind)")
                    }
                    metadata[key] = s
                }
                continue
            }
            guard case let .object(fields) = value else {
                throw .badHeader(source: source, field: name, message: "expected a tensor description object, got \(value.kind)")
            }
            func field(_ key: String) throws(SafetensorsError) -> HeaderJSON {
                guard let v = fields.first(where: { $0.0 == key })?.1 else {
                    throw .badHeader(source: source, field: "\(name).\(key)", message: "missing")
                }
                return v
            }
            guard case let .string(dtypeName) = try field("dtype") else {
                throw .badHeader(source: source, field: "\(name).dtype", message: "expected a string")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw .unsupportedDType(source: source, tensor: name, dtype: dtypeName)
            }
            let shape = try Self.integers(try field("shape"), source: source, field: "\(name).shape")
            let offsets = try Self.integers(try field("data_offsets"), source: source, field: "\(name).data_offsets")
            guard offsets.count == 2 else {
                throw .badHeader(source: source, field: "\(name).data_offsets", message: "expected [begin, end], got \(offsets.count) numbers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end, end <= dataLength else {
                throw .badOffsets(source: source, tensor: name,
                                  message: "[\(begin), \(end)] outside the \(dataLength) data bytes")
            }
            let (count, overflow) = SafetensorsTensor.product(shape)
            guard !overflow, count.multipliedReportingOverflow(by: dtype.size) == (end - begin, false) else {
                throw .badOffsets(source: source, tensor: name,
                                  message: "shape \(shape) of \(dtypeName) needs \(count) x \(dtype.size) bytes, offsets span \(end - begin)")
            }
            entries.append((name, dtype, shape, begin, end))
        }
        // The tensors must tile the data exactly: sorted by offset, each starts where the previous ended.
        let ordered = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        for (i, entry) in ordered.enumerated() {
            if entry.begin < position {
                throw .badOffsets(source: source, tensor: entry.name,
                                  message: "[\(entry.begin), \(entry.end)] overlaps tensor '\(ordered[i - 1].name)' ending at \(position)")
            }
            if entry.begin > position {
                throw .badOffsets(source: source, tensor: entry.name,
                                  message: "gap of \(entry.begin - position) bytes before it (starts at \(entry.begin), previous data ends at \(position))")
            }
            position = entry.end
        }
        guard position == dataLength else {
            throw .badOffsets(source: source, tensor: ordered.last?.name ?? "(none)",
                              message: "tensors cover \(position) of the \(dataLength) data bytes after the header")
        }
        var tensors: [String: SafetensorsTensor] = [:]
        for entry in entries {
            let data = Array(bytes[(headerEnd + entry.begin)..<(headerEnd + entry.end)])
            tensors[entry.name] = try SafetensorsTensor(dtype: entry.dtype, shape: entry.shape, data: data, name: entry.name)
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name`, or a `missingTensor` error naming the file.
    public func tensor(_ name: String) throws(SafetensorsError) -> SafetensorsTensor {
        guard let t = tensors[name] else { throw .missingTensor(source: source, tensor: name) }
        return t
    }

    /// The tensor called `name` converted to `Float`.
    public func floats(_ name: String) throws(SafetensorsError) -> [Float] {
        try tensor(name).floats(source: source, name: name)
    }

    /// The file's bytes: header length, padded JSON header, tensor data.
    public func serialized() -> [UInt8] {
        let names = tensors.keys.sorted { a, b in
            let (ra, rb) = (tensors[a]!.dtype.writeRank, tensors[b]!.dtype.writeRank)
            return ra != rb ? ra > rb : a < b
        }
        var members: [(String, HeaderJSON)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.keys.sorted().map { ($0, .string(metadata[$0]!)) })))
        }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            members.append((name, .object([
                ("dtype", .string(t.dtype.rawValue)),
                ("shape", .array(t.shape.map { .integer(Int64($0)) })),
                ("data_offsets", .array([.integer(Int64(offset)), .integer(Int64(offset + t.data.count))])),
            ])))
            offset += t.data.count
        }
        var header: [UInt8] = []
        HeaderJSON.write(.object(members), into: &header)
        header.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8))
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        let n = UInt64(header.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out.append(contentsOf: header)
        for name in names { out.append(contentsOf: tensors[name]!.data) }
        return out
    }

    /// Writes the file (replacing it) all-or-nothing through `Common.AtomicFile`: a temporary file created
    /// exclusively (O_EXCL, unpredictable name) in the same directory, fsynced, renamed over `path`, and the
    /// directory fsynced. A reader (or a crash, or a kill during the save) sees the old file or the new one, never a
    /// torn one; the directories leading to `path` are created.
    public func write(to path: String) throws(SafetensorsError) {
        do { try AtomicFile.write(serialized(), to: path) } catch { throw .io(source: path, message: error.reason) }
    }

    static func readBytes(_ path: String) throws(SafetensorsError) -> [UInt8] {
        guard let handle = fopen(path, "rb") else {
            throw .io(source: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, handle) }
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(handle) != 0 { throw .io(source: path, message: "read failed: \(String(cString: strerror(errno)))") }
                break
            }
        }
        return bytes
    }

    static func integers(_ value: HeaderJSON, source: String, field: String) throws(SafetensorsError) -> [Int] {
        guard case let .array(items) = value else {
            throw .badHeader(source: source, field: field, message: "expected an array of integers, got \(value.kind)")
        }
        var out: [Int] = []
        for item in items {
            guard case let .integer(v) = item, v >= 0 else {
                throw .badHeader(source: source, field: field, message: "expected non-negative integers, got \(item.kind)")
            }
            out.append(Int(v))
        }
        return out
    }
}
