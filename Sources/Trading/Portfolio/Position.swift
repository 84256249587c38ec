/// One symbol's holding as a strategy sees it: signed quantity, cost basis, the latest mark.
///
/// The cost basis is Σ size × entry price of the open quantity (backtesting.py's sum), so the average price is
/// `costBasis / quantity` and the unrealised P&L `mark × quantity − costBasis`:
///
///     Position(symbol: "GOOG", quantity: 10, costBasis: 1_000, mark: 103)   // avg 100, unrealised +30
public struct Position: Sendable, Equatable, Codable {
    public var symbol: String
    /// Signed units: positive long, negative short, 0 flat.
    public var quantity: Double
    /// Σ size × entry of the open quantity (signed like the quantity).
    public var costBasis: Double
    /// The latest price (NaN before the first).
    public var mark: Double
    /// Realised P&L booked on this symbol by `Portfolio.apply(_:)` (average-cost), before commissions.
    public var realizedPnL: Double

    public init(symbol: String, quantity: Double = 0, costBasis: Double = 0, mark: Double = .nan, realizedPnL: Double = 0) {
        self.symbol = symbol
        self.quantity = quantity
        self.costBasis = costBasis
        self.mark = mark
        self.realizedPnL = realizedPnL
    }

    public var isFlat: Bool { quantity == 0 }
    /// The average entry price (0 when flat).
    public var averagePrice: Double { quantity == 0 ? 0 : costBasis / quantity }
    /// The mark, or the average price before the first mark.
    public var markOrEntry: Double { mark.isNaN ? averagePrice : mark }
    /// mark × quantity − cost basis (0 when flat).
    public var unrealizedPnL: Double { quantity == 0 ? 0 : markOrEntry * quantity - costBasis }
    /// |quantity| × mark.
    public var grossExposure: Double { abs(quantity) * markOrEntry }
}
