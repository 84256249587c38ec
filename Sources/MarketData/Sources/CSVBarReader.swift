import Common
import Foundation

/// Reads OHLCV bars from CSV text in the common `Date/Datetime,Open,High,Low,Close,Volume` layout (a header row;
/// the time column may be unnamed, as pandas writes it; column names are matched case-insensitively; extra columns
/// are ignored).
///
/// Every problem is reported as a `DataError` naming the file, line and field: a malformed number, NaN or
/// infinity, an unparseable time, unsorted or duplicate timestamps. Times without a zone are UTC.
///
///     let bars = try CSVBarReader().read(path: "data/sample/GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
///     bars.count      // 2148
public struct CSVBarReader: Sendable {
    public init() {}

    public func read(path: String, symbol: String, timeframe: Timeframe) throws(DataError) -> BarSeries {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DataError(file: path, reason: "cannot read file: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError(file: path, reason: "not UTF-8 text")
        }
        return try parse(text, file: path, symbol: symbol, timeframe: timeframe)
    }

    public func parse(_ text: String, file: String = "<csv>", symbol: String, timeframe: Timeframe)
        throws(DataError) -> BarSeries
    {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        guard let headerLine = lines.first else { throw DataError(file: file, reason: "empty file (no header row)") }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }

        func column(_ names: [String], required: Bool = true) throws(DataError) -> Int? {
            if let i = header.firstIndex(where: { names.contains($0) }) { return i }
            if required {
                throw DataError(file: file, line: 1, field: names[0],
                                reason: "missing column (header is '\(headerLine)')")
            }
            return nil
        }
        let timeIndex = try column(["date", "datetime", "time", "timestamp", ""])!
        let openIndex = try column(["open"])!
        let highIndex = try column(["high"])!
        let lowIndex = try column(["low"])!
        let closeIndex = try column(["close"])!
        let volumeIndex = try column(["volume", "vol", "tickvol", "tick_volume"], required: false)
        let fieldNames = ["Open", "High", "Low", "Close", "Volume"]

        var ts: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = [], v: [Double] = []
        let n = lines.count - 1
        ts.reserveCapacity(n); o.reserveCapacity(n); h.reserveCapacity(n); l.reserveCapacity(n)
        c.reserveCapacity(n); v.reserveCapacity(n)

        for lineIndex in 1..<lines.count {
            let lineNumber = lineIndex + 1
            let fields = lines[lineIndex].split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count >= header.count else {
                throw DataError(file: file, line: lineNumber,
                                reason: "expected \(header.count) fields, found \(fields.count)")
            }
            let timeText = fields[timeIndex].trimmingCharacters(in: .whitespaces)
            guard let t = UTCTime.parse(timeText) ?? Int64(timeText).map({ $0 < 100_000_000_000 ? $0 * 1000 : $0 }) else {
                throw DataError(file: file, line: lineNumber, field: header[timeIndex].isEmpty ? "time" : header[timeIndex],
                                reason: "cannot parse time '\(timeText)'")
            }
            if let previous = ts.last, t <= previous {
                throw DataError(file: file, line: lineNumber, field: "time",
                                reason: t == previous ? "duplicate timestamp \(UTCTime.iso8601(t))"
                                    : "timestamps out of order: \(UTCTime.iso8601(t)) after \(UTCTime.iso8601(previous))")
            }
            var values = [0.0, 0.0, 0.0, 0.0, 0.0]
            for (k, index) in [openIndex, highIndex, lowIndex, closeIndex, volumeIndex ?? -1].enumerated() where index >= 0 {
                let raw = fields[index].trimmingCharacters(in: .whitespaces)
                guard let value = Double(raw) else {
                    throw DataError(file: file, line: lineNumber, field: fieldNames[k], reason: "not a number: '\(raw)'")
                }
                guard value.isFinite else {
                    throw DataError(file: file, line: lineNumber, field: fieldNames[k], reason: "value is \(raw)")
                }
                values[k] = value
            }
            ts.append(t); o.append(values[0]); h.append(values[1]); l.append(values[2]); c.append(values[3])
            v.append(values[4])
        }
        return BarSeries(symbol: symbol, timeframe: timeframe, timestamps: ts, open: o, high: h, low: l, close: c,
                         volume: v)
    }
}
