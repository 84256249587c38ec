/// UTC timestamps as Int64 milliseconds since the Unix epoch — the one time representation of AITrader.
///
/// Conversions use the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil`), so they are exact for
/// any date and need no Foundation calendar:
///
///     let t = UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 9)   // 1492592400000
///     UTCTime.iso8601(t)                                                     // "2017-04-19T09:00:00Z"
///     UTCTime.components(t).weekday                                          // 3 (Wednesday; Monday = 1)
public enum UTCTime {
    public static let msPerSecond: Int64 = 1_000
    public static let msPerMinute: Int64 = 60_000
    public static let msPerHour: Int64 = 3_600_000
    public static let msPerDay: Int64 = 86_400_000

    /// The instants any input may name: years 1 to 9999 (what every date format we read can spell). Parsers and
    /// vendor replies reject times outside it, so later arithmetic (offsets, bucketing, spans) cannot overflow.
    public static let supportedRange: ClosedRange<Int64> =
        -62_135_596_800_000 ... 253_402_300_799_999   // 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999Z

    /// Calendar fields of a timestamp, in UTC. `weekday` is ISO: Monday = 1 ... Sunday = 7.
    public struct Components: Equatable, Sendable {
        public var year: Int, month: Int, day: Int
        public var hour: Int, minute: Int, second: Int, millisecond: Int
        public var weekday: Int
    }

    /// Days since 1970-01-01 of a civil date.
    public static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number (days since 1970-01-01).
    public static func civil(days z0: Int64) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }

    public static func milliseconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0,
                                    millisecond: Int = 0) -> Int64 {
        days(year: year, month: month, day: day) * msPerDay + Int64(hour) * msPerHour + Int64(minute) * msPerMinute
            + Int64(second) * msPerSecond + Int64(millisecond)
    }

    public static func components(_ t: Int64) -> Components {
        let day = floorDiv(t, msPerDay)
        var rest = t - day * msPerDay
        let (y, m, d) = civil(days: day)
        let hour = Int(rest / msPerHour); rest %= msPerHour
        let minute = Int(rest / msPerMinute); rest %= msPerMinute
        let second = Int(rest / msPerSecond)
        let ms = Int(rest % msPerSecond)
        // 1970-01-01 was a Thursday (ISO 4).
        let weekday = Int(((day % 7) + 7 + 3) % 7) + 1
        return Components(year: y, month: m, day: d, hour: hour, minute: minute, second: second, millisecond: ms,
                          weekday: weekday)
    }

    /// Floor division (rounds toward negative infinity), for timestamps before 1970.
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// `2017-04-19T09:00:00Z`, with `.123` milliseconds when not zero.
    public static func iso8601(_ t: Int64) -> String {
        let c = components(t)
        var s = pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2) + "T" + pad(c.hour, 2) + ":"
            + pad(c.minute, 2) + ":" + pad(c.second, 2)
        if c.millisecond != 0 { s += "." + pad(c.millisecond, 3) }
        return s + "Z"
    }

    /// `2017-04-19 09:00:00` (pandas' default rendering), or `2017-04-19` with `dateOnly`.
    public static func plain(_ t: Int64, dateOnly: Bool = false) -> String {
        let c = components(t)
        let date = pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2)
        if dateOnly { return date }
        return date + " " + pad(c.hour, 2) + ":" + pad(c.minute, 2) + ":" + pad(c.second, 2)
    }

    /// Parses `YYYY-MM-DD`, `YYYY.MM.DD`, `YYYY-MM-DD HH:MM[:SS[.fff]]`, `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]`.
    /// A missing zone means UTC; an explicit offset is applied. Returns nil for anything else.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        var p = DigitScanner(Array(text.utf8))
        guard let y = p.number(4), p.separator([UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/")]),
              let mo = p.number(2), p.separator([UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/")]),
              let d = p.number(2), (1...12).contains(mo), (1...31).contains(d)
        else { return nil }
        var h = 0, mi = 0, s = 0, ms = 0
        if p.separator([UInt8(ascii: " "), UInt8(ascii: "T")]) {
            guard let hh = p.number(2), p.separator([UInt8(ascii: ":")]), let mm = p.number(2) else { return nil }
            h = hh; mi = mm
            if p.separator([UInt8(ascii: ":")]) {
                guard let ss = p.number(2) else { return nil }
                s = ss
                if p.separator([UInt8(ascii: ".")]) {
                    guard let (frac, digits) = p.fraction() else { return nil }
                    ms = digits >= 3 ? frac / pow10(digits - 3) : frac * pow10(3 - digits)
                }
            }
        }
        guard h < 24, mi < 60, s < 61, d <= daysInMonth(year: y, month: mo) else { return nil }
        var t = milliseconds(year: y, month: mo, day: d, hour: h, minute: mi, second: s, millisecond: ms)
        if p.atEnd { return t }
        if p.separator([UInt8(ascii: "Z")]), p.atEnd { return t }
        if let sign = p.sign(), let oh = p.number(2) {
            _ = p.separator([UInt8(ascii: ":")])
            let om = p.number(2) ?? 0
            guard p.atEnd else { return nil }
            t -= Int64(sign) * (Int64(oh) * msPerHour + Int64(om) * msPerMinute)
            return t
        }
        return nil
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { a, _ in a * 10 } }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// A cursor over ASCII bytes for the date parser.
private struct DigitScanner {
    let bytes: [UInt8]
    var i = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var atEnd: Bool { i == bytes.count }

    mutating func number(_ width: Int) -> Int? {
        guard i + width <= bytes.count else { return nil }
        var v = 0
        for k in 0..<width {
            let b = bytes[i + k]
            guard b >= 48, b <= 57 else { return nil }
            v = v * 10 + Int(b - 48)
        }
        i += width
        return v
    }

    mutating func fraction() -> (Int, Int)? {
        var v = 0, n = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            if n < 9 { v = v * 10 + Int(bytes[i] - 48); n += 1 }
            i += 1
        }
        return n == 0 ? nil : (v, n)
    }

    mutating func separator(_ allowed: [UInt8]) -> Bool {
        guard i < bytes.count, allowed.contains(bytes[i]) else { return false }
        i += 1
        return true
    }

    mutating func sign() -> Int? {
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: "+") { i += 1; return 1 }
        if bytes[i] == UInt8(ascii: "-") { i += 1; return -1 }
        return nil
    }
}
