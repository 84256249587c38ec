import Common
import Foundation
import MarketData
import Robot
import Trading
import Venues

/// What `aitrader deploy` connects to: the broker (orders), its market data (bars), and the settings it was
/// started with — the summary printed and journaled before the first order, with no secret in it.
struct DeployBroker {
    var broker: any BrokerAdapter
    /// Bars of `symbol` with open time in [start, end).
    var fetch: LiveBarFeed.Fetch
    /// Summary lines: endpoint, account, paper or live.
    var summary: [String]

    /// The environment with the credentials file's values over it (the file wins).
    static func environment(_ values: OptionValues) throws -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        if let file = values.string("credentials") {
            do { env.merge(try CredentialsFile.load(file)) { _, fromFile in fromFile } } catch {
                throw CommandFailure(error.description)
            }
        }
        return env
    }

    static func make(_ name: String, mode: String, environment env: [String: String], timeframe: Timeframe,
                     symbols: [String]) throws -> DeployBroker {
        switch name {
        case "alpaca":
            var config = AlpacaConfiguration.fromEnvironment(env)
            guard config.keyID != nil, config.secretKey != nil else {
                throw CommandFailure("no Alpaca credentials: set APCA_API_KEY_ID and APCA_API_SECRET_KEY in the environment, "
                                     + "or give --credentials FILE (NAME=value lines, chmod 600)")
            }
            if mode == "production", env["APCA_API_BASE_URL"]?.isEmpty ?? true { config.tradingURL = "https://api.alpaca.markets" }
            if mode == "paper", config.isLiveTrading {
                throw CommandFailure("--mode paper, but APCA_API_BASE_URL is Alpaca's live endpoint (\(config.tradingURL)): "
                                     + "use https://paper-api.alpaca.markets, or --mode production --confirm to trade real money")
            }
            let broker = AlpacaBroker(configuration: config)
            let source = AlpacaSource(configuration: config)
            return DeployBroker(
                broker: broker,
                fetch: bars(from: source, timeframe: timeframe),
                summary: ["broker: Alpaca \(config.isLiveTrading ? "LIVE (real money)" : "paper") at \(config.tradingURL)",
                          "market data: \(config.dataURL) (feed \(config.feed ?? "account default")); trade updates: \(config.resolvedTradingStreamURL)",
                          "credentials: key \(Self.masked(config.keyID)) (secret not shown)"])
        case "mt5":
            guard let token = env["AITRADER_MT5_TOKEN"], !token.isEmpty else {
                throw CommandFailure("no MT5 bridge token: set AITRADER_MT5_TOKEN, or give --credentials FILE")
            }
            let host = env["AITRADER_MT5_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
            let port = env["AITRADER_MT5_PORT"].flatMap { Int($0) } ?? 18812
            let source = MT5Source(configuration: MT5Configuration(host: host, port: port, token: token))
            // MetaTrader has no market-wide clock: the first traded symbol's last tick and trade mode make it.
            let broker = MT5Broker(source: source, name: mode == "production" ? "mt5-live" : "mt5-demo",
                                   options: MT5BrokerOptions(quoteSymbols: symbols, clockSymbol: symbols.first))
            return DeployBroker(
                broker: broker,
                fetch: bars(from: source, timeframe: timeframe),
                summary: ["broker: MetaTrader 5 through the bridge at \(host):\(port) (\(mode == "production" ? "live account" : "demo account"))",
                          "credentials: bridge token (not shown)"])
        default:
            throw UsageError("--broker is alpaca or mt5")
        }
    }

    /// The feed's bar request on a venue's data source.
    static func bars(from source: any DataSource, timeframe: Timeframe) -> LiveBarFeed.Fetch {
        { symbol, start, end in try await source.fetchOHLCV(symbol: symbol, timeframe: timeframe, start: start, end: end) }
    }

    /// The first four characters of a key, the rest masked (enough to tell two keys apart, not to use one).
    static func masked(_ key: String?) -> String {
        guard let key, !key.isEmpty else { return "none" }
        return String(key.prefix(4)) + String(repeating: "*", count: max(4, key.count - 4))
    }
}
