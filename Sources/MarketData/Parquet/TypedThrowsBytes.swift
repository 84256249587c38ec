import Foundation

/// `withUnsafeBytes` that keeps a body's typed error (the standard library's versions rethrow `any Error`).
///
///     let n = try bytes.withTypedBytes { (b) throws(ParquetError) in try parse(b) }
extension Array where Element: BitwiseCopyable {
    func withTypedBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var result: Result<R, E>?
        withUnsafeBytes { b in result = Result { () throws(E) -> R in try body(b) } }
        return try result!.get()
    }
}

extension Data {
    func withTypedBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        var result: Result<R, E>?
        withUnsafeBytes { b in result = Result { () throws(E) -> R in try body(b) } }
        return try result!.get()
    }
}
