import CKernels

/// Why an engine operation failed. Kernel failures carry the backend's own `last_error` text (for CUDA, the CUDA
/// error string), so a message alone tells what went wrong and where.
///
///     do { try backend.sync() }
///     catch { print(error) }   // "cuda: linear_fwd failed (device error): CUDA error: out of memory"
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A kernel returned a non-OK status. `operation` is the table entry (`linear_fwd`), `backend` its name.
    case kernel(backend: String, operation: String, status: KernelStatus, message: String)
    /// The requested backend cannot run here (no library, no driver, no device, ABI mismatch).
    case unavailable(backend: String, reason: String)
    /// A backend's table lacks the function (a partial backend); `operation` names the entry.
    case unsupported(backend: String, operation: String)
    /// Tensor sizes or shapes that do not fit the operation; `context` names the layer/op and argument.
    case shapeMismatch(context: String, message: String)
    /// A tensor belongs to another backend than the one asked to run the operation.
    case backendMismatch(context: String, expected: String, found: String)
    /// An argument out of range (negative size, probability outside [0, 1), unknown parameter name...).
    case invalidArgument(context: String, message: String)
    /// An operation called out of order (backward before forward, optimizer past its schedule...).
    case invalidState(context: String, message: String)

    public var description: String {
        switch self {
        case let .kernel(backend, operation, status, message):
            "\(backend): \(operation) failed (\(status))" + (message.isEmpty ? "" : ": \(message)")
        case let .unavailable(backend, reason): "\(backend) backend unavailable: \(reason)"
        case let .unsupported(backend, operation): "\(backend) backend does not implement \(operation)"
        case let .shapeMismatch(context, message): "\(context): shape mismatch: \(message)"
        case let .backendMismatch(context, expected, found):
            "\(context): tensor lives on backend '\(found)' but the operation runs on '\(expected)'"
        case let .invalidArgument(context, message): "\(context): invalid argument: \(message)"
        case let .invalidState(context, message): "\(context): \(message)"
        }
    }
}

/// The `ck_status` codes of ckernels.h as a Swift enum.
public enum KernelStatus: UInt32, Sendable, CustomStringConvertible {
    case ok = 0, invalidArgument = 1, outOfMemory = 2, device = 3, unsupported = 4, unavailable = 5
    case unknown = 0xFFFF_FFFF

    init(_ status: ck_status) { self = KernelStatus(rawValue: status.rawValue) ?? .unknown }

    public var description: String {
        switch self {
        case .ok: "ok"
        case .invalidArgument: "invalid argument"
        case .outOfMemory: "out of memory"
        case .device: "device error"
        case .unsupported: "unsupported"
        case .unavailable: "unavailable"
        case .unknown: "unknown status"
        }
    }
}
