import Common
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads OHLCV bars from CSV text in the layouts people actually have (see `CSVFormat`): the plain
/// `Date/Datetime,Open,High,Low,Close,Volume` header (the bundled samples), MetaTrader's tab-separated export,
/// split date and time columns, files without a header, and explicit column mapping / date format / time zone.
///
/// Every problem is reported as a `DataError` naming the file, line and field: a malformed number, NaN or
/// infinity, an unparseable time, unsorted or duplicate timestamps, a missing column, and every other rule the
/// store applies (`BarValidator`: low <= open/close <= high, volume >= 0), so a file `aitrader data import`
/// refuses is refused by every command that reads bars, at the same 1-based line (header = line 1). Times without an offset
/// are wall-clock times in `format.timeZone` (UTC by default) and are converted to UTC.
///
///     let bars = try CSVBarReader().read(path: "data/sample/GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
///     bars.count      // 2148
public struct CSVBarReader: Sendable {
    public var format: CSVFormat
    /// Whether rows breaking a `BarValidator` rule are refused (the default) or returned for the caller to
    /// handle: `aitrader data import --quarantine` keeps them so the store can set them aside.
    public var validation: Validation

    public enum Validation: Sendable {
        /// The first row that breaks a bar rule is an error naming its line.
        case reject
        /// Rows that parse are returned even if they break a bar rule (low > high, volume < 0).
        case keepInvalid
    }

    public init(format: CSVFormat = CSVFormat(), validation: Validation = .reject) {
        self.format = format
        self.validation = validation
    }

    public func read(path: String, symbol: String, timeframe: Timeframe) throws(DataError) -> BarSeries {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DataError(file: path, reason: "cannot read file: \(FileProblem.reading(path))")
        }
        return try parse(bytes: [UInt8](data), file: path, symbol: symbol, timeframe: timeframe)
    }

    public func parse(_ text: String, file: String = "<csv>", symbol: String, timeframe: Timeframe)
        throws(DataError) -> BarSeries
    {
        try parse(bytes: Array(text.utf8), file: file, symbol: symbol, timeframe: timeframe)
    }

    public func parse(bytes: [UInt8], file: String = "<csv>", symbol: String, timeframe: Timeframe)
        throws(DataError) -> BarSeries
    {
        var lines = CSVLines(bytes)
        guard let (firstNumber, firstLine) = lines.next() else {
            throw DataError(file: file, reason: "empty file (no header row)")
        }
        let delimiter = format.delimiter ?? CSVLines.detectDelimiter(firstLine, in: bytes)
        var fields: [Range<Int>] = []
        CSVLines.split(bytes, firstLine, delimiter, into: &fields)
        let firstTexts = fields.map { CSVLines.text(bytes, $0) }
        let numericCount = firstTexts.filter { Double($0) != nil }.count
        let hasHeader = format.hasHeader ?? (numericCount < 2)
        let layout = try CSVLayout(header: hasHeader ? firstTexts : nil, sample: firstTexts, format: format,
                                   file: file, headerLine: firstNumber)

        var ts: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = []
        var v: [Double] = [], tickV: [Double] = []
        var lineOfRow: [Int] = []
        let estimate = bytes.count / max(16, firstLine.count)
        ts.reserveCapacity(estimate); o.reserveCapacity(estimate); h.reserveCapacity(estimate)
        l.reserveCapacity(estimate); c.reserveCapacity(estimate); v.reserveCapacity(estimate)

        var pending: (Int, Range<Int>)? = hasHeader ? nil : (firstNumber, firstLine)
        var joined: [UInt8] = []
        while let (lineNumber, line) = pending ?? lines.next() {
            pending = nil
            CSVLines.split(bytes, line, delimiter, into: &fields)
            guard fields.count > layout.maxIndex else {
                throw DataError(file: file, line: lineNumber,
                                reason: "expected \(layout.fieldCount) fields, found \(fields.count)")
            }
            // Time
            var timeBytes = bytes[fields[layout.time]]
            if let tod = layout.timeOfDay {
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: timeBytes)
                joined.append(UInt8(ascii: " "))
                joined.append(contentsOf: bytes[fields[tod]])
                timeBytes = joined[...]
            }
            guard let parsed = format.dateFormat.parse(timeBytes) else {
                throw DataError(file: file, line: lineNumber, field: layout.name(layout.time),
                                reason: "cannot parse time '\(UntrustedText.sanitized(String(decoding: timeBytes.prefix(200), as: UTF8.self), limit: 60))'"
                                    + (format.dateFormat == .auto ? "" : " with format '\(format.dateFormat)'"))
            }
            let t = parsed.isAbsolute || format.timeZone.isUTC ? parsed.milliseconds
                : format.timeZone.utc(fromLocal: parsed.milliseconds)
            if let previous = ts.last, t <= previous {
                throw DataError(file: file, line: lineNumber, field: layout.name(layout.time),
                                reason: t == previous ? "duplicate timestamp \(UTCTime.iso8601(t))"
                                    : "timestamps out of order: \(UTCTime.iso8601(t)) after \(UTCTime.iso8601(previous))")
            }
            ts.append(t)
            lineOfRow.append(lineNumber)
            func number(_ index: Int) throws(DataError) -> Double {
                let r = fields[index]
                guard let value = CSVLines.double(bytes, r) else {
                    throw DataError(file: file, line: lineNumber, field: layout.name(index),
                                    reason: "not a number: '\(CSVLines.text(bytes, r))'")
                }
                guard value.isFinite else {
                    throw DataError(file: file, line: lineNumber, field: layout.name(index),
                                    reason: "value is \(CSVLines.text(bytes, r))")
                }
                return value
            }
            o.append(try number(layout.open))
            h.append(try number(layout.high))
            l.append(try number(layout.low))
            c.append(try number(layout.close))
            if let vi = layout.volume { v.append(try number(vi)) }
            if let ti = layout.tickVolume { tickV.append(try number(ti)) }
        }
        let volume: [Double]
        switch (layout.volume, layout.tickVolume) {
        case (nil, nil): volume = [Double](repeating: 0, count: ts.count)
        case (.some, nil): volume = v
        case (nil, .some): volume = tickV
        case (.some, .some):
            // Both exist (MetaTrader): .auto keeps real volume unless it is all zero, as it is for FX and CFDs.
            switch format.volume {
            case .real: volume = v
            case .tick: volume = tickV
            case .auto: volume = v.allSatisfy { $0 == 0 } ? tickV : v
            }
        }
        let series = BarSeries(symbol: symbol, timeframe: timeframe, timestamps: ts, open: o, high: h, low: l, close: c,
                               volume: volume)
        if validation == .reject {
            try Self.refuseInvalid(series, file: file, line: { lineOfRow[$0] }, field: { rule in
                switch rule {
                case .negativeVolume: layout.name(layout.volume ?? layout.tickVolume ?? layout.close)
                case .duplicateTimestamp, .timestampOrder: layout.name(layout.time)
                case .nonFinite, .ohlcConsistency: nil
                }
            })
        }
        return series
    }

    /// Throws for the first row of `series` that breaks a `BarValidator` rule, located by `line(row)` and
    /// `field(rule)`; the message counts the other bad rows.
    static func refuseInvalid(_ series: BarSeries, file: String, line: (Int) -> Int?, field: (ValidationRule) -> String?)
        throws(DataError)
    {
        let report = BarValidator().validate(series)
        guard let first = report.issues.first else { return }
        let others = report.badRows.count - 1
        throw DataError(file: file, line: line(first.index), field: field(first.rule),
                        reason: "\(first.message) (rule \(first.rule.rawValue))"
                            + (others > 0 ? "; \(others) more invalid row(s) after it" : ""))
    }
}

/// The resolved column positions of one file.
struct CSVLayout {
    var time: Int
    var timeOfDay: Int?
    var open: Int, high: Int, low: Int, close: Int
    var volume: Int?
    var tickVolume: Int?
    var names: [String]
    var fieldCount: Int
    var maxIndex: Int {
        [time, timeOfDay ?? 0, open, high, low, close, volume ?? 0, tickVolume ?? 0].max()!
    }

    func name(_ index: Int) -> String {
        index < names.count && !names[index].isEmpty ? names[index] : "time"
    }

    static let timeNames = ["date", "datetime", "date_time", "timestamp", "time", "", "gmt time", "local time", "ts",
                            "t", "open_time", "open time", "epoch", "unix"]
    static let realVolumeNames = ["volume", "vol", "real_volume", "realvolume"]
    static let tickVolumeNames = ["tickvol", "tick_volume", "tickvolume", "ticks"]

    /// `<TICKVOL>` -> `tickvol`, `"Close"` -> `close`.
    static func normalise(_ name: String) -> String {
        var s = name.trimmingCharacters(in: .whitespaces).lowercased()
        if s.hasPrefix("<") && s.hasSuffix(">") && s.count >= 2 { s = String(s.dropFirst().dropLast()) }
        return s
    }

    init(header: [String]?, sample: [String], format: CSVFormat, file: String, headerLine: Int) throws(DataError) {
        let mapping = format.columns
        fieldCount = header?.count ?? sample.count
        if let header {
            names = header.map { $0.trimmingCharacters(in: .whitespaces) }
            let normal = header.map(Self.normalise)
            func find(_ explicit: CSVColumn?, _ candidates: [String], role: String, required: Bool) throws(DataError) -> Int? {
                if let explicit {
                    switch explicit {
                    case .index(let i):
                        guard i < normal.count else {
                            throw DataError(file: file, line: headerLine, field: role,
                                            reason: "column #\(i) does not exist (the header has \(normal.count))")
                        }
                        return i
                    case .name(let n):
                        if let i = normal.firstIndex(of: Self.normalise(n)) { return i }
                        throw DataError(file: file, line: headerLine, field: role,
                                        reason: "no column named '\(n)' (header: \(header.joined(separator: "|")))")
                    }
                }
                for candidate in candidates { if let i = normal.firstIndex(of: candidate) { return i } }
                if required {
                    throw DataError(file: file, line: headerLine, field: role.capitalized,
                                    reason: "missing column (header is '\(header.joined(separator: "|"))')")
                }
                return nil
            }
            // Split date and time columns (MetaTrader `<DATE> <TIME>`, `Date,Time`), unless mapped explicitly.
            if mapping.time == nil, mapping.timeOfDay == nil, let d = normal.firstIndex(of: "date"),
               let t = normal.firstIndex(of: "time") {
                time = d
                timeOfDay = t
            } else {
                time = try find(mapping.time, Self.timeNames, role: "time", required: true)!
                timeOfDay = try find(mapping.timeOfDay, [], role: "timeofday", required: false)
            }
            open = try find(mapping.open, ["open", "o"], role: "open", required: true)!
            high = try find(mapping.high, ["high", "h"], role: "high", required: true)!
            low = try find(mapping.low, ["low", "l"], role: "low", required: true)!
            close = try find(mapping.close, ["close", "c"], role: "close", required: true)!
            if mapping.volume != nil {
                volume = try find(mapping.volume, [], role: "volume", required: true)
                tickVolume = nil
            } else {
                volume = try find(nil, Self.realVolumeNames + (format.volume == .real ? [] : ["v"]), role: "volume",
                                  required: false)
                tickVolume = try find(nil, Self.tickVolumeNames, role: "tickvol", required: false)
                if format.volume == .real, volume == nil, tickVolume != nil {
                    throw DataError(file: file, line: headerLine, field: "Volume",
                                    reason: "real volume requested but the file only has tick volume")
                }
            }
        } else {
            // No header: `time,open,high,low,close[,volume]` or `date,time,open,high,low,close[,volume]`.
            names = []
            let split = sample.count > 1 && sample[1].contains(":") && !sample[1].contains("-")
                && Double(sample[1]) == nil
            let base = split ? 1 : 0
            func pick(_ explicit: CSVColumn?, _ fallback: Int, role: String) throws(DataError) -> Int {
                switch explicit {
                case .index(let i)?: return i
                case .name(let n)?:
                    throw DataError(file: file, line: headerLine, field: role,
                                    reason: "column '\(n)' chosen by name, but the file has no header row")
                case nil: return fallback
                }
            }
            time = try pick(mapping.time, 0, role: "time")
            timeOfDay = split || mapping.timeOfDay != nil ? try pick(mapping.timeOfDay, 1, role: "timeofday") : nil
            open = try pick(mapping.open, base + 1, role: "open")
            high = try pick(mapping.high, base + 2, role: "high")
            low = try pick(mapping.low, base + 3, role: "low")
            close = try pick(mapping.close, base + 4, role: "close")
            let v = try pick(mapping.volume, base + 5, role: "volume")
            volume = v < sample.count ? v : nil
            tickVolume = nil
            let roles = [(time, "time"), (open, "Open"), (high, "High"), (low, "Low"), (close, "Close"),
                         (volume ?? -1, "Volume")]
            names = (0..<sample.count).map { i in roles.first { $0.0 == i }?.1 ?? "#\(i)" }
        }
    }
}
