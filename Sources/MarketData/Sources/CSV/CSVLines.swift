#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level CSV scanning: lines (LF or CRLF, a UTF-8 BOM skipped, blank lines skipped), fields (optionally
/// double-quoted, surrounding spaces trimmed) and numbers, without allocating a `String` per field.
struct CSVLines {
    let bytes: [UInt8]
    private var position: Int
    private var lineNumber = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    /// The next non-blank line as (1-based line number, byte range without the line break).
    mutating func next() -> (Int, Range<Int>)? {
        while position < bytes.count {
            let start = position
            let end = bytes.withUnsafeBufferPointer { b in
                var e = start
                while e < b.count && b[e] != 0x0A { e += 1 }
                return e
            }
            position = end + 1
            lineNumber += 1
            var stop = end
            if stop > start && bytes[stop - 1] == 0x0D { stop -= 1 }
            var k = start
            while k < stop && (bytes[k] == 0x20 || bytes[k] == 0x09) { k += 1 }
            if k < stop { return (lineNumber, start..<stop) }
        }
        return nil
    }

    /// The most frequent of tab, semicolon and comma in the first line (comma on a tie or when none occurs).
    static func detectDelimiter(_ line: Range<Int>, in bytes: [UInt8]) -> UInt8 {
        var counts: [UInt8: Int] = [0x2C: 0, 0x09: 0, 0x3B: 0]
        for b in bytes[line] where counts[b] != nil { counts[b]! += 1 }
        let best = counts.max { a, b in a.value < b.value || (a.value == b.value && a.key != 0x2C && b.key == 0x2C) }!
        return best.value == 0 ? 0x2C : best.key
    }

    /// Splits `line` into field ranges (quotes and surrounding spaces removed), reusing `fields`' storage.
    static func split(_ array: [UInt8], _ line: Range<Int>, _ delimiter: UInt8, into fields: inout [Range<Int>]) {
        fields.removeAll(keepingCapacity: true)
        array.withUnsafeBufferPointer { bytes in split(bytes, line, delimiter, into: &fields) }
    }

    private static func split(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, _ delimiter: UInt8,
                              into fields: inout [Range<Int>]) {
        var i = line.lowerBound
        let end = line.upperBound
        while true {
            while i < end && bytes[i] == 0x20 && delimiter != 0x20 { i += 1 }
            var fieldStart = i, fieldEnd: Int
            if i < end && bytes[i] == 0x22 {   // quoted
                fieldStart = i + 1
                var j = fieldStart
                while j < end && !(bytes[j] == 0x22 && (j + 1 >= end || bytes[j + 1] != 0x22)) {
                    j += bytes[j] == 0x22 ? 2 : 1
                }
                fieldEnd = min(j, end)
                i = min(j + 1, end)
                while i < end && bytes[i] != delimiter { i += 1 }
            } else {
                while i < end && bytes[i] != delimiter { i += 1 }
                fieldEnd = i
                while fieldEnd > fieldStart && (bytes[fieldEnd - 1] == 0x20 || bytes[fieldEnd - 1] == 0x09)
                    && delimiter != bytes[fieldEnd - 1] { fieldEnd -= 1 }
            }
            fields.append(fieldStart..<fieldEnd)
            if i >= end { break }
            i += 1   // skip the delimiter
        }
    }

    static func text(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// Exact powers of ten as doubles (10^0 ... 10^22 are all representable).
    static let powersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { a, _ in a * 10 } }

    /// A decimal number, exactly the double `strtod` (and so Python and pandas) reads, or nil.
    ///
    /// Plain decimals with at most 15 significant digits and a small exponent take Clinger's fast path: the
    /// digits form an integer m < 2^53 and the value is m / 10^k or m * 10^k, one correctly rounded IEEE
    /// operation on two exact doubles, hence the correctly rounded result. Everything else goes to `strtod`.
    static func double(_ array: [UInt8], _ range: Range<Int>) -> Double? {
        guard !range.isEmpty else { return nil }
        return array.withUnsafeBufferPointer { double($0, range) } ?? strtodDouble(array, range)
    }

    /// The fast path alone: nil when the text needs `strtod`.
    private static func double(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double? {
        var i = range.lowerBound
        let end = range.upperBound
        var negative = false
        if bytes[i] == 0x2D || bytes[i] == 0x2B { negative = bytes[i] == 0x2D; i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0, fractionDigits = 0, anyDigit = false
        var inFraction = false
        var fast = true
        while i < end {
            let b = bytes[i]
            if b >= 0x30 && b <= 0x39 {
                anyDigit = true
                if mantissa == 0 && b == 0x30 {
                    if inFraction { fractionDigits += 1 }   // leading zeros are not significant
                } else if digits < 15 {
                    mantissa = mantissa * 10 + UInt64(b - 0x30)
                    digits += 1
                    if inFraction { fractionDigits += 1 }
                } else {
                    fast = false
                    break
                }
            } else if b == 0x2E && !inFraction {
                inFraction = true
            } else {
                fast = false   // exponent, inf, nan, hex, junk: strtod decides
                break
            }
            i += 1
        }
        if fast && anyDigit && fractionDigits <= 22 {
            let value = Double(mantissa) / powersOfTen[fractionDigits]
            return negative ? -value : value
        }
        return nil
    }

    static func strtodDouble(_ bytes: [UInt8], _ range: Range<Int>) -> Double? {
        let n = range.count
        guard n > 0, n < 64 else { return n == 0 ? nil : Double(text(bytes, range)) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> Double? in
            for k in 0..<n { buffer[k] = CChar(bitPattern: bytes[range.lowerBound + k]) }
            buffer[n] = 0
            let base = buffer.baseAddress!
            var endPointer: UnsafeMutablePointer<CChar>?
            let value = strtod(base, &endPointer)
            guard let endPointer, endPointer - base == n else { return nil }
            // strtod also accepts hex floats and "infinity"; the reader reports non-finite values itself.
            return value
        }
    }
}
