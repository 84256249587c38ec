/// What can be traded and how: the symbol, its asset class (calendar, annualisation) and the venue's trading rules
/// for quantities and prices. Risk sizing rounds through it, so an order never asks for 0.37 of a share where only
/// whole shares trade, or a price between ticks.
///
///     let eurusd = Instrument.guess(symbol: "EURUSD")      // fx, 1-unit steps, 0.00001 tick, quote USD
///     eurusd.roundedQuantity(12_345.9)                     // 12345
///     eurusd.roundedPrice(1.0712349)                       // 1.07123
public struct Instrument: Sendable, Equatable, Hashable, Codable {
    public var symbol: String
    public var assetClass: AssetClass
    /// The smallest step of an order quantity (1 = whole units; 1e-8 for most crypto).
    public var quantityIncrement: Double
    /// The smallest order quantity accepted.
    public var minimumQuantity: Double
    /// The price tick.
    public var priceIncrement: Double
    /// The currency prices are quoted in (USD for EURUSD, GOOG, BTC/USD).
    public var quoteCurrency: String

    public init(symbol: String, assetClass: AssetClass, quantityIncrement: Double = 1, minimumQuantity: Double? = nil,
                priceIncrement: Double = 0.01, quoteCurrency: String = "USD") {
        self.symbol = symbol
        self.assetClass = assetClass
        self.quantityIncrement = quantityIncrement
        self.minimumQuantity = minimumQuantity ?? quantityIncrement
        self.priceIncrement = priceIncrement
        self.quoteCurrency = quoteCurrency
    }

    /// Sensible rules from the symbol alone (`AssetClass.guess`): FX in whole units with a 0.00001 tick (0.001 for
    /// JPY quotes), crypto in 1e-8 steps with a 0.01 tick, equities in whole shares with a 0.01 tick. The quote
    /// currency is the last three letters for FX and crypto pairs, USD otherwise.
    public static func guess(symbol: String) -> Instrument {
        let asset = AssetClass.guess(symbol: symbol)
        let letters = symbol.uppercased().filter(\.isLetter)
        let quote = asset == .equities || letters.count < 6 ? "USD" : String(letters.suffix(3))
        switch asset {
        case .fx:
            return Instrument(symbol: symbol, assetClass: .fx, quantityIncrement: 1,
                              priceIncrement: quote == "JPY" ? 0.001 : 0.00001, quoteCurrency: quote)
        case .crypto:
            return Instrument(symbol: symbol, assetClass: .crypto, quantityIncrement: 1e-8, priceIncrement: 0.01,
                              quoteCurrency: quote)
        case .equities:
            return Instrument(symbol: symbol, assetClass: .equities, quantityIncrement: 1, priceIncrement: 0.01)
        }
    }

    /// `quantity` rounded down (towards zero) to a whole number of increments; 0 below the minimum quantity.
    public func roundedQuantity(_ quantity: Double) -> Double {
        guard quantity.isFinite, quantityIncrement > 0 else { return 0 }
        let steps = (abs(quantity) / quantityIncrement + 1e-9).rounded(.down)
        let q = steps * quantityIncrement
        guard q >= minimumQuantity else { return 0 }
        return quantity < 0 ? -q : q
    }

    /// `price` rounded to the nearest tick.
    public func roundedPrice(_ price: Double) -> Double {
        guard price.isFinite, priceIncrement > 0 else { return price }
        let ticks = (price / priceIncrement).rounded()
        // Print-stable (1.07123, not 1.0712300000000001): round again at the tick's number of decimals.
        var scale = 1.0
        while scale < 1e12, abs(priceIncrement * scale - (priceIncrement * scale).rounded()) > 1e-9 { scale *= 10 }
        return (ticks * priceIncrement * scale).rounded() / scale
    }
}
