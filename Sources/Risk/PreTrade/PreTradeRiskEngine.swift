import Foundation
import Trading

/// The risk engine between strategy and venue (NautilusTrader's layering: strategy → risk engine → execution
/// engine → venue): every order the robot would send is checked here first, and only an `.accept` goes out.
///
///     var risk = PreTradeRiskEngine(profile: moderate, throttle: OrderThrottle(maxOrdersPerMinute: 20))
///     switch risk.check(request, instrument: aapl, price: 190.5, snapshot: snapshot, breakers: breakers) {
///     case .accept: try await venue.submit(request)
///     case .reject(let r): journal.record(r)          // r.rule == "max_exposure", r.message says by how much
///     }
///
/// Rules, in order (the first that fails rejects, named in `RiskRejection.rule`):
///
/// | Rule | Applies to | Rejects when |
/// |---|---|---|
/// | `quantity` | all | units not finite and > 0, not on the instrument's step, below its minimum, a fraction outside (0, 1], nothing to close |
/// | `price` | all | the reference price or an order/bracket price is not finite and > 0 |
/// | `circuit_breaker` | opening | any circuit breaker is tripped (the reasons are in the message) |
/// | `equity` | opening | equity not finite and > 0 |
/// | `price_band` | opening | the reference price or limit price is more than `priceBand` (10 %) from the symbol's mark (when one is known) |
/// | `bracket` | all with a bracket | the stop-loss is not on the losing side of the entry or the take-profit not on the winning side |
/// | `max_positions` | opening in a new symbol | `maxPositions` symbols are already held |
/// | `max_exposure` | opening | gross exposure after the order (Σ |units × mark|, this symbol at `price`) > `maxExposure` × equity, or a held symbol has no mark |
/// | `throttle` | opening | the throttle's 60-second window is full |
///
/// An order is *reducing* when it trades against the current position by at most its size (or is a
/// `closePosition`); reducing orders are never blocked by breakers, exposure, position count, band or throttle
/// (they are counted by the throttle so a flattening burst delays new entries). An order that flips the position
/// through zero, and any `equityFraction` order, counts as opening. Equity fractions are converted to units as
/// fraction × equity / price for the exposure check.
public struct PreTradeRiskEngine: Sendable {
    public var profile: RiskProfile
    public var throttle: OrderThrottle
    /// Largest relative distance of an opening order's price from the mark (0.10 = 10 %).
    public var priceBand: Double = 0.10

    public init(profile: RiskProfile, throttle: OrderThrottle) {
        self.profile = profile
        self.throttle = throttle
    }

    /// A risk engine with the profile's own throttle (`maxOrdersPerMinute`).
    public init(profile: RiskProfile) {
        self.init(profile: profile, throttle: OrderThrottle(maxOrdersPerMinute: profile.maxOrdersPerMinute))
    }

    /// Checks `request` for `instrument` at the reference `price` (the expected fill: the last trade or quote);
    /// an accepted opening order is counted by the throttle.
    public mutating func check(_ request: OrderRequest, instrument: Instrument, price: Double, snapshot: RiskSnapshot,
                               breakers: CircuitBreakers) -> RiskDecision {
        switch evaluate(request, instrument: instrument, price: price, snapshot: snapshot, breakers: breakers) {
        case .failure(let rejection):
            return .reject(rejection)
        case .success(let reducing):
            if reducing {
                throttle.record(at: snapshot.time)
            } else if !throttle.admit(at: snapshot.time) {
                let next = throttle.nextAdmission(at: snapshot.time)
                return .reject(RiskRejection(rule: "throttle", message: "\(throttle.maxOrders) orders in the last "
                    + "60 s already (max_orders_per_minute); the next is admitted in "
                    + "\(RiskFormat.duration(max(0, next - snapshot.time)))"))
            }
            return .accept
        }
    }

    /// Every rule but the throttle; success carries whether the order is reducing.
    private func evaluate(_ request: OrderRequest, instrument: Instrument, price: Double, snapshot: RiskSnapshot,
                          breakers: CircuitBreakers) -> Result<Bool, RiskRejection> {
        let symbol = request.symbol
        let position = snapshot.position(symbol)
        func reject(_ rule: String, _ message: String) -> Result<Bool, RiskRejection> {
            .failure(RiskRejection(rule: rule, message: message))
        }
        func num(_ x: Double) -> String { RiskFormat.number(x) }

        // quantity
        let units: Double
        var reducing = false
        switch request.size {
        case .units(let q):
            guard q.isFinite, q > 0 else { return reject("quantity", "quantity \(num(q)) of \(symbol) is not > 0") }
            let rounded = instrument.roundedQuantity(q)
            guard q >= instrument.minimumQuantity else {
                return reject("quantity", "quantity \(num(q)) of \(symbol) is below the minimum "
                              + "\(num(instrument.minimumQuantity))")
            }
            guard abs(rounded - q) <= 1e-9 * max(1, q) else {
                return reject("quantity", "quantity \(num(q)) of \(symbol) is not a multiple of its step "
                              + "\(num(instrument.quantityIncrement)) (nearest below: \(num(rounded)))")
            }
            units = q
            reducing = position != 0 && request.side.sign * position < 0 && q <= abs(position) * (1 + 1e-12)
        case .equityFraction(let f):
            guard f.isFinite, f > 0, f <= 1 else {
                return reject("quantity", "equity fraction \(num(f)) is not in (0, 1]")
            }
            units = price.isFinite && price > 0 && snapshot.equity.isFinite ? f * max(snapshot.equity, 0) / price : 0
        case .closePosition:
            guard position != 0 else { return reject("quantity", "no position in \(symbol) to close") }
            guard request.side.sign * position < 0 else {
                return reject("quantity", "a \(request.side.rawValue) cannot close the "
                              + "\(position > 0 ? "long" : "short") position in \(symbol)")
            }
            units = abs(position)
            reducing = true
        }

        // price
        var orderPrices: [(String, Double)] = [("reference price", price)]
        switch request.kind {
        case .market: break
        case .limit(let p): orderPrices.append(("limit price", p))
        case .stop(let p): orderPrices.append(("stop price", p))
        case .stopLimit(let s, let l): orderPrices += [("stop price", s), ("limit price", l)]
        }
        if let s = request.stopLoss { orderPrices.append(("stop-loss", s)) }
        if let t = request.takeProfit { orderPrices.append(("take-profit", t)) }
        for (name, p) in orderPrices where !(p.isFinite && p > 0) {
            return reject("price", "\(name) \(num(p)) of \(symbol) is not a finite price > 0")
        }

        if !reducing {
            // Any recorded trip blocks, whatever its time against the snapshot's (bar time vs wall clock).
            if !breakers.tripped.isEmpty {
                return reject("circuit_breaker", "circuit breaker tripped, only reducing orders pass: "
                              + breakers.reasons.joined(separator: "; "))
            }
            guard snapshot.equity.isFinite, snapshot.equity > 0 else {
                return reject("equity", "equity \(num(snapshot.equity)) is not > 0: no new positions")
            }
            if let mark = snapshot.marks[symbol], mark.isFinite, mark > 0 {
                var banded: [(String, Double)] = [("reference price", price)]
                switch request.kind {
                case .limit(let p), .stopLimit(_, let p): banded.append(("limit price", p))
                default: break
                }
                for (name, p) in banded where abs(p / mark - 1) > priceBand {
                    return reject("price_band", "\(name) \(num(p)) of \(symbol) is \(RiskFormat.percent(abs(p / mark - 1))) "
                                  + "from the mark \(num(mark)) (band \(RiskFormat.percent(priceBand)))")
                }
            }
        }

        // bracket
        if request.stopLoss != nil || request.takeProfit != nil {
            let entry: Double
            switch request.kind {
            case .market: entry = price
            case .limit(let p), .stop(let p), .stopLimit(_, let p): entry = p
            }
            let long = request.side == .buy
            if let s = request.stopLoss, long ? s >= entry : s <= entry {
                return reject("bracket", "stop-loss \(num(s)) must be \(long ? "below" : "above") the entry "
                              + "\(num(entry)) of a \(request.side.rawValue)")
            }
            if let t = request.takeProfit, long ? t <= entry : t >= entry {
                return reject("bracket", "take-profit \(num(t)) must be \(long ? "above" : "below") the entry "
                              + "\(num(entry)) of a \(request.side.rawValue)")
            }
        }
        if reducing { return .success(true) }

        // max positions
        let held = snapshot.openSymbols
        if position == 0, held.count >= profile.maxPositions {
            return reject("max_positions", "\(held.count) positions already open (\(held.joined(separator: ", "))); "
                          + "the profile allows \(profile.maxPositions)")
        }

        // max exposure
        var gross = 0.0
        for s in held where s != symbol {
            guard let m = snapshot.marks[s], m.isFinite, m > 0 else {
                return reject("max_exposure", "no mark for the open position in \(s): exposure unknown")
            }
            gross += abs(snapshot.position(s) * m)
        }
        let after = position + request.side.sign * units
        gross += abs(after * price)
        let limit = profile.maxExposure * snapshot.equity
        if gross > limit * (1 + 1e-12) {
            return reject("max_exposure", "gross exposure after the order \(RiskFormat.money(gross)) would exceed "
                          + "\(num(profile.maxExposure)) × equity \(RiskFormat.money(snapshot.equity)) = "
                          + "\(RiskFormat.money(limit))")
        }
        return .success(false)
    }
}
