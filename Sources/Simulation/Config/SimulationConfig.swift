import Common

/// configs/simulation.yaml: the execution models of SimulationMode and the backtest defaults.
///
/// ```yaml
/// execution:
///   slippage: {model: fixed_bps, bps: 1.0}     # none | fixed_bps {bps} | half_spread {spread} | atr {multiple, period}
///   commission: {model: fraction, rate: 0.002} # none | fraction {rate} | per_unit {rate, minimum} | per_lot {rate, lot_size, minimum}
///   latency_ms: 0
///   financing: {long_rate: 0.05, short_rate: 0.01, rollover_hour_utc: 21}   # or null
///   max_volume_participation: 0.1              # or null
///   intrabar: pessimistic                       # pessimistic | optimistic | bar_direction
///   max_leverage: 1
/// backtest:
///   cash: 10000
///   end_of_data: keep_open                      # keep_open | close_at_last_close | close_at_last_open
///   risk_free_rate: 0.0
///   look_ahead_audit: 8
///   ruin_fraction: 0.01                         # ruined at equity <= this fraction of cash (BacktestResult.ruinIndex)
/// ```
///
/// Every value is checked as it is read, by the same `validate()` the API uses (`CommissionModel.validate()`,
/// ...): a negative commission, slippage or fee, cash <= 0, a leverage <= 0 ... is a `ConfigError` naming the
/// file, line, column and key.
public struct SimulationConfig: Sendable {
    public var models: ExecutionModels
    public var cash: Double
    public var endOfData: EndOfDataPolicy
    public var riskFreeRate: Double
    public var lookAheadAudit: Int
    public var ruinFraction: Double

    public init(models: ExecutionModels = ExecutionModels(), cash: Double = 10_000, endOfData: EndOfDataPolicy = .keepOpen,
                riskFreeRate: Double = 0, lookAheadAudit: Int = 8,
                ruinFraction: Double = BacktestConfig.defaultRuinFraction) {
        self.models = models
        self.cash = cash
        self.endOfData = endOfData
        self.riskFreeRate = riskFreeRate
        self.lookAheadAudit = lookAheadAudit
        self.ruinFraction = ruinFraction
    }

    public static func load(path: String) throws(ConfigError) -> SimulationConfig {
        let root: YAMLNode
        do { root = try YAMLNode.load(path: path) } catch { throw ConfigError(error) }
        return try parse(root)
    }

    public static func parse(_ root: YAMLNode) throws(ConfigError) -> SimulationConfig {
        do {
            try root.checkKeys(["execution", "backtest"])
            var config = SimulationConfig()
            if let e = root["execution"] {
                config.models = try parseExecution(e)
            }
            if let b = root["backtest"] {
                try b.checkKeys(["cash", "end_of_data", "risk_free_rate", "look_ahead_audit", "ruin_fraction"])
                config.cash = try b.double("cash", default: config.cash)
                try check(b) { try ParameterError.check(config.cash > 0 && config.cash.isFinite, "cash", config.cash,
                                                        "must be > 0 and finite") }
                if let node = b["end_of_data"] {
                    guard let p = EndOfDataPolicy(rawValue: try node.string()) else {
                        throw ConfigError(node, "unknown end_of_data '\(try node.string())' (keep_open, "
                                          + "close_at_last_close, close_at_last_open)")
                    }
                    config.endOfData = p
                }
                config.riskFreeRate = try b.double("risk_free_rate", default: 0)
                try check(b) { try PerformanceMetrics.validate(riskFreeRate: config.riskFreeRate) }
                config.lookAheadAudit = try b.int("look_ahead_audit", default: config.lookAheadAudit)
                config.ruinFraction = try b.double("ruin_fraction", default: config.ruinFraction)
                try check(b) {
                    try BacktestConfig(cash: config.cash, lookAheadAudit: config.lookAheadAudit,
                                       ruinFraction: config.ruinFraction).validate()
                }
            }
            return config
        } catch let e as ConfigError {
            throw e
        } catch let e as YAMLError {
            throw ConfigError(e)
        } catch {
            throw ConfigError(root, "\(error)")
        }
    }

    static func parseExecution(_ e: YAMLNode) throws -> ExecutionModels {
        try e.checkKeys(["slippage", "commission", "latency_ms", "financing", "max_volume_participation", "intrabar",
                         "max_leverage"])
        var m = ExecutionModels()
        if let s = e["slippage"] {
            let model = try s.string("model", default: "none")
            switch model {
            case "none": try s.checkKeys(["model"]); m.slippage = .none
            case "fixed_bps":
                try s.checkKeys(["model", "bps"]); m.slippage = .fixedBps(try s.require("bps").double())
            case "half_spread":
                try s.checkKeys(["model", "spread"]); m.slippage = .halfSpread(try s.require("spread").double())
            case "atr":
                try s.checkKeys(["model", "multiple", "period"])
                m.slippage = .atr(multiple: try s.require("multiple").double(),
                                  period: try s.int("period", default: 14))
            default:
                throw ConfigError(s["model"] ?? s, "unknown slippage model '\(model)' (none, fixed_bps, half_spread, atr)")
            }
            try check(s) { try m.slippage.validate() }
        }
        if let c = e["commission"] {
            let model = try c.string("model", default: "none")
            switch model {
            case "none": try c.checkKeys(["model"]); m.commission = .none
            case "fraction":
                try c.checkKeys(["model", "rate"])
                m.commission = .fractionOfNotional(try c.require("rate").double())
            case "per_unit":
                try c.checkKeys(["model", "rate", "minimum"])
                m.commission = .perUnit(try c.require("rate").double(), minimum: try c.double("minimum", default: 0))
            case "per_lot":
                try c.checkKeys(["model", "rate", "lot_size", "minimum"])
                m.commission = .perLot(try c.require("rate").double(), lotSize: try c.double("lot_size", default: 100_000),
                                       minimum: try c.double("minimum", default: 0))
            default:
                throw ConfigError(c["model"] ?? c, "unknown commission model '\(model)' (none, fraction, per_unit, per_lot)")
            }
            try check(c) { try m.commission.validate() }
        }
        if let l = e["latency_ms"] {
            m.latency = LatencyModel(milliseconds: Int64(try l.int()))
            try check(l) { try m.latency.validate() }
        }
        if let f = e["financing"] {
            try f.checkKeys(["long_rate", "short_rate", "rollover_hour_utc"])
            m.financing = FinancingModel(longRate: try f.double("long_rate", default: 0),
                                         shortRate: try f.double("short_rate", default: 0),
                                         rolloverHourUTC: try f.int("rollover_hour_utc", default: 0))
            try check(f) { try m.financing?.validate() }
        }
        if let p = e["max_volume_participation"] {
            m.maxVolumeParticipation = try p.double()
            try check(p) { try m.validate() }
        }
        if let i = e["intrabar"] {
            guard let policy = IntrabarPolicy(rawValue: try i.string()) else {
                throw ConfigError(i, "unknown intrabar policy '\(try i.string())' (pessimistic, optimistic, bar_direction)")
            }
            m.intrabar = policy
        }
        if let l = e["max_leverage"] {
            m.maxLeverage = try l.double()
            try check(l) { try m.validate() }
        }
        return m
    }

    /// Runs a model's `validate()`; a `ParameterError` becomes a `ConfigError` at the offending key of `node`
    /// (or at `node` itself when it is the value), so the message gives file:line:column and the key path.
    static func check(_ node: YAMLNode, _ body: () throws -> Void) throws {
        do { try body() } catch let error as ParameterError {
            throw ConfigError(node[error.key] ?? node, "\(error.requirement), got \(error.value)")
        }
    }
}
