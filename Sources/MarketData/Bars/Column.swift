/// A read-only, zero-based window onto shared column storage.
///
/// Slicing a `Column` (and so a `BarSeries`) shares the storage instead of copying it, yet indices always start
/// at 0, unlike `ArraySlice`:
///
///     let c = Column([1.0, 2.0, 3.0, 4.0])
///     let tail = c[1..<4]      // no copy
///     tail[0]                  // 2.0
///     Array(tail)              // [2.0, 3.0, 4.0]
public struct Column<Element>: RandomAccessCollection, @unchecked Sendable {
    @usableFromInline let storage: [Element]
    @usableFromInline let offset: Int
    public let count: Int

    public init(_ values: [Element]) {
        storage = values
        offset = 0
        count = values.count
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    @inlinable public subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "Column index \(i) out of range 0..<\(count)")
        return storage[offset + i]
    }

    /// A zero-based sub-column sharing storage.
    public subscript(range: Range<Int>) -> Column<Element> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "Column range \(range) out of 0..<\(count)")
        return Column(storage: storage, offset: offset + range.lowerBound, count: range.count)
    }

    init(storage: [Element], offset: Int, count: Int) {
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    /// Contiguous access for vectorised loops (indicators, kernels).
    @inlinable public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[offset..<(offset + count)]))
        }
    }

    /// The values as an `Array` (a copy unless the column spans its whole storage).
    public var array: [Element] {
        offset == 0 && count == storage.count ? storage : Array(storage[offset..<(offset + count)])
    }
}

extension Column: Equatable where Element: Equatable {
    public static func == (a: Column, b: Column) -> Bool { a.elementsEqual(b) }
}
