import Foundation
import Trading

/// The last checks on an order before it goes to a real broker, independent of the strategy and the risk engine
/// (which decided it): a second pair of eyes that catches a bug, a bad quote or a stale account before money moves.
///
/// | Rule | Refuses |
/// |---|---|
/// | `tradable` | a symbol outside `tradableSymbols` |
/// | `size` | units ≤ 0, not finite, above `maxUnits`, notional (units × reference price) above `maxNotional`; an equity fraction outside (0, 1] |
/// | `price_band` | no last quote; a limit/stop, stop-loss or take-profit price further than `priceBand` (a fraction) from the last quote; a stop-loss/take-profit on the wrong side of it |
/// | `buying_power` | an order that adds exposure with a notional above the account's buying power |
/// | `duplicate_client_id` | a client order id the robot already used |
/// | `market_open` | a symbol whose market is closed at the decision time |
///
/// Worked example: last quote 1.1000, `priceBand` 0.02 → a buy limit at 1.0700 is refused (2.73 % away, the band is
/// 2 %); 10 000 units at 1.1000 = 11 000 notional, refused with `maxNotional` 10 000.
///
///     let validator = OrderValidator(limits: .init(tradableSymbols: ["EURUSD"], maxUnits: 100_000, priceBand: 0.02))
///     if let refusal = validator.validate(request, clientOrderID: id, context: context) { ... refusal.message ... }
public struct OrderValidator: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Symbols the robot may trade (empty: any).
        public var tradableSymbols: Set<String>
        public var maxUnits: Double?
        public var maxNotional: Double?
        /// Largest distance of an order's prices from the last quote, as a fraction of it.
        public var priceBand: Double
        public var checkBuyingPower: Bool
        public var checkMarketOpen: Bool

        public init(tradableSymbols: Set<String> = [], maxUnits: Double? = nil, maxNotional: Double? = nil,
                    priceBand: Double = 0.05, checkBuyingPower: Bool = true, checkMarketOpen: Bool = true) {
            self.tradableSymbols = tradableSymbols
            self.maxUnits = maxUnits
            self.maxNotional = maxNotional
            self.priceBand = priceBand
            self.checkBuyingPower = checkBuyingPower
            self.checkMarketOpen = checkMarketOpen
        }
    }

    /// What the check needs to know about the market and the account at the decision time.
    public struct Context: Sendable {
        /// The last price per symbol (the latest closed bar's close, or the broker's quote).
        public var lastQuote: [String: Double]
        public var buyingPower: Double
        /// Signed position per symbol.
        public var positions: [String: Double]
        /// Client order ids already used (the journal's and the broker's).
        public var knownClientOrderIDs: Set<String>
        /// Whether `symbol`'s market is open now.
        public var marketOpen: @Sendable (String) -> Bool

        public init(lastQuote: [String: Double], buyingPower: Double, positions: [String: Double] = [:],
                    knownClientOrderIDs: Set<String> = [], marketOpen: @escaping @Sendable (String) -> Bool = { _ in true }) {
            self.lastQuote = lastQuote
            self.buyingPower = buyingPower
            self.positions = positions
            self.knownClientOrderIDs = knownClientOrderIDs
            self.marketOpen = marketOpen
        }
    }

    /// One refused order: the rule and why, in the user's terms.
    public struct Refusal: Sendable, Equatable, CustomStringConvertible {
        public var rule: String
        public var message: String
        public var description: String { "\(rule): \(message)" }
    }

    public var limits: Limits

    /// The rule a client order id already used breaks.
    public static let duplicateRule = "duplicate_client_id"

    public init(limits: Limits) { self.limits = limits }

    /// nil when the order may go, else the first rule it breaks (in the order of the table above).
    public func validate(_ r: OrderRequest, clientOrderID: String, context c: Context) -> Refusal? {
        func refuse(_ rule: String, _ message: String) -> Refusal { Refusal(rule: rule, message: message) }
        if !limits.tradableSymbols.isEmpty, !limits.tradableSymbols.contains(r.symbol) {
            return refuse("tradable", "\(r.symbol) is not a tradable symbol (\(limits.tradableSymbols.sorted().joined(separator: ", ")))")
        }
        guard let quote = c.lastQuote[r.symbol], quote.isFinite, quote > 0 else {
            return refuse("price_band", "no valid last quote for \(r.symbol)")
        }
        let reference: Double = switch r.kind {
        case .market: quote
        case .limit(let p), .stop(let p): p
        case .stopLimit(_, let limit): limit
        }
        let held = c.positions[r.symbol] ?? 0
        var units: Double?
        switch r.size {
        case .units(let n):
            guard n.isFinite, n > 0 else { return refuse("size", "\(n) units is not a positive quantity") }
            if let m = limits.maxUnits, n > m { return refuse("size", "\(fmt(n)) units exceeds the limit of \(fmt(m))") }
            units = n
        case .equityFraction(let f):
            guard f.isFinite, f > 0, f <= 1 else { return refuse("size", "equity fraction \(f) is not in (0, 1]") }
        case .closePosition:
            units = abs(held)
        }
        var prices: [(String, Double)] = []
        switch r.kind {
        case .market: break
        case .limit(let p): prices.append(("limit", p))
        case .stop(let p): prices.append(("stop", p))
        case .stopLimit(let s, let l): prices += [("stop", s), ("limit", l)]
        }
        if let sl = r.stopLoss { prices.append(("stop-loss", sl)) }
        if let tp = r.takeProfit { prices.append(("take-profit", tp)) }
        for (name, p) in prices {
            guard p.isFinite, p > 0 else { return refuse("price_band", "the \(name) price \(p) is not a positive number") }
            let distance = abs(p - quote) / quote
            if distance > limits.priceBand {
                return refuse("price_band", "the \(name) price \(fmt(p)) is \(fmt(distance * 100)) % from the last quote \(fmt(quote)); the band is \(fmt(limits.priceBand * 100)) %")
            }
        }
        if let sl = r.stopLoss, (r.side == .buy ? sl >= quote : sl <= quote) {
            return refuse("price_band", "a \(r.side.rawValue)'s stop-loss \(fmt(sl)) is on the wrong side of the last quote \(fmt(quote))")
        }
        if let tp = r.takeProfit, (r.side == .buy ? tp <= quote : tp >= quote) {
            return refuse("price_band", "a \(r.side.rawValue)'s take-profit \(fmt(tp)) is on the wrong side of the last quote \(fmt(quote))")
        }
        if let units, let m = limits.maxNotional, units * reference > m {
            return refuse("size", "notional \(fmt(units * reference)) exceeds the limit of \(fmt(m))")
        }
        let reduces = held != 0 && (held > 0) == (r.side == .sell) && (units.map { $0 <= abs(held) } ?? false)
        if limits.checkBuyingPower, !reduces, let units, units * reference > c.buyingPower {
            return refuse("buying_power", "notional \(fmt(units * reference)) exceeds the buying power \(fmt(c.buyingPower))")
        }
        if c.knownClientOrderIDs.contains(clientOrderID) {
            return refuse(Self.duplicateRule, "client order id \(clientOrderID) was already used")
        }
        if limits.checkMarketOpen, !c.marketOpen(r.symbol) {
            return refuse("market_open", "the market for \(r.symbol) is closed")
        }
        return nil
    }

    private func fmt(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.6g", v)
    }
}
