import Foundation
import Simulation

/// Trading simulated from per-sample positions: at each evaluated sample bar t the position (−1…+1, a fraction
/// of equity, signed) is taken at t's close and held over the next bar, earning the next-bar simple return
/// r = c[t+1]/c[t] − 1; changing the position from the previous sample's costs `commission` × |Δposition| of equity
/// (a fraction of traded value, as configs/simulation.yaml's `fraction` model; the first sample trades from flat).
/// Equity compounds: E_k = E_{k−1} (1 + pos_k r_k − commission |pos_k − pos_{k−1}|). Return figures are
/// `Simulation.ReturnStatistics` (empyrical's conventions, as `PerformanceMetrics`), annualised with the bars per
/// year of the timeframe; turnover is Σ |Δposition| (traded value over equity, as `PerformanceMetrics.turnover`
/// for a constant equity).
///
/// Intervals (`sharpeInterval`, `meanReturnInterval`) resample the step returns by day blocks in their time
/// order within each drawn day (`DayBlockBootstrap`); the Sharpe of a resample is that of its concatenated steps.
///
/// Next-bar returns, not the label's H-bar returns, so the curve has no overlapping holding periods; samples left
/// out (dead zone) simply hold no position for their bar.
///
///     let s = SignalBacktest(name: "model", positions: pos, returns: r, times: ts, commission: 0.0002, annualization: 6240)
///     s.sharpe, s.maxDrawdown
public struct SignalBacktest: Sendable, Codable {
    public var name: String
    public var totalReturn: Double
    public var sharpe: Double
    public var sortino: Double
    public var maxDrawdown: Double
    public var annualVolatility: Double
    public var turnover: Double
    /// Share of samples with a non-zero position.
    public var exposure: Double
    public var hitRate: Double
    public var commission: Double
    /// 95 % day-block bootstrap intervals of the Sharpe ratio and the mean step return (set by `Evaluation`).
    public var sharpeInterval: Estimate?
    public var meanReturnInterval: Estimate?
    /// Equity after each sample, starting at 1 (not in JSON).
    public var equity: [Double] = []
    /// Each sample's net return pos·r − commission·|Δpos| (not in JSON).
    public var stepReturns: [Double] = []
    public var times: [Int64] = []

    enum CodingKeys: String, CodingKey {
        case name, totalReturn, sharpe, sortino, maxDrawdown, annualVolatility, turnover, exposure, hitRate, commission
        case sharpeInterval, meanReturnInterval
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        for (key, v) in [(CodingKeys.totalReturn, totalReturn), (.sharpe, sharpe), (.sortino, sortino), (.maxDrawdown, maxDrawdown),
                         (.annualVolatility, annualVolatility), (.turnover, turnover), (.exposure, exposure),
                         (.hitRate, hitRate), (.commission, commission)] {
            try c.encodeIfPresent(v.isFinite ? v : nil, forKey: key)
        }
        try c.encodeIfPresent(sharpeInterval, forKey: .sharpeInterval)
        try c.encodeIfPresent(meanReturnInterval, forKey: .meanReturnInterval)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value(_ key: CodingKeys) throws -> Double { try c.decodeIfPresent(Double.self, forKey: key) ?? .nan }
        name = try c.decode(String.self, forKey: .name)
        totalReturn = try value(.totalReturn); sharpe = try value(.sharpe); sortino = try value(.sortino)
        maxDrawdown = try value(.maxDrawdown); annualVolatility = try value(.annualVolatility); turnover = try value(.turnover)
        exposure = try value(.exposure); hitRate = try value(.hitRate); commission = try value(.commission)
        sharpeInterval = try c.decodeIfPresent(Estimate.self, forKey: .sharpeInterval)
        meanReturnInterval = try c.decodeIfPresent(Estimate.self, forKey: .meanReturnInterval)
    }

    public init(name: String, positions: [Double], returns: [Double], times: [Int64], commission: Double, annualization: Double) {
        precondition(positions.count == returns.count && times.count == returns.count, "one position and return per sample")
        self.name = name
        self.commission = commission
        self.times = times
        var e = 1.0, previous = 0.0, traded = 0.0, stepReturns: [Double] = [], curve: [Double] = [], hits = 0, active = 0
        for (p, r) in zip(positions, returns) {
            let cost = commission * abs(p - previous)
            traded += abs(p - previous)
            let step = p * r - cost
            stepReturns.append(step)
            e *= 1 + step
            curve.append(e)
            if p != 0 { active += 1; if p * r > 0 { hits += 1 } }
            previous = p
        }
        equity = curve
        self.stepReturns = stepReturns
        totalReturn = ReturnStatistics.totalReturn(stepReturns)
        sharpe = ReturnStatistics.sharpe(stepReturns, riskFreePerPeriod: 0, annualization: annualization)
        sortino = ReturnStatistics.sortino(stepReturns, requiredReturn: 0, annualization: annualization)
        maxDrawdown = ReturnStatistics.maxDrawdown(stepReturns).value
        annualVolatility = ReturnStatistics.annualVolatility(stepReturns, annualization: annualization)
        turnover = traded
        exposure = positions.isEmpty ? 0 : Double(active) / Double(positions.count)
        hitRate = active == 0 ? .nan : Double(hits) / Double(active)
    }

    /// −1, 0 or +1 from p(up): the sign of p − 0.5.
    public static func signPositions(_ p: [Double]) -> [Double] { p.map { $0 > 0.5 ? 1 : $0 < 0.5 ? -1 : 0 } }
}
