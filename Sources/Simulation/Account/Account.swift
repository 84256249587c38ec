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
    public private(set) var closedTrades: [ClosedTrade] = []
    /// Commission paid so far (all legs) and financing charged so far.
    public private(set) var totalCommission: Double = 0
    public private(set) var totalFinancing: Double = 0
    /// Σ |units × price| of every fill, for turnover.
    public private(set) var tradedValue: Double = 0

    // Per-symbol state lives in slots (dense indices) so the per-bar hot path needs no hashing.
    /// Symbol of each slot.
    public private(set) var slotSymbols: [String] = []
    private var slotOf: [String: Int] = [:]
    private var lotsBySlot: [[OpenLot]] = []
    /// Financing charged per open lot, reported on the closed trade.
    private var financingBySlot: [[Double]] = []
    /// Σ size and Σ size × entry of each slot's lots, summed in lot order (backtesting.py's sums).
    private var unitsBySlot: [Double] = []
    private var costBySlot: [Double] = []

    public init(cash: Double, commission: CommissionModel = .none, leverage: Double = 1) {
        precondition(cash > 0, "initial cash must be > 0")
        initialCash = cash
        self.cash = cash
        self.commission = commission
        self.leverage = leverage
    }

    /// The slot of `symbol`, created on first use.
    public mutating func slot(for symbol: String) -> Int {
        if let s = slotOf[symbol] { return s }
        slotOf[symbol] = slotSymbols.count
        slotSymbols.append(symbol)
        lotsBySlot.append([])
        financingBySlot.append([])
        unitsBySlot.append(0)
        costBySlot.append(0)
        return slotSymbols.count - 1
    }

    public func existingSlot(_ symbol: String) -> Int? { slotOf[symbol] }

    /// Open lots per symbol, oldest first.
    public var lots: [String: [OpenLot]] {
        var d: [String: [OpenLot]] = [:]
        for (i, l) in lotsBySlot.enumerated() where !l.isEmpty { d[slotSymbols[i]] = l }
        return d
    }

    public func lots(_ symbol: String) -> [OpenLot] { slotOf[symbol].map { lotsBySlot[$0] } ?? [] }

    /// Signed units held in `symbol`.
    public func positionSize(_ symbol: String) -> Double { slotOf[symbol].map { unitsBySlot[$0] } ?? 0 }

    @inline(__always) public func positionSize(slot: Int) -> Double { unitsBySlot[slot] }

    /// Σ size × entry of the slot's open lots (0 when flat).
    @inline(__always) public func positionCost(slot: Int) -> Double { lotsBySlot[slot].isEmpty ? 0 : costBySlot[slot] }

    /// The position's average entry price (0 when flat).
    public func averagePrice(_ symbol: String) -> Double {
        guard let s = slotOf[symbol], unitsBySlot[s] != 0 else { return 0 }
        return costBySlot[s] / unitsBySlot[s]
    }

    /// Unrealised P&L of `symbol` at `mark`: mark × Σ size − Σ size × entry (backtesting.py's formula).
    public func unrealizedPnL(_ symbol: String, mark: Double) -> Double {
        slotOf[symbol].map { unrealizedPnL(slot: $0, mark: mark) } ?? 0
    }

    @inline(__always) public func unrealizedPnL(slot: Int, mark: Double) -> Double {
        lotsBySlot[slot].isEmpty ? 0 : mark * unitsBySlot[slot] - costBySlot[slot]
    }

    /// Realised P&L so far (closed trades, net of their commission).
    public var realizedPnL: Double { closedTrades.reduce(0) { $0 + $1.pnl } }

    public var hasOpenLots: Bool { lotsBySlot.contains { !$0.isEmpty } }

    /// Cash plus unrealised P&L of every open symbol at `marks` (a symbol without a mark counts at entry).
    public func equity(marks: [String: Double]) -> Double {
        var e = cash
        for (s, l) in lotsBySlot.enumerated() where !l.isEmpty {
            e += unrealizedPnL(slot: s, mark: marks[slotSymbols[s]] ?? costBySlot[s] / unitsBySlot[s])
        }
        return e
    }

    /// Cash plus unrealised P&L with marks given per slot (NaN or missing: the average entry price).
    public func equity(slotMarks marks: [Double]) -> Double {
        var e = cash
        for (s, l) in lotsBySlot.enumerated() where !l.isEmpty { e += unrealizedPnL(slot: s, mark: mark(s, marks)) }
        return e
    }

    private func mark(_ s: Int, _ marks: [Double]) -> Double {
        s < marks.count && !marks[s].isNaN ? marks[s] : costBySlot[s] / unitsBySlot[s]
    }

    /// max(0, equity − margin used) with marks per slot.
    public func marginAvailable(slotMarks marks: [Double]) -> Double {
        var used = 0.0
        for (s, l) in lotsBySlot.enumerated() where !l.isEmpty {
            let m = mark(s, marks)
            for lot in l { used += abs(lot.size) * m / leverage }
        }
        return max(0, equity(slotMarks: marks) - used)
    }

    /// Equity when only `slot` has open lots (the single-symbol fast path of the backtester).
    @inline(__always)
    public func equity(slot: Int, mark: Double) -> Double { cash + unrealizedPnL(slot: slot, mark: mark) }

    /// max(0, equity − margin used), margin used = Σ |size| × mark / leverage.
    public func marginAvailable(marks: [String: Double]) -> Double {
        var used = 0.0
        for (s, l) in lotsBySlot.enumerated() where !l.isEmpty {
            let mark = marks[slotSymbols[s]] ?? costBySlot[s] / unitsBySlot[s]
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
        let k = slot(for: symbol)
        lotsBySlot[k].append(OpenLot(symbol: symbol, size: size, entryPrice: price, entryTime: time, entryBar: bar,
                                     tag: tag))
        financingBySlot[k].append(0)
        resum(k)
    }

    /// Recomputes a slot's Σ size and Σ size × entry in lot order (after any change to its lots).
    private mutating func resum(_ k: Int) {
        var units = 0.0, cost = 0.0
        for lot in lotsBySlot[k] { units += lot.size; cost += lot.size * lot.entryPrice }
        unitsBySlot[k] = units
        costBySlot[k] = cost
    }

    /// Sets the bracket children of the newest lot of `symbol`.
    mutating func attachBracket(symbol: String, stopLoss: Int?, takeProfit: Int?) {
        guard let k = slotOf[symbol], !lotsBySlot[k].isEmpty else { return }
        lotsBySlot[k][lotsBySlot[k].count - 1].stopLossOrderID = stopLoss
        lotsBySlot[k][lotsBySlot[k].count - 1].takeProfitOrderID = takeProfit
    }

    /// Closes up to `units` (positive) of `symbol`'s position that has the sign opposite to `side`... i.e. reduces
    /// lots FIFO by `units` at `price`; returns the units actually closed and the closed lots' bracket order ids
    /// (which the broker then cancels).
    @discardableResult
    public mutating func reduce(symbol: String, units: Double, price: Double, time: Int64, bar: Int,
                                reason: String) -> (closed: Double, bracketIDs: [Int]) {
        guard let k = slotOf[symbol], !lotsBySlot[k].isEmpty else { return (0, []) }
        var l = lotsBySlot[k]
        var fin = financingBySlot[k]
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
        lotsBySlot[k] = l
        financingBySlot[k] = fin
        resum(k)
        return (units - left, ids)
    }

    /// Closes one specific lot (a bracket child fired) at `price`.
    mutating func closeLot(symbol: String, bracketOrderID: Int, price: Double, time: Int64, bar: Int,
                           reason: String) -> [Int] {
        guard let k = slotOf[symbol],
              let i = lotsBySlot[k].firstIndex(where: {
                  $0.stopLossOrderID == bracketOrderID || $0.takeProfitOrderID == bracketOrderID })
        else { return [] }
        let lot = lotsBySlot[k].remove(at: i)
        let financing = financingBySlot[k].remove(at: i)
        record(lot, size: lot.size, exitPrice: price, time: time, bar: bar, reason: reason, financing: financing)
        resum(k)
        return [lot.stopLossOrderID, lot.takeProfitOrderID].compactMap { $0 }.filter { $0 != bracketOrderID }
    }

    /// Charges financing on every open lot of `symbol` for `rollovers` rollovers at `price`.
    mutating func chargeFinancing(symbol: String, model: FinancingModel, price: Double, rollovers: Int) {
        guard rollovers > 0, let k = slotOf[symbol] else { return }
        for (i, lot) in lotsBySlot[k].enumerated() {
            let c = model.charge(units: lot.size, price: price, rollovers: rollovers)
            cash -= c
            totalFinancing += c
            financingBySlot[k][i] += c
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
