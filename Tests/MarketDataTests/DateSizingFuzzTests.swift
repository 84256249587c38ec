import Common
import Foundation
import Testing
@testable import MarketData

/// Structure-aware fuzzing of timestamps: for every date format the CSV reader accepts (auto/ISO, epoch seconds,
/// epoch milliseconds, strftime patterns with and without zones) and several time zones, time fields are built
/// from hostile parts (year 0000 and 9999, 19-digit and exponent epochs, inf/nan, offsets of ±99:99, the edges of
/// Int64) mixed with valid ones. Each file must parse to bars whose times lie in `UTCTime.supportedRange`, or fail
/// with a DataError naming the time field — never trap on an overflowing conversion. Seeded; AITRADER_FUZZ_ROUNDS
/// for a longer search (default 200 per format).
@Suite struct DateSizingFuzzTests {
    static var rounds: Int { ProcessInfo.processInfo.environment["AITRADER_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 200 }

    static let epochs = ["1e300", "-1e300", "1e15", "9.3e15", "inf", "-inf", "nan", "9223372036854775807",
                         "-9223372036854775808", "999999999999999999", "-999999999999999999", "253402300799",
                         "253402300800", "-62135596800", "-62135596801", "1700000000", "1700000000123", "0", "-1", "1.5e9"]
    static let years = ["0000", "0001", "1969", "1970", "2024", "9999", "99999", "-001"]
    static let zones = ["Z", "+00:00", "-14:00", "+14:00", "+99:99", "-99", "+2359", ""]

    static func field(_ format: DateFormat, _ rng: inout SplitMix64) -> String {
        func pick(_ a: [String]) -> String { a[Int(rng.next() % UInt64(a.count))] }
        let mo = pick(["01", "12", "02", "13", "00"]), d = pick(["01", "29", "31", "00", "32"])
        let hms = pick(["00:00:00", "23:59:59", "23:59:60", "24:00:00", "12:30:00.999999"])
        switch format {
        case .epochSeconds, .epochMilliseconds: return pick(epochs)
        case .auto: return rng.next() % 3 == 0 ? pick(epochs) : "\(pick(years))-\(mo)-\(d)T\(hms)\(pick(zones))"
        case .pattern(let p) where p.contains("%z"): return "\(pick(years)).\(mo).\(d) \(hms.prefix(8)) \(pick(zones))"
        case .pattern: return "\(pick(years)).\(mo).\(d) \(hms.prefix(8))"
        }
    }

    @Test func hostileTimestampsInEveryFormat() throws {
        let formats: [DateFormat] = [.auto, .epochSeconds, .epochMilliseconds, .pattern("%Y.%m.%d %H:%M:%S"),
                                     .pattern("%Y.%m.%d %H:%M:%S %z")]
        let zones = [TimeZoneRule.utc, .newYork, try TimeZoneRule(parsing: "+05:30")]
        for (f, format) in formats.enumerated() {
            for round in 0..<Self.rounds {
                let seed = UInt64(f) << 32 | UInt64(round)
                var rng = SplitMix64(seed: seed)
                let zone = zones[Int(rng.next() % UInt64(zones.count))]
                let first = Self.field(format, &rng)
                // Direct: whatever parses is inside the supported range.
                if let t = format.parse(Array(first.utf8)[...]) {
                    #expect(UTCTime.supportedRange.contains(t.milliseconds), "\(format) '\(first)' -> \(t.milliseconds) (seed \(seed))")
                }
                let csv = "time,open,high,low,close,volume\n\(first),1,2,0.5,1.5,10\n"
                do {
                    let bars = try CSVBarReader(format: CSVFormat(delimiter: UInt8(ascii: ","), hasHeader: true, dateFormat: format,
                                                                  timeZone: zone))
                        .parse(bytes: Array(csv.utf8), file: "t.csv", symbol: "X", timeframe: .h1)
                    for t in bars.timestamps.array {
                        #expect(UTCTime.supportedRange.contains(t) || bars.count == 0,
                                "\(format) '\(first)' in \(zone) -> \(t) (seed \(seed))")
                    }
                } catch {
                    #expect("\(error)".contains("t.csv"), "\(error) (seed \(seed))")
                }
            }
        }
    }

    @Test func epochBoundsAreExact() {
        #expect(DateFormat.epochSeconds.parse(Array("1e20".utf8)[...]) == nil)     // was: Int64(1e23) trapped
        #expect(DateFormat.epochSeconds.parse(Array("253402300799".utf8)[...])?.milliseconds == 253_402_300_799_000)
        #expect(DateFormat.epochSeconds.parse(Array("253402300800".utf8)[...]) == nil)
        #expect(DateFormat.epochMilliseconds.parse(Array("999999999999999999".utf8)[...]) == nil)
        #expect(DateFormat.auto.parse(Array("9999-12-31T23:59:59Z".utf8)[...]) != nil)
        #expect(DateFormat.auto.parse(Array("9999-12-31T23:59:59-01:00".utf8)[...]) == nil)
        #expect(UTCTime.supportedRange.lowerBound == UTCTime.milliseconds(year: 1, month: 1, day: 1))
        #expect(UTCTime.supportedRange.upperBound
                == UTCTime.milliseconds(year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, millisecond: 999))
    }
}
