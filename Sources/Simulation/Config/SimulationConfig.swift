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
/// ```
public struct SimulationConfig: Sendable {
    public var models: ExecutionModels
    public var cash: Double
    public var endOfData: EndOfDataPolicy
    public var riskFreeRate: Double
    public var lookAheadAudit: Int

    public init(models: ExecutionModels = ExecutionModels(), cash: Double = 10_000, endOfData: EndOfDataPolicy = .keepOpen,
                riskFreeRate: Double = 0, lookAheadAudit: Int = 8) {
        self.models = models
        self.cash = cash
        self.endOfData = endOfData
        self.riskFreeRate = riskFreeRate
        self.lookAheadAudit = lookAheadAudit
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
                try b.checkKeys(["cash", "end_of_data", "risk_free_rate", "look_ahead_audit"])
                config.cash = try b.double("cash", default: config.cash)
                guard config.cash > 0 else { throw ConfigError(b["cash"]!, "cash must be > 0") }
                if let node = b["end_of_data"] {
                    guard let p = EndOfDataPolicy(rawValue: try node.string()) else {
                        throw ConfigError(node, "unknown end_of_data '\(try node.string())' (keep_open, "
                                          + "close_at_last_close, close_at_last_open)")
                    }
                    config.endOfData = p
                }
                config.riskFreeRate = try b.double("risk_free_rate", default: 0)
                config.lookAheadAudit = try b.int("look_ahead_audit", default: config.lookAheadAudit)
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
                let period = try s.int("period", default: 14)
                guard period > 0 else { throw ConfigError(s["period"]!, "period must be > 0") }
                m.slippage = .atr(multiple: try s.require("multiple").double(), period: period)
            default:
                throw ConfigError(s["model"] ?? s, "unknown slippage model '\(model)' (none, fixed_bps, half_spread, atr)")
            }
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
        }
        if let l = e["latency_ms"] {
            let ms = try l.int()
            guard ms >= 0 else { throw ConfigError(l, "latency must be >= 0") }
            m.latency = LatencyModel(milliseconds: Int64(ms))
        }
        if let f = e["financing"] {
            try f.checkKeys(["long_rate", "short_rate", "rollover_hour_utc"])
            m.financing = FinancingModel(longRate: try f.double("long_rate", default: 0),
                                         shortRate: try f.double("short_rate", default: 0),
                                         rolloverHourUTC: try f.int("rollover_hour_utc", default: 0))
        }
        if let p = e["max_volume_participation"] {
            let v = try p.double()
            guard v > 0, v <= 1 else { throw ConfigError(p, "max_volume_participation must be in (0, 1]") }
            m.maxVolumeParticipation = v
        }
        if let i = e["intrabar"] {
            guard let policy = IntrabarPolicy(rawValue: try i.string()) else {
                throw ConfigError(i, "unknown intrabar policy '\(try i.string())' (pessimistic, optimistic, bar_direction)")
            }
            m.intrabar = policy
        }
        if let l = e["max_leverage"] {
            let v = try l.double()
            guard v > 0 else { throw ConfigError(l, "max_leverage must be > 0") }
            m.maxLeverage = v
        }
        return m
    }
}
