import Common
import Foundation

/// Close prices to draw trades on (bar open times and closes of the traded series).
public struct PriceSeries: Sendable {
    public var symbol: String
    public var times: [Int64]
    public var close: [Double]
    public init(symbol: String, times: [Int64], close: [Double]) {
        self.symbol = symbol
        self.times = times
        self.close = close
    }
}

/// A self-contained HTML report (inline CSS and SVG; opens offline): the metrics, equity and drawdown charts,
/// the price with trade entries/exits, the monthly returns table and the trade list; with a `baseline`, a
/// buy-and-hold column in the metrics and its equity curve drawn over the strategy's.
public struct HTMLReport {
    public let result: BacktestResult
    public let metrics: PerformanceMetrics
    public var settings: [(String, String)]
    public var prices: PriceSeries?
    /// Buy-and-hold over the same bars: a column of the metrics table and a line on the equity chart.
    public var baseline: BuyAndHoldBaseline?
    /// Trades listed in the table (all are in trades.csv).
    public var maxTradeRows = 500
    /// HTML sections a strategy adds after the trades table (the ensemble's calibration, weights and breakers:
    /// `Robot.EnsembleReport`); written as given.
    public var extraSections = ""

    public init(result: BacktestResult, metrics: PerformanceMetrics, settings: [(String, String)] = [],
                prices: PriceSeries? = nil, baseline: BuyAndHoldBaseline? = nil) {
        self.result = result
        self.metrics = metrics
        self.settings = settings
        self.prices = prices
        self.baseline = baseline
    }

    public func render() -> String {
        let title = "\(result.strategy) on \(result.symbols.joined(separator: ", ")) (\(result.timeframe))"
        var h = htmlPageStart(title: title, css: ".pos{color:#1a7f37}.neg{color:#c62828}\n"
                                  + ".grid{display:grid;grid-template-columns:repeat(2,auto);gap:0 32px;width:max-content}")
        h += "<p>" + escapeHTML(result.parameters.map { "\($0.0) = \($0.1)" }.joined(separator: ", ")) + "</p>\n"
        if let t = result.ruinTime, let e = result.ruinEquity {
            h += "<p class=\"neg\"><b>Ruined</b> at \(UTCTime.plain(t)): equity \(money(e)) &le; "
                + "\(pct(result.ruinFraction)) of initial cash\(result.wipedOut ? " (wiped out; the run stopped)" : "")."
                + "</p>\n"
        }
        if result.rejectedOrders > 0 {
            h += "<p class=\"neg\">\(result.rejectedOrders) orders rejected: " + escapeHTML(result.rejectionsByReason
                .map { "\($0.reason) \($0.count)" }.joined(separator: ", ")) + "</p>\n"
        }
        h += "<pre>" + escapeHTML(TextReport(result: result, metrics: metrics, settings: settings, baseline: baseline)
            .render()) + "</pre>\n"

        h += "<h2>Equity</h2>\n"
        var equityLines = [SVGChart.Line(times: result.barTimes, values: result.equity, color: "#1f5fbf")]
        if let baseline {
            h += "<p style=\"font-size:12px\"><span style=\"color:#1f5fbf\">&#9644; \(escapeHTML(result.strategy))</span>"
                + " &nbsp; <span style=\"color:#e08a00\">&#9644; buy &amp; hold</span></p>\n"
            equityLines.append(SVGChart.Line(times: baseline.result.barTimes, values: baseline.result.equity,
                                             color: "#e08a00"))
        }
        h += SVGChart(lines: equityLines, valueFormat: { String(format: "%.0f", $0) }).render()
        var peak = -Double.infinity
        let dd = result.equity.map { e -> Double in peak = max(peak, e); return peak > 0 ? (e / peak - 1) * 100 : 0 }
        h += "<h2>Drawdown (%)</h2>\n"
        h += SVGChart(height: 160, lines: [SVGChart.Line(times: result.barTimes, values: dd, color: "#c62828",
                                                         fill: "#f6d5d5")],
                      valueFormat: { String(format: "%.1f", $0) }).render()
        if let prices {
            h += "<h2>\(escapeHTML(prices.symbol)) close with trades</h2>\n"
            h += "<p style=\"font-size:12px\">▲ long entry, ▼ short entry, ○ exit (hover for details)</p>\n"
            var markers: [SVGChart.Marker] = []
            for t in result.trades.prefix(2_000) where t.symbol == prices.symbol {
                markers.append(SVGChart.Marker(time: t.entryTime, value: t.entryPrice, shape: t.isLong ? "up" : "down",
                                               color: t.isLong ? "#1a7f37" : "#c62828",
                                               title: "\(t.isLong ? "long" : "short") \(number(abs(t.size))) @ \(number(t.entryPrice)) \(UTCTime.plain(t.entryTime))"))
                markers.append(SVGChart.Marker(time: t.exitTime, value: t.exitPrice, shape: "exit", color: "#333",
                                               title: "exit @ \(number(t.exitPrice)) \(UTCTime.plain(t.exitTime)), pnl \(money(t.pnl))"))
            }
            h += SVGChart(height: 300, lines: [SVGChart.Line(times: prices.times, values: prices.close, color: "#555")],
                          markers: markers).render()
        }
        h += monthlyTable()
        h += tradesTable()
        h += extraSections
        h += "<p style=\"font-size:11px;color:#777\">Generated by aitrader backtest. Times are UTC bar open times; each equity point is the equity at that bar's close.</p>\n"
        return h + "</body></html>\n"
    }

    private func monthlyTable() -> String {
        let monthly = MonthlyReturns(times: result.barTimes, equity: result.equity, initial: result.initialCash)
        guard !monthly.years.isEmpty else { return "" }
        let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        var h = "<h2>Monthly returns (%)</h2>\n<table><tr><th class=\"l\">Year</th>"
        h += names.map { "<th>\($0)</th>" }.joined() + "<th>Year</th></tr>\n"
        for y in monthly.years {
            h += "<tr><td class=\"l\">\(y.year)</td>"
            for m in y.months { h += m.map { cell($0) } ?? "<td></td>" }
            h += cell(y.total) + "</tr>\n"
        }
        return h + "</table>\n"
    }

    private func cell(_ v: Double) -> String {
        let alpha = min(0.6, abs(v) * 4)
        let bg = v >= 0 ? "rgba(26,127,55,\(String(format: "%.2f", alpha)))" : "rgba(198,40,40,\(String(format: "%.2f", alpha)))"
        return "<td style=\"background:\(bg)\">\(String(format: "%.2f", v * 100))</td>"
    }

    private func tradesTable() -> String {
        guard !result.trades.isEmpty else { return "<h2>Trades</h2><p>No closed trades.</p>\n" }
        var h = "<h2>Trades (\(result.trades.count)\(result.trades.count > maxTradeRows ? ", first \(maxTradeRows) shown" : ""))</h2>\n"
        h += "<table><tr><th class=\"l\">Entry</th><th class=\"l\">Exit</th><th class=\"l\">Side</th><th>Size</th>"
        h += "<th>Entry price</th><th>Exit price</th><th>P&amp;L</th><th>Return %</th><th>Commission</th></tr>\n"
        for t in result.trades.prefix(maxTradeRows) {
            let cls = t.pnl >= 0 ? "pos" : "neg"
            h += "<tr><td class=\"l\">\(UTCTime.plain(t.entryTime))</td><td class=\"l\">\(UTCTime.plain(t.exitTime))</td>"
            h += "<td class=\"l\">\(t.isLong ? "long" : "short")</td><td>\(number(abs(t.size)))</td>"
            h += "<td>\(number(t.entryPrice))</td><td>\(number(t.exitPrice))</td><td class=\"\(cls)\">\(money(t.pnl))</td>"
            h += "<td class=\"\(cls)\">\(String(format: "%.2f", t.returnFraction * 100))</td><td>\(money(t.commission))</td></tr>\n"
        }
        return h + "</table>\n"
    }
}
