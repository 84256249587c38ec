/// Cash, open lots and closed trades of a simulated account, with mark-to-market equity and margin.
///
/// The arithmetic follows backtesting.py 0.6's `_Broker` operation by operation (same formulas, same order of
/// floating-point operations), so a strategy run here and there ends with bit-identical equity:
///
/// - opening a lot charges its commission to cash; closing one adds `size × (exit − entry) − exit commission`;
/// - equity = cash + Σ_symbols (mark × Σ size − Σ size × entry);
/// - available margin = max(0, equity − Σ |size| × mark / leverage).
///
///     var a = Account(cash: 10_000, commission: .fractionOfNotional(0.002))
///     a.open(symbol: "X", size: 10, price: 100, time: 0, bar: 0)       // cash 9 998
///     a.equity(marks: ["X": 110])                                     // 10 098
public struct Account: Sendable {
    public let initialCash: Double
    public private(set) var cash: Double
    public var commission: CommissionModel
    public var leverage: Double
    /// Open lots per symbol, oldest first.
    public private(set) var lots: [String: [OpenLot]] = [:]
    public private(set) var closedTrades: [ClosedTrade] = []
    /// Commission paid so far (all legs) and financing charged so far.
    public private(set) var totalCommission: Double = 0
    public private(set) var totalFinancing: Double = 0
    /// Σ |units × price| of every fill, for turnover.
    public private(set) var tradedValue: Double = 0
    /// Financing charged per open lot, keyed by symbol then lot index, reported on the closed trade.
    private var lotFinancing: [String: [Double]] = [:]

    public init(cash: Double, commission: CommissionModel = .none, leverage: Double = 1) {
        precondition(cash > 0, "initial cash must be > 0")
        initialCash = cash
        self.cash = cash
        self.commission = commission
        self.leverage = leverage
    }

    /// Signed units held in `symbol`.
    public func positionSize(_ symbol: String) -> Double {
        var s = 0.0
        for lot in lots[symbol] ?? [] { s += lot.size }
        return s
    }

    /// The position's average entry price (0 when flat).
    public func averagePrice(_ symbol: String) -> Double {
        var units = 0.0, cost = 0.0
        for lot in lots[symbol] ?? [] { units += lot.size; cost += lot.size * lot.entryPrice }
        return units == 0 ? 0 : cost / units
    }

    /// Unrealised P&L of `symbol` at `mark`: mark × Σ size − Σ size × entry (backtesting.py's formula).
    public func unrealizedPnL(_ symbol: String, mark: Double) -> Double {
        guard let l = lots[symbol], !l.isEmpty else { return 0 }
        var units = 0.0, cost = 0.0
        for lot in l { units += lot.size; cost += lot.size * lot.entryPrice }
        return mark * units - cost
    }

    /// Realised P&L so far (closed trades, net of their commission).
    public var realizedPnL: Double { closedTrades.reduce(0) { $0 + $1.pnl } }

    public var hasOpenLots: Bool { lots.values.contains { !$0.isEmpty } }

    /// Cash plus unrealised P&L of every open symbol at `marks` (a symbol without a mark counts at entry).
    public func equity(marks: [String: Double]) -> Double {
        var e = cash
        for (symbol, l) in lots where !l.isEmpty {
            e += unrealizedPnL(symbol, mark: marks[symbol] ?? averagePrice(symbol))
        }
        return e
    }

    /// Equity when only `symbol` has open lots (the single-symbol fast path of the backtester).
    @inline(__always)
    public func equity(symbol: String, mark: Double) -> Double { cash + unrealizedPnL(symbol, mark: mark) }

    /// max(0, equity − margin used), margin used = Σ |size| × mark / leverage.
    public func marginAvailable(marks: [String: Double]) -> Double {
        var used = 0.0
        for (symbol, l) in lots {
            let mark = marks[symbol] ?? averagePrice(symbol)
            for lot in l { used += abs(lot.size) * mark / leverage }
        }
        return max(0, equity(marks: marks) - used)
    }

    /// Whole units an equity-fraction order may buy at `price` (adjusted for slippage) — backtesting.py's
    /// `int((margin_available * leverage * fraction) // (price + commission(fraction, price) / fraction))`, with
    /// Python's float floor division; then reduced while a commission minimum makes it unaffordable.
    public func affordableUnits(fraction: Double, price: Double, marginAvailable: Double) -> Double {
        let perUnit = price + commission.sizingCommissionPerUnit(price: price, fraction: fraction)
        let budget = marginAvailable * leverage * fraction
        var units = pythonFloorDivide(budget, perUnit)
        guard units.isFinite, units > 0 else { return 0 }
        while units > 0, units * price + commission.commission(units: units, price: price) > budget { units -= 1 }
        return units
    }

    /// Opens a lot of `size` signed units at `price`, charging its commission.
    public mutating func open(symbol: String, size: Double, price: Double, time: Int64, bar: Int,
                              tag: String? = nil) {
        cash -= commission.commission(units: size, price: price)
        totalCommission += commission.commission(units: size, price: price)
        tradedValue += abs(size * price)
        lots[symbol, default: []].append(OpenLot(symbol: symbol, size: size, entryPrice: price, entryTime: time,
                                                 entryBar: bar, tag: tag))
        lotFinancing[symbol, default: []].append(0)
    }

    /// Sets the bracket children of the newest lot of `symbol`.
    mutating func attachBracket(symbol: String, stopLoss: Int?, takeProfit: Int?) {
        guard var l = lots[symbol], !l.isEmpty else { return }
        l[l.count - 1].stopLossOrderID = stopLoss
        l[l.count - 1].takeProfitOrderID = takeProfit
        lots[symbol] = l
    }

    /// Closes up to `units` (positive) of `symbol`'s position that has the sign opposite to `side`... i.e. reduces
    /// lots FIFO by `units` at `price`; returns the units actually closed and the closed lots' bracket order ids
    /// (which the broker then cancels).
    @discardableResult
    public mutating func reduce(symbol: String, units: Double, price: Double, time: Int64, bar: Int,
                                reason: String) -> (closed: Double, bracketIDs: [Int]) {
        guard var l = lots[symbol], !l.isEmpty else { return (0, []) }
        var fin = lotFinancing[symbol] ?? Array(repeating: 0, count: l.count)
        var left = units
        var ids: [Int] = []
        while left > 0, !l.isEmpty {
            let lot = l[0]
            let take = min(abs(lot.size), left)
            let closedSize = lot.size > 0 ? take : -take
            let financing = fin[0] * take / abs(lot.size)
            record(lot, size: closedSize, exitPrice: price, time: time, bar: bar, reason: reason, financing: financing)
            left -= take
            if take >= abs(lot.size) {
                l.removeFirst()
                fin.removeFirst()
                ids += [lot.stopLossOrderID, lot.takeProfitOrderID].compactMap { $0 }
            } else {
                l[0].size -= closedSize
                fin[0] -= financing
            }
        }
        lots[symbol] = l
        lotFinancing[symbol] = fin
        return (units - left, ids)
    }

    /// Closes one specific lot (a bracket child fired) at `price`.
    mutating func closeLot(symbol: String, bracketOrderID: Int, price: Double, time: Int64, bar: Int,
                           reason: String) -> [Int] {
        guard var l = lots[symbol],
              let i = l.firstIndex(where: { $0.stopLossOrderID == bracketOrderID || $0.takeProfitOrderID == bracketOrderID })
        else { return [] }
        let lot = l.remove(at: i)
        var fin = lotFinancing[symbol] ?? []
        let financing = i < fin.count ? fin.remove(at: i) : 0
        record(lot, size: lot.size, exitPrice: price, time: time, bar: bar, reason: reason, financing: financing)
        lots[symbol] = l
        lotFinancing[symbol] = fin
        return [lot.stopLossOrderID, lot.takeProfitOrderID].compactMap { $0 }.filter { $0 != bracketOrderID }
    }

    /// Charges financing on every open lot of `symbol` for `rollovers` rollovers at `price`.
    mutating func chargeFinancing(symbol: String, model: FinancingModel, price: Double, rollovers: Int) {
        guard rollovers > 0, let l = lots[symbol] else { return }
        for (i, lot) in l.enumerated() {
            let c = model.charge(units: lot.size, price: price, rollovers: rollovers)
            cash -= c
            totalFinancing += c
            lotFinancing[symbol]?[i] += c
        }
    }

    private mutating func record(_ lot: OpenLot, size: Double, exitPrice: Double, time: Int64, bar: Int,
                                 reason: String, financing: Double) {
        let gross = size * (exitPrice - lot.entryPrice)
        let exitCommission = commission.commission(units: size, price: exitPrice)
        cash += gross - exitCommission
        totalCommission += exitCommission
        tradedValue += abs(size * exitPrice)
        let both = exitCommission + commission.commission(units: size, price: lot.entryPrice)
        closedTrades.append(ClosedTrade(symbol: lot.symbol, size: size, entryTime: lot.entryTime, exitTime: time,
                                        entryBar: lot.entryBar, exitBar: bar, entryPrice: lot.entryPrice,
                                        exitPrice: exitPrice, pnl: gross - both, commission: both,
                                        financing: financing, tag: lot.tag, exitReason: reason))
    }

    /// Zeroes cash after a wipe-out (equity <= 0): the simulation stops, as backtesting.py's `_OutOfMoneyError`.
    mutating func wipeOut() { cash = 0 }
}

/// Python's `a // b` for floats (CPython's `float_floor_div`: fmod-based, snapped to the nearest integer), so
/// unit counts computed from cash agree with backtesting.py to the last unit.
public func pythonFloorDivide(_ vx: Double, _ wx: Double) -> Double {
    guard wx != 0 else { return .nan }
    var mod = vx.truncatingRemainder(dividingBy: wx)
    var div = (vx - mod) / wx
    if mod != 0 {
        if (wx < 0) != (mod < 0) {
            mod += wx
            div -= 1
        }
    }
    if div != 0 {
        var floorDiv = div.rounded(.down)
        if div - floorDiv > 0.5 { floorDiv += 1 }
        return floorDiv
    }
    return Double(sign: (vx / wx).sign, exponentBitPattern: 0, significandBitPattern: 0)
}
