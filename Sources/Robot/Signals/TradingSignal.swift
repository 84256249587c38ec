import Models
import Risk

/// What the robot decided for one symbol at one bar close, with every input it decided from — journaled before
/// any order it causes is sent.
public struct TradingSignal: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Codable {
        /// Flat → a new position with its bracket.
        case open
        /// Close the opposite position and open this direction.
        case reverse
        /// Close the position (a reversal whose new leg has no size).
        case close
        /// Leave the position as it is (no direction, confidence below threshold, already positioned, no edge).
        case hold
    }

    public var symbol: String
    /// The bar close it was decided at (UTC ms).
    public var time: Int64
    public var action: Action
    /// +1 long, −1 short, 0 none.
    public var direction: Int
    /// The ensemble's calibrated probability of an up move, and of the chosen direction being right.
    public var pUp: Double
    public var pWin: Double
    /// The ensemble's own confidence and the minimum the risk profile asks of `pWin`.
    public var confidence: Double
    public var minimumPWin: Double
    public var agreement: Double
    public var regime: MarketRegime
    /// Effective model weights (short/medium/long, by model type name).
    public var weights: [String: Double]
    /// The last close (expected entry), ATR and the bracket derived from them.
    public var entryPrice: Double
    public var atr: Double
    public var stopLoss: Double?
    public var takeProfit: Double?
    /// Target distance / stop distance.
    public var payoff: Double
    public var sizing: SizingDecision?
    /// Units of the new position (0 when none).
    public var units: Double
    /// The position before the decision (signed units).
    public var currentPosition: Double
    /// Why, in words.
    public var reason: String
    /// The prediction it was decided from, whole (replays re-run decisions from it).
    public var prediction: EnsemblePrediction?
}
