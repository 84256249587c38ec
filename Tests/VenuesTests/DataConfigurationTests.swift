import Common
import Foundation
import Testing
import MarketData
@testable import Venues

@Suite struct DataConfigurationTests {
    @Test func loadsTheShippedConfiguration() throws {
        let path = Samples.root.appendingPathComponent("configs/data.yaml").path
        let c = try DataConfiguration.load(path: path, environment: ["APCA_API_KEY_ID": "k", "APCA_API_SECRET_KEY": "s"])
        #expect(c.dataRoot == "./data")
        #expect(c.bins == .utc)
        #expect(c.csv.directory == "./data/sample")
        #expect(c.alpaca.feed == "iex" && c.alpaca.adjustment == "raw" && c.alpaca.keyID == "k")
        #expect(c.mt5.serverTimeZone.name == "NY+7" && c.mt5.port == 18812 && c.mt5.token == nil)
        #expect(c.datasets == [
            DataConfiguration.Dataset(symbol: "EURUSD", timeframe: .h1, source: "csv", calendar: .fx),
            DataConfiguration.Dataset(symbol: "GOOG", timeframe: .d1, source: "csv", calendar: .usEquities),
        ])
        #expect(try c.source(named: "csv").name == "csv")
        #expect(throws: SourceError.self) { try c.source(named: "mt5") }   // no token
    }

    @Test func fxDaysMT5FormatAndDatasetStart() throws {
        let yaml = """
            resample: {time_zone: America/New_York, day_start: "17:00"}
            sources:
              csv: {format: mt5, time_zone: NY+7, date_format: "%Y.%m.%d %H:%M:%S"}
              mt5: {token: from-file-token, server_time_zone: "+02:00"}
            datasets:
              - {symbol: BTC/USD, timeframe: 1Hour, source: alpaca, calendar: crypto, start: 2024-01-01}
            """
        let c = try DataConfiguration.parse(try YAMLNode.parse(yaml, file: "d.yaml"), environment: [:])
        #expect(c.bins == .fxNewYork)
        #expect(c.csv.format.delimiter == UInt8(ascii: "\t") && c.csv.format.timeZone.name == "NY+7")
        #expect(c.csv.format.dateFormat == .pattern("%Y.%m.%d %H:%M:%S"))
        #expect(c.mt5.token == "from-file-token" && c.mt5.serverTimeZone == .fixed(hours: 2))
        #expect(c.datasets[0].start == UTCTime.milliseconds(year: 2024, month: 1, day: 1) && c.datasets[0].timeframe == .h1)
        // The environment's token wins over the file's.
        let env = try DataConfiguration.parse(try YAMLNode.parse(yaml, file: "d.yaml"), environment: ["AITRADER_MT5_TOKEN": "env-token"])
        #expect(env.mt5.token == "env-token")
    }

    @Test func errorsNameFileLineAndKey() throws {
        func failure(_ yaml: String) -> String {
            do {
                _ = try DataConfiguration.parse(try YAMLNode.parse(yaml, file: "d.yaml"), environment: [:])
                return ""
            } catch { return "\(error)" }
        }
        #expect(failure("datasets:\n  - {symbol: X, timeframe: 7h}\n").hasPrefix("d.yaml:2:"))
        #expect(failure("datasets:\n  - {symbol: X, timeframe: 7h}\n").contains("unknown timeframe '7h'"))
        #expect(failure("resample:\n  day_start: \"25:00\"\n").contains("d.yaml:2:"))
        #expect(failure("sources:\n  csv:\n    format: excel\n").contains("unknown CSV format 'excel'"))
        #expect(failure("sources:\n  alpaca:\n    feeed: iex\n").contains("unknown key"))
        #expect(failure("datasets:\n  - {symbol: X, timeframe: 1h, calendar: lunar}\n").contains("unknown market calendar"))
    }
}

@Suite struct DataConfigurationSourcesAndErrorsTests {
    func parse(_ yaml: String, environment: [String: String] = [:]) throws -> DataConfiguration {
        try DataConfiguration.parse(try YAMLNode.parse(yaml, file: "d.yaml"), environment: environment)
    }

    /// Each configured source is built by name; the MT5 bridge needs its token first.
    @Test func sourcesByName() throws {
        let c = try parse("sources:\n  mt5: {token: t, server_time_zone: \"+02:00\"}\n  csv: {volume: tick}\n",
                          environment: ["APCA_API_KEY_ID": "k", "APCA_API_SECRET_KEY": "s"])
        #expect(try c.source(named: "alpaca").name == "alpaca")
        #expect(try c.source(named: "mt5").name == "mt5")
        #expect(c.csv.format.volume == .tick)
        #expect(throws: SourceError.self) { try c.source(named: "bloomberg") }
        let noToken = try parse("sources: {}\n")
        #expect(throws: SourceError.self) { try noToken.source(named: "mt5") }   // the bridge token is required
    }

    /// Bad values name the file, line and what was expected.
    @Test func badValuesNameTheLine() {
        let cases = [
            ("datasets:\n  - {symbol: X, timeframe: 1h, start: yesterday}\n", "expected a date"),
            ("datasets:\n  - {symbol: X, timeframe: 1h, source: bloomberg}\n", "unknown source 'bloomberg'"),
            ("sources:\n  csv: {volume: lots}\n", "volume must be auto, tick or real"),
            ("datasets:\n  - {symbol: X, timeframe: 7y}\n", "d.yaml"),
        ]
        for (yaml, text) in cases {
            do {
                _ = try parse(yaml)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect("\(error)".contains(text) && "\(error)".contains("d.yaml:"), "\(error)")
            }
        }
    }
}
