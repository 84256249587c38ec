import Foundation
import Models
import Risk
import Trading

/// Turns an ensemble prediction into a trading decision: direction from the ensemble, a confidence gate from the
/// risk profile, a bracket from ATR multiples, and a size from fractional Kelly capped by the risk per trade.
///
/// For a prediction with calibrated p_up, the direction d = +1 when p_up > 0.5 (−1 below) — provided the ensemble
/// gives one (`EnsemblePrediction.direction` ≠ 0: its own threshold and agreement rules passed); the probability
/// of being right is p_win = p_up (long) or 1 − p_up (short), and the profile's `minConfidence` is the least p_win
/// it trades. Entry E = the last close; stop S = E − d·k_s·ATR; target T = E + d·k_t·ATR (k_s, k_t the profile's
/// ATR multiples, prices on the instrument's tick); payoff b = |T − E| / |E − S| = k_t / k_s;
/// `PositionSizer` sizes it: f = kelly_fraction × (p_win − (1 − p_win)/b), the fraction of equity at risk
/// min(f, risk_per_trade), units = equity × that / |E − S|, capped by exposure and rounded to the instrument.
///
/// Worked example (moderate: k_s = 2, k_t = 2.5, Kelly 0.25, risk 1 %): p_up = 0.62, E = 1.1000, ATR = 0.0020,
/// equity 10 000 → d = +1, p_win 0.62, S = 1.0960, T = 1.1050, b = 1.25, f* = 0.62 − 0.38/1.25 = 0.316,
/// f = 0.079 → capped at 0.01 → risk 100 → 100 / 0.0040 = 25 000 units, notional 27 500 — above the 2× exposure
/// limit, so 20 000 / 1.1 → 18 181 units.
public struct SignalGenerator: Sendable {
    public var profile: RiskProfile
    public var sizer: PositionSizer

    public init(profile: RiskProfile) {
        self.profile = profile
        sizer = PositionSizer(profile: profile)
    }

    public var stopMultiple: Double { profile.stopATRMultiple ?? 2 }
    public var targetMultiple: Double { profile.takeProfitATRMultiple ?? 2 * stopMultiple }

    public func signal(for p: EnsemblePrediction, close: Double, atr: Double, position: Double, equity: Double,
                       instrument: Instrument) -> TradingSignal {
        let d = p.direction == 0 ? 0 : (p.pUp > 0.5 ? 1 : (p.pUp < 0.5 ? -1 : 0))
        let pWin = d >= 0 ? p.pUp : 1 - p.pUp
        var s = TradingSignal(
            symbol: p.symbol, time: p.time, action: .hold, direction: d, pUp: p.pUp, pWin: pWin,
            confidence: p.confidence, minimumPWin: profile.minConfidence, agreement: p.agreement, regime: p.regime,
            weights: Dictionary(p.votes.map { ($0.modelType.rawValue, $0.weight) }, uniquingKeysWith: { a, _ in a }),
            entryPrice: close, atr: atr, stopLoss: nil, takeProfit: nil, payoff: targetMultiple / stopMultiple,
            sizing: nil, units: 0, currentPosition: position, reason: "", prediction: p)
        guard d != 0 else {
            s.reason = "no direction from the ensemble (confidence \(fmt(p.confidence)) vs its threshold \(fmt(p.confidenceThreshold)), agreement \(fmt(p.agreement)))"
            return s
        }
        guard pWin >= profile.minConfidence else {
            s.reason = "p_win \(fmt(pWin)) < the \(profile.name) profile's minimum \(fmt(profile.minConfidence))"
            return s
        }
        let current = position > 0 ? 1 : (position < 0 ? -1 : 0)
        guard current != d else {
            s.reason = "already \(d > 0 ? "long" : "short") \(fmtUnits(abs(position)))"
            return s
        }
        guard close.isFinite, close > 0, atr.isFinite, atr > 0 else {
            s.action = current == 0 ? .hold : .close
            s.reason = "no ATR yet (\(fmt(atr))): cannot place a stop" + (current == 0 ? "" : "; closing the opposite position")
            return s
        }
        let dd = Double(d)
        let stop = instrument.roundedPrice(close - dd * stopMultiple * atr)
        let target = instrument.roundedPrice(close + dd * targetMultiple * atr)
        s.stopLoss = stop
        s.takeProfit = target
        let sizing = sizer.size(equity: equity, entryPrice: close, stopPrice: stop, takeProfitPrice: target, pWin: pWin,
                                instrument: instrument)
        s.sizing = sizing
        s.units = sizing.units
        if sizing.units > 0 {
            s.action = current == 0 ? .open : .reverse
            s.reason = "\(d > 0 ? "long" : "short") \(fmtUnits(sizing.units)) at ~\(close), stop \(stop), target \(target)"
                + (sizing.cappedBy.map { " (capped by \($0))" } ?? "")
        } else {
            s.action = current == 0 ? .hold : .close
            s.reason = "no size: \(sizing.explanation)" + (current == 0 ? "" : "; closing the opposite position")
        }
        return s
    }

    private func fmt(_ v: Double) -> String { v.isFinite ? String(format: "%.3f", v) : "\(v)" }
    private func fmtUnits(_ v: Double) -> String { v == v.rounded() ? String(Int64(v)) : String(format: "%.6g", v) }
}
