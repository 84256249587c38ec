import Common

/// How the time column of a CSV file is written, parsed straight from the bytes of a field.
///
/// - `.auto`: `2017-04-19`, `2017.04.19 09:00`, `2017-04-19 09:00:00.250`, `2017-04-19T09:00:00Z`, `...+02:00`
///   (the separators `-`, `.`, `/` and ` `, `T`), or integer epoch seconds / milliseconds (by magnitude).
/// - `.pattern`: strftime-style directives `%Y %y %m %d %H %M %S %f %b %p %I %z` and literal characters;
///   e.g. `%d/%m/%Y %H:%M` or `%m/%d/%y %I:%M %p`.
/// - `.epochSeconds`, `.epochMilliseconds`: integers (seconds may carry a fraction).
///
/// The parsed civil time is a wall-clock time in the reader's time zone unless the text carries an offset.
///
///     try DateFormat(parsing: "%d/%m/%Y %H:%M").parse(Array("19/04/2017 09:00".utf8)[...])
public enum DateFormat: Sendable, Equatable, CustomStringConvertible {
    case auto
    case pattern(String)
    case epochSeconds
    case epochMilliseconds

    public init(parsing text: String) throws(DataError) {
        switch text.lowercased() {
        case "", "auto", "iso", "iso8601": self = .auto
        case "epoch", "epoch_s", "unix", "s": self = .epochSeconds
        case "epoch_ms", "ms": self = .epochMilliseconds
        default:
            guard text.contains("%") else {
                throw DataError(file: "<options>", field: "date-format",
                                reason: "'\(text)' is not auto, epoch_s, epoch_ms or a %-pattern like %d/%m/%Y %H:%M")
            }
            for directive in Self.directives(of: text) where !"YymdHMSfbpIz%".contains(directive) {
                throw DataError(file: "<options>", field: "date-format", reason: "unknown directive %\(directive)")
            }
            self = .pattern(text)
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .pattern(let p): p
        case .epochSeconds: "epoch_s"
        case .epochMilliseconds: "epoch_ms"
        }
    }

    static func directives(of pattern: String) -> [Character] {
        var out: [Character] = []
        var it = pattern.makeIterator()
        while let c = it.next() { if c == "%", let d = it.next() { out.append(d) } }
        return out
    }

    /// A parsed time: epoch ms of the civil fields, and whether the text carried its own UTC offset (already applied).
    public struct Parsed: Equatable, Sendable {
        public var milliseconds: Int64
        public var isAbsolute: Bool
    }

    /// Parses one field (without surrounding spaces). Nil when the text does not match or names an instant
    /// outside `UTCTime.supportedRange` (years 1-9999), so no later offset or bucketing arithmetic can overflow.
    public func parse(_ bytes: ArraySlice<UInt8>) -> Parsed? {
        guard let t = unboundedParse(bytes), UTCTime.supportedRange.contains(t.milliseconds) else { return nil }
        return t
    }

    private func unboundedParse(_ bytes: ArraySlice<UInt8>) -> Parsed? {
        switch self {
        case .auto:
            if let t = Self.parseISO(bytes) { return t }
            guard let n = Self.integer(bytes) else { return nil }
            return Parsed(milliseconds: abs(n) < 100_000_000_000 ? n * 1000 : n, isAbsolute: true)
        case .epochMilliseconds:
            return Self.integer(bytes).map { Parsed(milliseconds: $0, isAbsolute: true) }
        case .epochSeconds:
            // Bounded before the conversion: Int64(1e20) traps.
            guard let s = Double(String(decoding: bytes, as: UTF8.self)), s.isFinite, abs(s) < 1e15 else { return nil }
            return Parsed(milliseconds: Int64((s * 1000).rounded()), isAbsolute: true)
        case .pattern(let p):
            return Self.parsePattern(Array(p.utf8), bytes)
        }
    }

    static func integer(_ b: ArraySlice<UInt8>) -> Int64? {
        var i = b.startIndex
        var sign: Int64 = 1
        if i < b.endIndex, b[i] == UInt8(ascii: "-") { sign = -1; i += 1 }
        guard i < b.endIndex, b.endIndex - i <= 18 else { return nil }
        var v: Int64 = 0
        while i < b.endIndex {
            let d = b[i]
            guard d >= 48, d <= 57 else { return nil }
            v = v * 10 + Int64(d - 48)
            i += 1
        }
        return sign * v
    }

    /// `YYYY[-./]MM[-./]DD[( |T)HH:MM[:SS[.fff]]][Z|±HH[:]MM]`.
    package static func parseISO(_ b: ArraySlice<UInt8>) -> Parsed? {
        var s = Scanner(b)
        guard let y = s.digits(4), s.take(oneOf: "-./"), let mo = s.digits(2), s.take(oneOf: "-./"),
              let d = s.digits(2) else { return nil }
        var h = 0, mi = 0, sec = 0, ms = 0
        if s.take(oneOf: " T") {
            guard let hh = s.digits(2), s.take(oneOf: ":"), let mm = s.digits(2) else { return nil }
            h = hh; mi = mm
            if s.take(oneOf: ":") {
                guard let ss = s.digits(2) else { return nil }
                sec = ss
                if s.take(oneOf: ".") { guard let f = s.fractionMilliseconds() else { return nil }; ms = f }
            }
        }
        guard let civil = civil(y, mo, d, h, mi, sec, ms) else { return nil }
        if s.atEnd { return Parsed(milliseconds: civil, isAbsolute: false) }
        guard let offset = s.zoneOffset(), s.atEnd else { return nil }
        return Parsed(milliseconds: civil - offset, isAbsolute: true)
    }

    static func civil(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int, _ ms: Int) -> Int64? {
        guard (1...12).contains(mo), d >= 1, d <= UTCTime.daysInMonth(year: y, month: mo), h < 24, mi < 60, s < 61
        else { return nil }
        return UTCTime.milliseconds(year: y, month: mo, day: d, hour: h, minute: mi, second: s, millisecond: ms)
    }

    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parsePattern(_ p: [UInt8], _ b: ArraySlice<UInt8>) -> Parsed? {
        var s = Scanner(b)
        var y = 1970, mo = 1, d = 1, h = 0, mi = 0, sec = 0, ms = 0
        var pm: Bool?
        var offset: Int64?
        var k = 0
        while k < p.count {
            let c = p[k]
            guard c == UInt8(ascii: "%"), k + 1 < p.count else {
                guard s.take(byte: c) else { return nil }
                k += 1
                continue
            }
            let directive = p[k + 1]
            k += 2
            switch directive {
            case UInt8(ascii: "Y"): guard let v = s.digits(4) else { return nil }; y = v
            case UInt8(ascii: "y"): guard let v = s.digits(2) else { return nil }; y = v < 69 ? 2000 + v : 1900 + v
            case UInt8(ascii: "m"): guard let v = s.digits(1...2) else { return nil }; mo = v
            case UInt8(ascii: "d"): guard let v = s.digits(1...2) else { return nil }; d = v
            case UInt8(ascii: "H"), UInt8(ascii: "I"): guard let v = s.digits(1...2) else { return nil }; h = v
            case UInt8(ascii: "M"): guard let v = s.digits(2) else { return nil }; mi = v
            case UInt8(ascii: "S"): guard let v = s.digits(2) else { return nil }; sec = v
            case UInt8(ascii: "f"): guard let v = s.fractionMilliseconds() else { return nil }; ms = v
            case UInt8(ascii: "b"):
                guard let word = s.letters(3), let i = months.firstIndex(of: word.lowercased()) else { return nil }
                mo = i + 1
            case UInt8(ascii: "p"):
                guard let word = s.letters(2)?.uppercased(), word == "AM" || word == "PM" else { return nil }
                pm = word == "PM"
            case UInt8(ascii: "z"):
                guard let o = s.zoneOffset() else { return nil }
                offset = o
            case UInt8(ascii: "%"): guard s.take(byte: UInt8(ascii: "%")) else { return nil }
            default: return nil
            }
        }
        guard s.atEnd else { return nil }
        if let pm {
            guard (1...12).contains(h) else { return nil }
            h = h % 12 + (pm ? 12 : 0)
        }
        guard let civil = civil(y, mo, d, h, mi, sec, ms) else { return nil }
        if let offset { return Parsed(milliseconds: civil - offset, isAbsolute: true) }
        return Parsed(milliseconds: civil, isAbsolute: false)
    }

    /// A cursor over the bytes of one field.
    struct Scanner {
        let b: ArraySlice<UInt8>
        var i: Int
        init(_ b: ArraySlice<UInt8>) { self.b = b; i = b.startIndex }
        var atEnd: Bool { i == b.endIndex }

        mutating func digits(_ width: Int) -> Int? { digits(width...width) }

        mutating func digits(_ widths: ClosedRange<Int>) -> Int? {
            var v = 0, n = 0
            while n < widths.upperBound, i < b.endIndex, b[i] >= 48, b[i] <= 57 {
                v = v * 10 + Int(b[i] - 48)
                i += 1; n += 1
            }
            return n >= widths.lowerBound ? v : nil
        }

        mutating func fractionMilliseconds() -> Int? {
            var v = 0, n = 0
            while i < b.endIndex, b[i] >= 48, b[i] <= 57 {
                if n < 3 { v = v * 10 + Int(b[i] - 48) }
                i += 1; n += 1
            }
            guard n > 0 else { return nil }
            for _ in n..<max(n, 3) { v *= 10 }
            return v
        }

        mutating func take(oneOf chars: StaticString) -> Bool {
            guard i < b.endIndex else { return false }
            let c = b[i]
            let ok = chars.withUTF8Buffer { $0.contains(c) }
            if ok { i += 1 }
            return ok
        }

        mutating func take(byte: UInt8) -> Bool {
            guard i < b.endIndex, b[i] == byte else { return false }
            i += 1
            return true
        }

        mutating func letters(_ n: Int) -> String? {
            guard i + n <= b.endIndex else { return nil }
            let word = String(decoding: b[i..<(i + n)], as: UTF8.self)
            guard word.allSatisfy(\.isLetter) else { return nil }
            i += n
            return word
        }

        /// `Z`, `±HH`, `±HHMM`, `±HH:MM` as milliseconds east of UTC.
        mutating func zoneOffset() -> Int64? {
            if take(byte: UInt8(ascii: "Z")) { return 0 }
            let sign: Int64
            if take(byte: UInt8(ascii: "+")) { sign = 1 } else if take(byte: UInt8(ascii: "-")) { sign = -1 } else {
                return nil
            }
            guard let hh = digits(2) else { return nil }
            _ = take(byte: UInt8(ascii: ":"))
            let mm = digits(2) ?? 0
            return sign * (Int64(hh) * UTCTime.msPerHour + Int64(mm) * UTCTime.msPerMinute)
        }
    }
}
