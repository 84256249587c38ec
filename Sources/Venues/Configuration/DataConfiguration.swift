import Common
import MarketData
import Foundation

/// A configuration value that parses as YAML but means nothing valid, located like a `YAMLError`.
/// (Loading throws `YAMLError` for malformed YAML and unknown keys, `ConfigurationError` for bad values.)
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String

    public init(_ node: YAMLNode, _ message: String) {
        file = node.file
        line = node.line
        column = node.column
        self.message = node.path.isEmpty ? message : "'\(node.path)': \(message)"
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// `configs/data.yaml`: data root, resampling boundaries, source settings and the datasets to keep current.
/// Unknown keys are errors (typos are caught), and every error names the file, line and key.
///
///     let config = try DataConfiguration.load(path: "configs/data.yaml")
///     let source = try config.source(named: "alpaca")       // keys from the environment
///     for d in config.datasets { ... d.symbol, d.timeframe, d.calendar ... }
public struct DataConfiguration: Sendable {
    public var dataRoot: String
    public var bins: BinCalendar
    public var csv: CSVSettings
    public var alpaca: AlpacaConfiguration
    public var mt5: MT5Settings
    public var datasets: [Dataset]

    public struct CSVSettings: Sendable {
        public var directory: String
        public var format: CSVFormat
    }

    public struct MT5Settings: Sendable {
        public var host = "127.0.0.1"
        public var port = 18812
        public var token: String?
        public var serverTimeZone = TimeZoneRule.utc
        public var retries = 3
        public var timeout = 30.0
    }

    public struct Dataset: Sendable, Equatable {
        public var symbol: String
        public var timeframe: Timeframe
        public var source: String
        public var calendar: MarketCalendar?
        /// Where `data update` starts when nothing is stored yet.
        public var start: Int64?

        public init(symbol: String, timeframe: Timeframe, source: String, calendar: MarketCalendar? = nil,
                    start: Int64? = nil) {
            self.symbol = symbol
            self.timeframe = timeframe
            self.source = source
            self.calendar = calendar
            self.start = start
        }
    }

    public init() {
        dataRoot = "./data"
        bins = .utc
        csv = CSVSettings(directory: "./data/sample", format: CSVFormat())
        alpaca = .fromEnvironment()
        mt5 = MT5Settings()
        datasets = []
    }

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> DataConfiguration
    {
        try parse(try YAMLNode.load(path: path), environment: environment)
    }

    public static func parse(_ root: YAMLNode, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> DataConfiguration
    {
        var c = DataConfiguration()
        c.alpaca = .fromEnvironment(environment)
        c.mt5.token = environment["AITRADER_MT5_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        try root.checkKeys(["data_root", "resample", "sources", "datasets"])
        c.dataRoot = try root.string("data_root", default: c.dataRoot)
        if let r = root["resample"] {
            try r.checkKeys(["time_zone", "day_start"])
            let zone = try zoneRule(r["time_zone"]) ?? .utc
            var hour = 0, minute = 0
            if let node = r["day_start"] {
                let text = try node.string()
                let parts = text.split(separator: ":").compactMap { Int($0) }
                guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                    throw ConfigurationError(node, "expected HH:MM, found '\(text)'")
                }
                (hour, minute) = (parts[0], parts[1])
            }
            c.bins = BinCalendar(timeZone: zone, dayStartHour: hour, dayStartMinute: minute)
        }
        if let sources = root["sources"] {
            try sources.checkKeys(["csv", "alpaca", "mt5"])
            if let n = sources["csv"] {
                try n.checkKeys(["directory", "format", "date_format", "time_zone", "delimiter", "columns", "volume"])
                c.csv.directory = try n.string("directory", default: c.csv.directory)
                c.csv.format = try csvFormat(n)
            }
            if let n = sources["alpaca"] {
                try n.checkKeys(["data_url", "trading_url", "feed", "adjustment", "requests_per_minute", "page_limit",
                                 "retries", "timeout_s", "crypto_location", "key_id", "secret_key"])
                var a = c.alpaca
                a.dataURL = try n.string("data_url", default: a.dataURL)
                a.tradingURL = try n.string("trading_url", default: a.tradingURL)
                a.feed = try n["feed"]?.string() ?? a.feed
                a.adjustment = try n.string("adjustment", default: a.adjustment)
                a.requestsPerMinute = max(1, try n.int("requests_per_minute", default: a.requestsPerMinute))
                a.pageLimit = min(10_000, max(1, try n.int("page_limit", default: a.pageLimit)))
                a.retry.maxAttempts = max(1, try n.int("retries", default: a.retry.maxAttempts))
                a.timeout = try n.double("timeout_s", default: a.timeout)
                a.cryptoLocation = try n.string("crypto_location", default: a.cryptoLocation)
                if a.keyID == nil { a.keyID = try n["key_id"]?.string() }
                if a.secretKey == nil { a.secretKey = try n["secret_key"]?.string() }
                c.alpaca = a
            }
            if let n = sources["mt5"] {
                try n.checkKeys(["host", "port", "token", "server_time_zone", "retries", "timeout_s"])
                c.mt5.host = try n.string("host", default: c.mt5.host)
                c.mt5.port = try n.int("port", default: c.mt5.port)
                if c.mt5.token == nil { c.mt5.token = try n["token"]?.string() }
                c.mt5.serverTimeZone = try zoneRule(n["server_time_zone"]) ?? .utc
                c.mt5.retries = max(1, try n.int("retries", default: c.mt5.retries))
                c.mt5.timeout = try n.double("timeout_s", default: c.mt5.timeout)
            }
        }
        if let list = root["datasets"] {
            for item in try list.sequence() {
                try item.checkKeys(["symbol", "timeframe", "source", "calendar", "start"])
                let tfNode = try item.require("timeframe")
                let timeframe: Timeframe
                let tfText = try tfNode.string()
                do { timeframe = try Timeframe(parsing: tfText) } catch {
                    throw ConfigurationError(tfNode, error.description)
                }
                var calendar: MarketCalendar?
                if let node = item["calendar"] {
                    let text = try node.string()
                    do { calendar = try MarketCalendar(parsing: text) } catch {
                        throw ConfigurationError(node, error.description)
                    }
                }
                var start: Int64?
                if let node = item["start"] {
                    guard let t = UTCTime.parse(try node.string()) else {
                        throw ConfigurationError(node, "expected a date like 2024-01-01")
                    }
                    start = t
                }
                let source = try item.string("source", default: "csv")
                guard ["csv", "alpaca", "mt5"].contains(source) else {
                    throw ConfigurationError(item, "unknown source '\(source)' (csv, alpaca, mt5)")
                }
                c.datasets.append(Dataset(symbol: try item.require("symbol").string(), timeframe: timeframe,
                                          source: source, calendar: calendar, start: start))
            }
        }
        return c
    }

    static func zoneRule(_ node: YAMLNode?) throws -> TimeZoneRule? {
        guard let node else { return nil }
        let text = try node.string()
        do { return try TimeZoneRule(parsing: text) } catch {
            throw ConfigurationError(node, error.description)
        }
    }

    static func csvFormat(_ n: YAMLNode) throws -> CSVFormat {
        func wrap<T>(_ node: YAMLNode, _ body: (String) throws(DataError) -> T) throws -> T {
            let text = try node.string()
            do { return try body(text) } catch {
                throw ConfigurationError(node, error.reason)
            }
        }
        var f = CSVFormat()
        if let node = n["format"] { f = try wrap(node) { s throws(DataError) in try CSVFormat(preset: s) } }
        if let node = n["date_format"] { f.dateFormat = try wrap(node) { s throws(DataError) in try DateFormat(parsing: s) } }
        if let node = n["delimiter"] { f.delimiter = try wrap(node) { s throws(DataError) in try CSVFormat.delimiter(parsing: s) } }
        if let node = n["columns"] { f.columns = try wrap(node) { s throws(DataError) in try CSVColumnMapping(parsing: s) } }
        if let node = n["volume"] {
            f.volume = try wrap(node) { s throws(DataError) in
                guard let v = CSVFormat.VolumeChoice(rawValue: s) else {
                    throw DataError(file: "<config>", reason: "volume must be auto, tick or real")
                }
                return v
            }
        }
        if let zone = try zoneRule(n["time_zone"]) { f.timeZone = zone }
        return f
    }

    /// A configured source by name: `csv`, `alpaca`, `mt5` (the MT5 token must be set).
    public func source(named name: String) throws(SourceError) -> any DataSource {
        switch name {
        case "csv": return CSVSource(directory: csv.directory, format: csv.format, bins: bins)
        case "alpaca":
            try alpaca.validate()
            return AlpacaSource(configuration: alpaca)
        case "mt5":
            guard let token = mt5.token else {
                throw .unauthorized("the MT5 bridge token is not set (AITRADER_MT5_TOKEN or sources.mt5.token)")
            }
            return MT5Source(configuration: MT5Configuration(host: mt5.host, port: mt5.port, token: token,
                                                             serverTimeZone: mt5.serverTimeZone, timeout: mt5.timeout,
                                                             retry: RetryPolicy(maxAttempts: mt5.retries)))
        default: throw .invalidRequest("unknown source '\(name)' (csv, alpaca, mt5)")
        }
    }
}
