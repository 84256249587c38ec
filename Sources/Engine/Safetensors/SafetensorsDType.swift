/// The element types of the safetensors format, with their header spelling and size in bytes.
///
/// The engine computes in fp32; `SafetensorsTensor.floats()` converts F64, F16, BF16, I64, I32 and the
/// small integer types to `Float` on read. Every dtype is kept byte for byte, so a file round-trips exactly.
public enum SafetensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL"
    case u8 = "U8"
    case i8 = "I8"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .u8, .i8: 1
        case .i16, .u16, .f16, .bf16: 2
        case .i32, .u32, .f32: 4
        case .f64, .i64, .u64: 8
        }
    }

    /// Position in the reference implementation's `Dtype` enum (huggingface/safetensors, Rust). Writers lay
    /// tensors out by descending rank, then by name, so that files we write are byte-identical to files
    /// written by `safetensors.torch.save_file` from the same tensors and metadata.
    var writeRank: Int {
        switch self {
        case .bool: 0
        case .u8: 4
        case .i8: 5
        case .i16: 9
        case .u16: 10
        case .f16: 11
        case .bf16: 12
        case .i32: 13
        case .u32: 14
        case .f32: 15
        case .f64: 17
        case .i64: 18
        case .u64: 19
        }
    }
}
