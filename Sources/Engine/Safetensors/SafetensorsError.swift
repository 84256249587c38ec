/// Why a safetensors file could not be read or written. Every case names the file (`source`) and, where it
/// applies, the tensor or header field at fault, so a bad checkpoint is diagnosed from the message alone.
///
///     do { _ = try SafetensorsFile(contentsOf: "model.safetensors") }
///     catch { print(error) }   // "model.safetensors: truncated: header says 4096 bytes but only 100 follow"
public enum SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened, read or written.
    case io(source: String, message: String)
    /// The file ends before the length its header announces.
    case truncated(source: String, message: String)
    /// The JSON header is not valid JSON; `offset` is the byte position inside the header.
    case badJSON(source: String, offset: Int, message: String)
    /// The header is valid JSON but does not describe a safetensors file (missing or ill-typed field).
    case badHeader(source: String, field: String, message: String)
    /// A tensor's `data_offsets` are out of range, overlap another tensor, leave a gap or disagree with its shape.
    case badOffsets(source: String, tensor: String, message: String)
    /// The tensor's dtype is not one this reader understands, or cannot be converted to the requested type.
    case unsupportedDType(source: String, tensor: String, dtype: String)
    /// A tensor the caller asked for is absent.
    case missingTensor(source: String, tensor: String)
    /// A tensor was built with data that does not match its shape and dtype.
    case shapeMismatch(tensor: String, message: String)

    public var description: String {
        switch self {
        case let .io(source, message): "\(source): \(message)"
        case let .truncated(source, message): "\(source): truncated: \(message)"
        case let .badJSON(source, offset, message): "\(source): bad JSON header at byte \(offset): \(message)"
        case let .badHeader(source, field, message): "\(source): bad header field '\(field)': \(message)"
        case let .badOffsets(source, tensor, message): "\(source): tensor '\(tensor)': bad data_offsets: \(message)"
        case let .unsupportedDType(source, tensor, dtype): "\(source): tensor '\(tensor)': unsupported dtype \(dtype)"
        case let .missingTensor(source, tensor): "\(source): no tensor named '\(tensor)'"
        case let .shapeMismatch(tensor, message): "tensor '\(tensor)': \(message)"
        }
    }
}
