import Common
import Foundation

/// How a CSV file of bars is laid out. The default (`CSVFormat()`) detects everything: delimiter (comma, tab or
/// semicolon), header or none, the plain `Date/Datetime,Open,High,Low,Close,Volume` layout (the time column may be
/// unnamed, as pandas writes it), MetaTrader's tab-separated export (`<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE>
/// <TICKVOL> <VOL> <SPREAD>`, dates `2017.04.19`, times `09:00:00`), and split `Date,Time` columns.
///
/// Explicit options override detection:
///
///     var f = CSVFormat()
///     f.columns = try CSVColumnMapping(parsing: "time=Timestamp,open=o,high=h,low=l,close=c,volume=v")
///     f.dateFormat = try DateFormat(parsing: "%d/%m/%Y %H:%M")
///     f.timeZone = try TimeZoneRule(parsing: "America/New_York")   // naive times are New York wall-clock
///     try CSVBarReader(format: f).read(path: "bars.csv", symbol: "SPY", timeframe: .m5)
///
///     try CSVBarReader(format: .metaTrader).read(path: "EURUSDH1.csv", symbol: "EURUSD", timeframe: .h1)
public struct CSVFormat: Sendable, Equatable {
    /// Field separator; nil detects comma, tab or semicolon from the first line.
    public var delimiter: UInt8?
    /// Whether the first line names the columns; nil detects it (a header's price fields are not numbers).
    public var hasHeader: Bool?
    /// Which columns hold what; nil fields are found by name (or by position without a header).
    public var columns: CSVColumnMapping
    public var dateFormat: DateFormat
    /// The zone of times written without an offset (MetaTrader exports are in the broker's server time).
    public var timeZone: TimeZoneRule
    /// Which MetaTrader volume to use when both exist: tick volume (the only one for FX/CFDs) or real volume.
    public var volume: VolumeChoice

    public enum VolumeChoice: String, Sendable, Equatable {
        /// `<VOL>`/`Volume` when present and not all zero, else tick volume.
        case auto
        case tick
        case real
    }

    public init(delimiter: UInt8? = nil, hasHeader: Bool? = nil, columns: CSVColumnMapping = CSVColumnMapping(),
                dateFormat: DateFormat = .auto, timeZone: TimeZoneRule = .utc, volume: VolumeChoice = .auto) {
        self.delimiter = delimiter
        self.hasHeader = hasHeader
        self.columns = columns
        self.dateFormat = dateFormat
        self.timeZone = timeZone
        self.volume = volume
    }

    /// `Date/Datetime,Open,High,Low,Close,Volume` with a header, comma separated.
    public static let plain = CSVFormat(delimiter: UInt8(ascii: ","), hasHeader: true)
    /// MetaTrader 5 "Export bars": tab separated, `<DATE>\t<TIME>\t<OPEN>...<TICKVOL>\t<VOL>\t<SPREAD>`, tick volume.
    public static let metaTrader = CSVFormat(delimiter: UInt8(ascii: "\t"), hasHeader: true, volume: .tick)

    /// A named preset: `auto`, `plain`, `mt5` (or `metatrader`).
    public init(preset: String) throws(DataError) {
        switch preset.lowercased() {
        case "auto", "": self = CSVFormat()
        case "plain", "csv", "pandas": self = .plain
        case "mt5", "mt4", "metatrader": self = .metaTrader
        default:
            throw DataError(file: "<options>", field: "format", reason: "unknown CSV format '\(preset)' (auto, plain, mt5)")
        }
    }

    /// `,` `tab` `\t` `;` `|` as a delimiter byte.
    public static func delimiter(parsing text: String) throws(DataError) -> UInt8 {
        switch text {
        case ",", "comma": return UInt8(ascii: ",")
        case "\t", "\\t", "tab": return UInt8(ascii: "\t")
        case ";", "semicolon": return UInt8(ascii: ";")
        case "|", "pipe": return UInt8(ascii: "|")
        case " ", "space": return UInt8(ascii: " ")
        default: throw DataError(file: "<options>", field: "delimiter", reason: "unsupported delimiter '\(text)'")
        }
    }
}

/// A column chosen by header name (case-insensitive, `<...>` brackets ignored) or by 0-based position.
public enum CSVColumn: Sendable, Equatable, CustomStringConvertible {
    case name(String)
    case index(Int)

    public init(parsing text: String) {
        if let i = Int(text), i >= 0 { self = .index(i) } else { self = .name(text) }
    }

    public var description: String {
        switch self {
        case .name(let n): n
        case .index(let i): "#\(i)"
        }
    }
}

/// Explicit column choices; any left nil is found by the usual names.
///
///     try CSVColumnMapping(parsing: "date=Day,time=Hour,open=O,high=H,low=L,close=C,volume=Vol")
///     try CSVColumnMapping(parsing: "time=0,open=1,high=2,low=3,close=4,volume=5")   // positions
public struct CSVColumnMapping: Sendable, Equatable {
    /// The full timestamp, or the date part when `timeOfDay` is also given.
    public var time: CSVColumn?
    /// A separate time-of-day column (MetaTrader `<TIME>`, `Date,Time` files).
    public var timeOfDay: CSVColumn?
    public var open: CSVColumn?, high: CSVColumn?, low: CSVColumn?, close: CSVColumn?, volume: CSVColumn?

    public init(time: CSVColumn? = nil, timeOfDay: CSVColumn? = nil, open: CSVColumn? = nil, high: CSVColumn? = nil,
                low: CSVColumn? = nil, close: CSVColumn? = nil, volume: CSVColumn? = nil) {
        self.time = time
        self.timeOfDay = timeOfDay
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    public init(parsing text: String) throws(DataError) {
        self.init()
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[1].isEmpty else {
                throw DataError(file: "<options>", field: "columns", reason: "expected role=column, got '\(pair)'")
            }
            let column = CSVColumn(parsing: parts[1])
            switch parts[0].lowercased() {
            case "time", "datetime", "timestamp", "date": time = column
            case "timeofday", "clock", "hour": timeOfDay = column
            case "open", "o": open = column
            case "high", "h": high = column
            case "low", "l": low = column
            case "close", "c": close = column
            case "volume", "vol", "v": volume = column
            default:
                throw DataError(file: "<options>", field: "columns",
                                reason: "unknown role '\(parts[0])' (time, timeofday, open, high, low, close, volume)")
            }
        }
    }
}
