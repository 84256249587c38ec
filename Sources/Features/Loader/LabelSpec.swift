import Common
import Foundation

/// How samples are labelled. A sample at bar t (its window ends with bar t's close, the last thing known) looks
/// at the bars (t, t+horizon]:
/// - direction: 1 when the forward log return ln(c[t+H]/c[t]) > deadZone, 0 when < −deadZone; samples inside
///   the dead zone are left out (they carry no direction),
/// - forward return: ln(c[t+H]/c[t]),
/// - triple barrier (optional): +1 if the high reaches c[t]·(1 + upper·σ) first, −1 if the low reaches
///   c[t]·(1 − lower·σ) first, 0 if neither within H bars, where σ is the realised volatility of the last
///   `volatilityWindow` one-bar log returns up to t (known at t). A bar touching both counts as −1 (conservative).
///
///     label: {horizon: 8, dead_zone: 0.0005, triple_barrier: {upper: 2, lower: 2, volatility_window: 20}}
public struct LabelSpec: Sendable, Equatable, Hashable {
    public struct TripleBarrier: Sendable, Equatable, Hashable {
        public var upper: Double
        public var lower: Double
        public var volatilityWindow: Int

        public init(upper: Double = 2, lower: Double = 2, volatilityWindow: Int = 20) {
            self.upper = upper
            self.lower = lower
            self.volatilityWindow = volatilityWindow
        }
    }

    public var horizon: Int
    public var deadZone: Double
    public var tripleBarrier: TripleBarrier?

    public init(horizon: Int = 1, deadZone: Double = 0, tripleBarrier: TripleBarrier? = nil) {
        precondition(horizon >= 1 && deadZone >= 0, "horizon >= 1 and dead zone >= 0")
        self.horizon = horizon
        self.deadZone = deadZone
        self.tripleBarrier = tripleBarrier
    }

    /// Bars of history a label needs before t (the triple barrier's volatility window).
    public var lookback: Int { tripleBarrier?.volatilityWindow ?? 0 }

    public static func parse(_ node: YAMLNode) throws -> LabelSpec {
        try node.checkKeys(["horizon", "dead_zone", "triple_barrier"])
        let horizon = try node.int("horizon", default: 1)
        let deadZone = try node.double("dead_zone", default: 0)
        guard horizon >= 1 else { throw FeatureError(location: node["horizon"]?.location, reason: "label.horizon must be >= 1") }
        guard deadZone >= 0 else { throw FeatureError(location: node["dead_zone"]?.location, reason: "label.dead_zone must be >= 0") }
        var barrier: TripleBarrier? = nil
        if let b = node["triple_barrier"] {
            try b.checkKeys(["upper", "lower", "volatility_window"])
            barrier = TripleBarrier(upper: try b.double("upper", default: 2), lower: try b.double("lower", default: 2),
                                    volatilityWindow: try b.int("volatility_window", default: 20))
            guard barrier!.upper > 0, barrier!.lower > 0, barrier!.volatilityWindow >= 2 else {
                throw FeatureError(location: b.location, reason: "triple_barrier: upper and lower > 0, volatility_window >= 2")
            }
        }
        return LabelSpec(horizon: horizon, deadZone: deadZone, tripleBarrier: barrier)
    }
}

/// Labels for every bar of a series (NaN where the horizon runs past the data).
public struct Labels: Sendable {
    /// 1 up, 0 down, NaN inside the dead zone or without a full horizon.
    public var direction: [Float]
    /// ln(c[t+H]/c[t]), NaN without a full horizon.
    public var forwardReturn: [Float]
    /// +1 / −1 / 0 (see `LabelSpec`), NaN without a full horizon or volatility history; nil when not configured.
    public var barrier: [Float]?

    public init(close: [Double], high: [Double], low: [Double], spec: LabelSpec) {
        let n = close.count, h = spec.horizon
        direction = [Float](repeating: .nan, count: n)
        forwardReturn = [Float](repeating: .nan, count: n)
        for t in 0..<max(0, n - h) {
            let r = log(close[t + h] / close[t])
            forwardReturn[t] = Float(r)
            if r > spec.deadZone { direction[t] = 1 } else if r < -spec.deadZone { direction[t] = 0 }
        }
        guard let tb = spec.tripleBarrier else { barrier = nil; return }
        var out = [Float](repeating: .nan, count: n)
        let w = tb.volatilityWindow
        var squares = [Double](repeating: 0, count: n)
        for i in 1..<max(1, n) { let r = log(close[i] / close[i - 1]); squares[i] = r * r }
        var sum = 0.0
        for t in 0..<n {
            if t >= 1 { sum += squares[t] }
            if t > w { sum -= squares[t - w] }
            guard t >= w, t + h < n else { continue }
            let sigma = (max(sum, 0) / Double(w)).squareRoot()
            let up = close[t] * (1 + tb.upper * sigma), down = close[t] * (1 - tb.lower * sigma)
            var label: Float = 0
            for j in (t + 1)...(t + h) {
                if low[j] <= down { label = -1; break }
                if high[j] >= up { label = 1; break }
            }
            out[t] = label
        }
        barrier = out
    }
}
