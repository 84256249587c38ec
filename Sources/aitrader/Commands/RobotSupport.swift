import Common
import Engine
import Features
import Foundation
import MarketData
import Models
import Prediction
import Risk
import Robot
import Serving
import Simulation
import Trading

/// What `robot run` and `robot replay` resolve from options (or from a recorded session): settings, predictions,
/// bars and the simulated market.
struct RobotSetup {
    /// The settings a session records (and a resumed or replayed run must match).
    struct Recorded: Codable, Equatable {
        var mode: String
        var symbols: [String]
        var start: Int64?
        var end: Int64?
        var timeframe: String
        var cash: Double
        var riskProfile: RiskProfile
        var breakers: BreakerConfig
        var simulationConfig: String?
        var source: String
        var dataRoot: String
    }

    var recorded: Recorded
    var session: String
    var settings: RobotSettings
    var source: any PredictionSource
    var series: [BarSeries]
    var models: ExecutionModels
    var speed: SimulationMode.Speed
    var cash: Double { recorded.cash }

    /// `mode` and `session` override the options of those names (`aitrader deploy` names its own).
    init(_ values: OptionValues, mode: String? = nil, session: String? = nil) throws {
        let symbols = values.list("symbol") ?? []
        guard symbols.count == Set(symbols).count else { throw UsageError("--symbol names a symbol twice") }
        let checkpoints = values.string("checkpoints"), predictionsFile = values.string("predictions")
        guard (checkpoints == nil) != (predictionsFile == nil) else {
            throw UsageError("give --checkpoints DIR (run the models) or --predictions FILE (recorded predictions), one of them")
        }
        if values.string("inference-url") != nil, checkpoints == nil {
            throw UsageError("--inference-url needs --checkpoints DIR: the robot computes the features and combines the models "
                             + "itself from the checkpoints the server runs")
        }
        let speedText = (values.declares("speed") ? values.string("speed") : nil) ?? "max"
        if speedText == "max" {
            speed = .max
        } else if let n = Double(speedText), n > 0, n.isFinite {
            speed = .times(n)
        } else {
            throw UsageError("--speed is max or a number > 0 (times real time), got '\(speedText)'")
        }
        let dataRoot = try DataContext.dataRoot(values)
        let configPath = values.declares("config") ? values.configPath("config", default: "configs/simulation.yaml")
            : OptionValues.shipped("configs/simulation.yaml")
        let config = try configPath.map { try SimulationConfig.load(path: $0) } ?? SimulationConfig()
        let configText = try configPath.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let riskProfiles = try values.configPath("risk-profiles", default: "configs/risk_profiles.yaml")
            .map { try RiskProfiles.load(path: $0) } ?? .builtIn
        let riskName = values.string("risk-profile") ?? "moderate"
        guard let profile = riskProfiles.profiles[riskName] else {
            throw UsageError("unknown --risk-profile '\(riskName)' (\(riskProfiles.profiles.keys.sorted().joined(separator: ", ")))")
        }

        let timeframe: Timeframe
        let sourceName: String
        if let predictionsFile {
            let predictions = try Self.readPredictions(predictionsFile)
            source = PrecomputedPredictions(predictions)
            sourceName = "predictions:" + predictionsFile
            let profileName = values.string("profile") ?? "trader"
            let profiles = try OptionValues.shipped("configs/features/profiles.yaml").map { try TradingProfile.load(path: $0) } ?? []
            timeframe = values.timeframe("timeframe")
                ?? profiles.first { $0.name == profileName }?.timeframe(for: .shortTerm) ?? .h1
        } else {
            let ensemblePath = values.configPath("ensemble-config", default: "configs/ensemble.yaml")
            let ensemble = try ensemblePath.map { try EnsembleConfig.load(path: $0) } ?? EnsembleConfig()
            let store = try FeatureStore(root: dataRoot, bars: DataContext.readOnlyStore(dataRoot: dataRoot),
                                         configDirectory: values.string("features-config") ?? "configs/features")
            let placement: NetworkPlacement
            if let url = values.string("inference-url") {
                placement = .remote(try RobotInference.remote(url: url, values))
            } else {
                placement = .inProcess(try Devices.select(device: values.string("device") ?? "auto", threads: values.int("threads")))
            }
            let predictor = try EnsemblePredictor.load(checkpointsDirectory: checkpoints ?? "", store: store,
                                                       ensembleConfig: ensemble, placement: placement)
            source = ForecasterPredictions(predictor)
            sourceName = "checkpoints:" + (checkpoints ?? "")
            timeframe = values.timeframe("timeframe") ?? predictor.decisionTimeframe
        }
        let mode = mode ?? values.string("mode") ?? "simulation"
        let declared = { (name: String) in values.declares(name) }
        recorded = Recorded(mode: mode, symbols: symbols, start: declared("start") ? values.time("start") : nil,
                            end: declared("end") ? values.inclusiveEnd("end") : nil,
                            timeframe: timeframe.description, cash: (declared("cash") ? values.double("cash") : nil) ?? config.cash,
                            riskProfile: profile, breakers: riskProfiles.breakers.forBarInterval(timeframe.milliseconds),
                            simulationConfig: configText, source: sourceName, dataRoot: dataRoot)
        self.session = session ?? values.string("session") ?? "sessions/\(symbols.joined(separator: "_"))-\(mode)"
        models = config.models
        models.maxLeverage = profile.maxLeverage
        settings = RobotSettings(symbols: symbols, profile: profile, breakers: recorded.breakers)
        series = try Self.bars(symbols: symbols, timeframe: timeframe, end: recorded.end, dataRoot: dataRoot)
    }

    /// The setup of a recorded session, trading on the predictions its signals journaled.
    init(replaying journal: RobotJournal, dataRoot: String) throws {
        guard let text = try journal.session("settings") else {
            throw CommandFailure("\(journal.path) records no robot session settings")
        }
        recorded = try RobotJSON.decoder.decode(Recorded.self, from: Data(text.utf8))
        session = (journal.path as NSString).deletingLastPathComponent
        var predictions: [EnsemblePrediction] = []
        for s in try journal.signals() {
            let signal = try RobotJSON.decoder.decode(TradingSignal.self, from: Data(s.body.utf8))
            if let p = signal.prediction { predictions.append(p) }
        }
        // Failed prediction calls replay as failures (the strategy journals them as "prediction failed: WHY").
        var failures: [Int64: String] = [:]
        for p in try journal.problems() where p.text.hasPrefix(RobotStrategy.predictionFailedPrefix) {
            failures[p.time] = String(p.text.dropFirst(RobotStrategy.predictionFailedPrefix.count))
        }
        source = PrecomputedPredictions(predictions, failures: failures)
        speed = .max
        var config = SimulationConfig()
        if let yaml = recorded.simulationConfig {
            config = try SimulationConfig.parse(try YAMLNode.parse(yaml, file: journal.path + " (recorded simulation config)"))
        }
        models = config.models
        models.maxLeverage = recorded.riskProfile.maxLeverage
        settings = RobotSettings(symbols: recorded.symbols, profile: recorded.riskProfile, breakers: recorded.breakers)
        let timeframe = try Timeframe(parsing: recorded.timeframe)
        series = try Self.bars(symbols: recorded.symbols, timeframe: timeframe, end: recorded.end,
                               dataRoot: FileManager.default.fileExists(atPath: recorded.dataRoot) ? recorded.dataRoot : dataRoot)
    }

    /// Each symbol's trading calendar: its instrument's asset class, else the class its name suggests.
    var calendars: [String: any TradingCalendar] {
        var calendars: [String: any TradingCalendar] = [:]
        for s in recorded.symbols { calendars[s] = settings.instruments[s]?.assetClass.calendar ?? AssetClass.guess(symbol: s).calendar }
        return calendars
    }

    func mode() -> SimulationMode {
        SimulationMode(series: series, cash: recorded.cash, models: models, calendars: calendars,
                              start: recorded.start ?? .min, end: recorded.end ?? .max, speed: speed)
    }

    /// Records the settings in a new session, or checks that an existing one was started with the same.
    func checkSession(_ journal: RobotJournal) throws {
        let encoded = String(decoding: try RobotJSON.encoder.encode(recorded), as: UTF8.self)
        if let existing = try journal.session("settings") {
            let old = try RobotJSON.decoder.decode(Recorded.self, from: Data(existing.utf8))
            if old != recorded {
                var differences: [String] = []
                if old.symbols != recorded.symbols { differences.append("symbols \(old.symbols.joined(separator: ","))") }
                if old.start != recorded.start || old.end != recorded.end { differences.append("range") }
                if old.timeframe != recorded.timeframe { differences.append("timeframe \(old.timeframe)") }
                if old.riskProfile != recorded.riskProfile || old.breakers != recorded.breakers { differences.append("risk profile") }
                if old.cash != recorded.cash || old.simulationConfig != recorded.simulationConfig { differences.append("cash or execution models") }
                if old.source != recorded.source { differences.append("predictions (\(old.source))") }
                if old.mode != recorded.mode || old.dataRoot != recorded.dataRoot { differences.append("mode or data root") }
                throw UsageError("the session \(session) was started with other settings (\(differences.joined(separator: "; "))); "
                                 + "give another --session, or delete that directory to start over")
            }
        } else {
            try journal.setSession("settings", encoded)
        }
    }

    static func journalPath(_ values: OptionValues) throws -> String {
        let path: String
        if let j = values.string("journal") {
            path = j
        } else if let s = values.string("session") {
            path = s + "/journal.sqlite"
        } else {
            throw UsageError("give --session DIR or --journal FILE")
        }
        guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure("no robot journal at \(path)") }
        return path
    }

    static func bars(symbols: [String], timeframe: Timeframe, end: Int64?, dataRoot: String) throws -> [BarSeries] {
        let store = try DataContext.readOnlyStore(dataRoot: dataRoot)
        let bins = try DataContext.defaultConfiguration().bins
        return try symbols.map { symbol in
            let served = try store.bars(symbol: symbol, timeframe: timeframe, start: nil, end: end, bins: bins)
            guard served.series.count >= 2 else {
                throw CommandFailure("\(served.series.count) \(timeframe) bars of \(symbol) in the store; the robot needs history")
            }
            return served.series
        }
    }

    /// JSON lines, one `EnsemblePrediction` per line (blank lines skipped); errors name the line.
    static func readPredictions(_ path: String) throws -> [EnsemblePrediction] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CommandFailure("cannot read \(path): \(error.localizedDescription)")
        }
        var out: [EnsemblePrediction] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            do {
                out.append(try RobotJSON.decoder.decode(EnsemblePrediction.self, from: Data(trimmed.utf8)))
            } catch {
                throw CommandFailure("\(path):\(n + 1): not an ensemble prediction (\(UntrustedText.sanitized(String(describing: error).prefix(200).description)))")
            }
        }
        guard !out.isEmpty else { throw CommandFailure("\(path) holds no predictions") }
        return out
    }

}

/// The robot's printed lines.
enum RobotLines {
    static func money(_ v: Double) -> String { String(format: "%.2f", v) }

    static func units(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(format: "%+.0f", v) : String(format: "%+.6g", v)
    }

    static func cycle(_ s: RobotStatus, _ log: RobotStrategy.CycleLog) -> String {
        var line = "\(UTCTime.iso8601(log.time))  equity \(money(s.equity))"
        let positions = s.positions.map { "\($0.symbol) \(units($0.quantity))" }
        line += "  " + (positions.isEmpty ? "flat" : positions.joined(separator: " "))
        for signal in log.signals {
            line += "  | \(signal.symbol) \(signal.action.rawValue)"
            if signal.action != .hold {
                line += " \(signal.direction > 0 ? "long" : "short") \(units(signal.units)) p_win \(String(format: "%.3f", signal.pWin))"
            } else {
                line += " (\(holdReason(signal)))"
            }
        }
        for r in log.rejections { line += "  | risk refused \(r.request.symbol): \(r.rejection.rule)" }
        for e in log.breakerEvents { line += "  | breaker \(e.kind.rawValue) \(e.tripped ? "TRIPPED" : "reset"): \(e.reason.prefix(80))" }
        for p in log.problems { line += "  | \(p.prefix(100))" }
        return line
    }

    /// Why a signal holds, in a few words.
    static func holdReason(_ s: TradingSignal) -> String {
        func f(_ v: Double) -> String { String(format: "%.3f", v) }
        if s.direction == 0 {
            let threshold = s.prediction.map { " < " + f($0.confidenceThreshold) } ?? ""
            return "no direction: confidence \(f(s.confidence))\(threshold)"
        }
        if s.pWin < s.minimumPWin { return "p_win \(f(s.pWin)) < \(f(s.minimumPWin))" }
        if s.currentPosition != 0, (s.currentPosition > 0) == (s.direction > 0) {
            return "already \(s.direction > 0 ? "long" : "short")"
        }
        return String(s.reason.prefix(60))
    }

    static func summary(_ s: RobotStatus, journal: String) -> String {
        var out = "robot \(s.mode) \(s.symbols.joined(separator: ",")): \(s.cycles) cycles"
        if let t = s.lastCycleTime { out += ", last at \(UTCTime.iso8601(t))" }
        out += "\n  equity \(money(s.equity)), balance \(money(s.balance)), buying power \(money(s.buyingPower)), open orders \(s.openOrders)\n"
        if let pnl = s.dailyPnL, let dd = s.drawdown {
            out += "  today's P&L \(money(pnl)), drawdown from peak \(String(format: "%.2f", dd * 100)) %\n"
        }
        out += "  positions: " + (s.positions.isEmpty ? "none" : s.positions.map {
            "\($0.symbol) \(units($0.quantity)) @ \(String(format: "%.5g", $0.averagePrice))"
        }.joined(separator: ", ")) + "\n"
        out += "  orders sent \(s.ordersSubmitted), refused by risk \(s.ordersRejectedByRisk), fills \(s.fills)\n"
        out += "  breakers: " + (s.breakers.isEmpty ? "none tripped" : s.breakers.joined(separator: "; ")) + "\n"
        for (symbol, text) in s.lastSignals.sorted(by: { $0.key < $1.key }) { out += "  last decision \(symbol): \(text)\n" }
        if let problem = s.lastProblem { out += "  last problem: \(problem.prefix(300))\n" }
        if let m = s.latencyMedianMs, let p = s.latencyP99Ms {
            out += String(format: "  cycle latency (bar close seen -> orders sent): median %.2f ms, p99 %.2f ms\n", m, p)
        }
        out += "  journal: \(journal)"
        return out
    }
}

/// `--inference-url`: the robot's forward passes on a running `aitrader serve`.
enum RobotInference {
    static let tokenVariable = "AITRADER_INFERENCE_TOKEN"

    /// The server's networks, each checked to run the robot's checkpoint before the session starts.
    static func remote(url: String, _ values: OptionValues) throws -> RemoteNetworks {
        let timeout = values.double("inference-timeout") ?? 10
        // A call waits on a busy server (503 Retry-After) at most as long as one request may take.
        let configuration = InferenceClientConfiguration(url: url, token: try token(file: values.string("inference-token-file")),
                                                         timeoutSeconds: timeout, maxRetryWaitSeconds: timeout)
        do { return try RemoteNetworks(configuration) } catch { throw UsageError("--inference-url: \(error)") }
    }

    /// The bearer token: from a file only its owner may read, else from AITRADER_INFERENCE_TOKEN, else none.
    static func token(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        guard let file else { return environment[tokenVariable].flatMap { $0.isEmpty ? nil : $0 } }
        let data: Data
        do { data = try PrivateFile.read(file) } catch {
            if case .readableByOthers(let mode) = error {
                throw UsageError("--inference-token-file \(file) is readable by others (mode \(mode)); chmod 600 it")
            }
            throw UsageError("--inference-token-file \(file) cannot be read")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, !token.contains(where: \.isNewline) else {
            throw UsageError("--inference-token-file \(file) must hold the token alone on one line")
        }
        return token
    }
}
