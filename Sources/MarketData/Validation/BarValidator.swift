import Common

/// A rule a stored bar must satisfy.
public enum ValidationRule: String, Sendable, CaseIterable, Codable {
    /// An open, high, low, close or volume is NaN or infinite.
    case nonFinite = "non_finite"
    /// Not `low <= open <= high`, `low <= close <= high` (which implies `low <= high`).
    case ohlcConsistency = "ohlc_consistency"
    /// Volume below zero.
    case negativeVolume = "negative_volume"
    /// The same timestamp as an earlier accepted bar.
    case duplicateTimestamp = "duplicate_timestamp"
    /// Earlier than an earlier accepted bar.
    case timestampOrder = "timestamp_order"
}

/// One broken rule on one row.
public struct ValidationIssue: Equatable, Sendable, CustomStringConvertible {
    /// Row index in the validated series.
    public var index: Int
    public var timestamp: Int64
    public var rule: ValidationRule
    /// The whole bar, as found.
    public var bar: Bar
    public var message: String

    public var description: String {
        "row \(index) (\(UTCTime.iso8601(timestamp))): \(rule.rawValue): \(message) "
            + "[o=\(bar.open) h=\(bar.high) l=\(bar.low) c=\(bar.close) v=\(bar.volume)]"
    }
}

/// Everything wrong with a series, row by row.
///
///     let report = BarValidator().validate(series)
///     if !report.isClean { print(report) }    // "EURUSD 1h: 2 of 5000 rows rejected ...", then one line per issue
public struct ValidationReport: Equatable, Sendable, CustomStringConvertible {
    public var symbol: String
    public var timeframe: Timeframe
    public var rowsChecked: Int
    /// In row order; a row may break several rules.
    public var issues: [ValidationIssue]

    public var isClean: Bool { issues.isEmpty }
    /// Indices of rows that broke at least one rule, ascending.
    public var badRows: [Int] { Array(Set(issues.map(\.index))).sorted() }
    public func count(of rule: ValidationRule) -> Int { issues.filter { $0.rule == rule }.count }

    public var description: String {
        guard !isClean else { return "\(symbol) \(timeframe): \(rowsChecked) rows, all valid" }
        let rules = ValidationRule.allCases.compactMap { r -> String? in
            let n = count(of: r)
            return n == 0 ? nil : "\(r.rawValue)=\(n)"
        }
        var text = "\(symbol) \(timeframe): \(badRows.count) of \(rowsChecked) rows invalid (\(rules.joined(separator: ", ")))"
        for issue in issues.prefix(20) { text += "\n  " + issue.description }
        if issues.count > 20 { text += "\n  ... and \(issues.count - 20) more" }
        return text
    }
}

/// Thrown when a write is refused because rows are invalid (policy `.reject`); nothing was written.
public struct ValidationFailed: Error, CustomStringConvertible, Sendable {
    public var report: ValidationReport
    public var description: String { "validation failed, nothing written: " + report.description }
}

/// What a store does with invalid rows.
public enum BadRowPolicy: String, Sendable {
    /// Refuse the whole write with a `ValidationFailed` report (the default).
    case reject
    /// Write the good rows; save the bad ones to a quarantine file and flag the dataset in the metadata.
    case quarantine
}

/// Checks bars before they are stored: finite values, OHLC consistency, non-negative volume, strictly
/// increasing unique timestamps.
///
///     let report = BarValidator().validate(series)
///     let (good, bad) = BarValidator.split(series, report: report)   // bad rows keep their original values
public struct BarValidator: Sendable {
    public init() {}

    public func validate(_ series: BarSeries) -> ValidationReport {
        var issues: [ValidationIssue] = []
        var lastAccepted: Int64?
        for i in 0..<series.count {
            let bar = series[i]
            func flag(_ rule: ValidationRule, _ message: String) {
                issues.append(ValidationIssue(index: i, timestamp: bar.timestamp, rule: rule, bar: bar, message: message))
            }
            let allFinite = bar.open.isFinite && bar.high.isFinite && bar.low.isFinite && bar.close.isFinite
                && bar.volume.isFinite
            if !allFinite {
                let named = [("open", bar.open), ("high", bar.high), ("low", bar.low), ("close", bar.close),
                             ("volume", bar.volume)]
                flag(.nonFinite, named.filter { !$0.1.isFinite }.map(\.0).joined(separator: ", ") + " not finite")
            } else {
                if !(bar.low <= bar.high) {
                    flag(.ohlcConsistency, "low \(bar.low) > high \(bar.high)")
                } else {
                    var broken: [String] = []
                    if bar.open < bar.low || bar.open > bar.high { broken.append("open \(bar.open)") }
                    if bar.close < bar.low || bar.close > bar.high { broken.append("close \(bar.close)") }
                    if !broken.isEmpty {
                        flag(.ohlcConsistency, broken.joined(separator: ", ") + " outside [\(bar.low), \(bar.high)]")
                    }
                }
                if bar.volume < 0 { flag(.negativeVolume, "volume \(bar.volume) < 0") }
            }
            if let last = lastAccepted, bar.timestamp <= last {
                if bar.timestamp == last {
                    flag(.duplicateTimestamp, "timestamp repeats an earlier bar")
                } else {
                    flag(.timestampOrder, "timestamp before the previous bar \(UTCTime.iso8601(last))")
                }
            } else {
                lastAccepted = bar.timestamp
            }
        }
        return ValidationReport(symbol: series.symbol, timeframe: series.timeframe, rowsChecked: series.count, issues: issues)
    }

    /// The valid rows and the invalid ones, as two series (same symbol and timeframe).
    public static func split(_ series: BarSeries, report: ValidationReport) -> (good: BarSeries, bad: BarSeries) {
        guard !report.isClean else { return (series, .empty(symbol: series.symbol, timeframe: series.timeframe)) }
        var isBad = [Bool](repeating: false, count: series.count)
        for i in report.badRows { isBad[i] = true }
        func pick(_ wantBad: Bool) -> BarSeries {
            let rows = (0..<series.count).filter { isBad[$0] == wantBad }
            return BarSeries(symbol: series.symbol, timeframe: series.timeframe,
                             timestamps: rows.map { series.timestamps[$0] }, open: rows.map { series.open[$0] },
                             high: rows.map { series.high[$0] }, low: rows.map { series.low[$0] },
                             close: rows.map { series.close[$0] }, volume: rows.map { series.volume[$0] })
        }
        return (pick(false), pick(true))
    }
}
