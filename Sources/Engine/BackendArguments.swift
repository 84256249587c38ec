import CKernels

/// Argument checking shared by the kernel wrappers: every tensor handed to a kernel must live on this backend
/// and hold at least the elements the kernel will touch, so a shape bug throws instead of corrupting memory.
extension Backend {
    /// A contiguous argument of at least `need` elements.
    @inline(__always)
    func out(_ t: Tensor, _ need: Int, _ op: String, _ arg: String) throws(EngineError) -> UnsafeMutablePointer<Float>? {
        guard t.storage.backend === self else {
            throw .backendMismatch(context: "\(op) \(arg)", expected: name, found: t.backend.name)
        }
        guard t.count >= need else {
            throw .shapeMismatch(context: "\(op) \(arg)", message: "needs \(need) elements, tensor \(t.shape) has \(t.count)")
        }
        return t.pointer
    }

    @inline(__always)
    func inp(_ t: Tensor, _ need: Int, _ op: String, _ arg: String) throws(EngineError) -> UnsafePointer<Float>? {
        UnsafePointer(try out(t, need, op, arg))
    }

    /// An optional argument (nil passes NULL: "not needed" / "zeros").
    @inline(__always)
    func out(_ t: Tensor?, _ need: Int, _ op: String, _ arg: String) throws(EngineError) -> UnsafeMutablePointer<Float>? {
        guard let t else { return nil }
        return try out(t, need, op, arg)
    }

    @inline(__always)
    func inp(_ t: Tensor?, _ need: Int, _ op: String, _ arg: String) throws(EngineError) -> UnsafePointer<Float>? {
        guard let t else { return nil }
        return UnsafePointer(try out(t, need, op, arg))
    }

    /// A strided matrix argument: `rows` rows of `cols` floats, `ld` floats apart. The view may be a column slice
    /// of a wider tensor, so the check is against the floats available in the buffer from the view's start.
    @inline(__always)
    func strided(_ t: Tensor, rows: Int, cols: Int, ld: Int, _ op: String, _ arg: String) throws(EngineError) -> UnsafeMutablePointer<Float>? {
        guard t.storage.backend === self else {
            throw .backendMismatch(context: "\(op) \(arg)", expected: name, found: t.backend.name)
        }
        guard ld >= cols else {
            throw .invalidArgument(context: "\(op) \(arg)", message: "row stride \(ld) < columns \(cols)")
        }
        let span = rows == 0 ? 0 : (rows - 1) * ld + cols
        guard t.available >= span else {
            throw .shapeMismatch(context: "\(op) \(arg)", message: "\(rows)x\(cols) with stride \(ld) needs \(span) floats, \(t.available) available")
        }
        return t.pointer
    }

    @inline(__always)
    func stridedIn(_ t: Tensor, rows: Int, cols: Int, ld: Int, _ op: String, _ arg: String) throws(EngineError) -> UnsafePointer<Float>? {
        UnsafePointer(try strided(t, rows: rows, cols: cols, ld: ld, op, arg))
    }

    @inline(__always)
    func stridedOpt(_ t: Tensor?, rows: Int, cols: Int, ld: Int, _ op: String, _ arg: String) throws(EngineError) -> UnsafeMutablePointer<Float>? {
        guard let t else { return nil }
        return try strided(t, rows: rows, cols: cols, ld: ld, op, arg)
    }

    /// Sizes must be positive and fit a C int.
    @inline(__always)
    func dims(_ op: String, _ values: Int...) throws(EngineError) {
        for v in values where v < 0 || v > Int(Int32.max) {
            throw .invalidArgument(context: op, message: "size \(v) out of range")
        }
    }
}

@inline(__always) func c32(_ n: Int) -> Int32 { Int32(truncatingIfNeeded: n) }
