import Common
import Foundation

/// The plain-text summary printed by `aitrader backtest` and written to report.txt; with a `baseline`, the return
/// metrics have a second column, buy-and-hold of the same instrument over the same bars.
public struct TextReport {
    public let result: BacktestResult
    public let metrics: PerformanceMetrics
    public var settings: [(String, String)]
    /// When set, the return metrics get a second column: buy-and-hold over the same bars.
    public var baseline: BuyAndHoldBaseline?

    public init(result: BacktestResult, metrics: PerformanceMetrics, settings: [(String, String)] = [],
                baseline: BuyAndHoldBaseline? = nil) {
        self.result = result
        self.metrics = metrics
        self.settings = settings
        self.baseline = baseline
    }

    public func render() -> String {
        let m = metrics
        let params = result.parameters.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        var rows: [(String, String)] = [
            ("Strategy", "\(result.strategy) \(params)"),
            ("Symbols", result.symbols.joined(separator: ", ") + " (\(result.timeframe))"),
            ("Period", "\(m.start.map { UTCTime.plain($0) } ?? "-") → \(m.end.map { UTCTime.plain($0) } ?? "-") (\(m.bars) bars)"),
        ]
        rows += settings.map { ($0.0.replacingOccurrences(of: "_", with: " ").capitalized, $0.1) }
        // The return metrics, with buy-and-hold's beside them when there is a baseline.
        let b = baseline?.metrics
        var compared: [(String, String, String)] = [
            ("Initial cash", money(m.initialCash), b.map { money($0.initialCash) } ?? ""),
            ("Final equity", money(m.finalEquity), b.map { money($0.finalEquity) } ?? ""),
            ("Total return", pct(m.totalReturn), b.map { pct($0.totalReturn) } ?? ""),
            ("CAGR", pct(m.cagr), b.map { pct($0.cagr) } ?? ""),
            ("Annual volatility", pct(m.annualVolatility), b.map { pct($0.annualVolatility) } ?? ""),
            ("Sharpe ratio", fixed(m.sharpe), b.map { fixed($0.sharpe) } ?? ""),
            ("Sortino ratio", fixed(m.sortino), b.map { fixed($0.sortino) } ?? ""),
            ("Max drawdown", pct(m.maxDrawdown) + dateRange(m.maxDrawdownStart, m.maxDrawdownEnd),
             b.map { pct($0.maxDrawdown) } ?? ""),
            ("Calmar ratio", fixed(m.calmar), b.map { fixed($0.calmar) } ?? ""),
        ]
        if b != nil {
            compared.insert(("", "Strategy", "Buy & hold"), at: 0)
            let width = compared.map(\.1.count).max() ?? 0
            rows += compared.map { ($0.0, $0.1.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.2) }
        } else {
            rows += compared.map { ($0.0, $0.1) }
        }
        rows += [
            ("Trades", "\(m.numTrades)"),
            ("Win rate", pct(m.winRate)),
            ("Profit factor", fixed(m.profitFactor)),
            ("Expectancy", money(m.expectancy) + " per trade (" + pct(m.averageTradeReturn) + ")"),
            ("Average win / loss", money(m.averageWin) + " / " + money(m.averageLoss)),
            ("Exposure", pct(m.exposure)),
            ("Turnover", fixed(m.turnover) + "× equity"),
            ("Commission", money(m.totalCommission)),
        ]
        if !result.openLots.isEmpty {
            rows.append(("Open at end", result.openLots.map { "\($0.symbol) \(number($0.size)) @ \(number($0.entryPrice))" }
                .joined(separator: ", ")))
        }
        let rejected = result.rejectionsByReason
        rows.append(("Rejected orders", "\(result.rejectedOrders)" + (rejected.isEmpty ? "" : " ("
            + rejected.map { "\($0.reason) \($0.count)" }.joined(separator: ", ") + ")")))
        let threshold = pct(result.ruinFraction) + " of initial cash"
        if let t = result.ruinTime, let e = result.ruinEquity {
            rows.append(("RUINED", "equity \(money(e)) <= \(threshold) at \(UTCTime.plain(t))"))
        } else {
            rows.append(("Ruined", "no (equity stayed above \(threshold))"))
        }
        if result.wipedOut { rows.append(("WIPED OUT", "equity reached 0; the run stopped")) }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
            .joined(separator: "\n") + "\n"
    }

    private func dateRange(_ a: Int64?, _ b: Int64?) -> String {
        guard let a, let b else { return "" }
        return " (\(UTCTime.plain(a, dateOnly: true)) → \(UTCTime.plain(b, dateOnly: true)))"
    }
}

func pct(_ v: Double) -> String { v.isFinite ? String(format: "%.2f %%", v * 100) : "-" }
func fixed(_ v: Double) -> String { v.isFinite ? String(format: "%.3f", v) : "-" }
func money(_ v: Double) -> String { v.isFinite ? String(format: "%.2f", v) : "-" }
