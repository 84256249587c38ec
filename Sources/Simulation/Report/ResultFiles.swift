import Common
import Foundation

/// Writes a backtest's files: summary.json, trades.csv, equity.csv, orders.csv, fills.csv, report.txt,
/// report.html, and equity.parquet / trades.parquet.
///
/// - trades.csv: `entry_time,exit_time,side,size,entry_price,exit_price,pnl,commission` (ISO-8601 UTC times,
///   size unsigned, side long/short), then `symbol,return,exit_reason`.
/// - equity.csv: `time,equity,cash,drawdown,exposure`, labelled by bar open time (as pandas/backtesting.py do);
///   each value is the equity at that bar's close.
/// - summary.json: every `PerformanceMetrics` value in snake_case, dates, strategy and run settings; `wiped_out`,
///   `ruined`, `ruin_time` (bar open time, ISO-8601, or null), `ruin_equity`, `ruin_fraction` (see
///   `BacktestResult.ruinIndex`), `rejected_orders` and `rejected_orders_by_reason` (`{"insufficient_margin": n}`);
///   with a baseline, `baseline_buy_and_hold`: `{final_equity, total_return, cagr, annual_volatility, sharpe,
///   sortino, max_drawdown, calmar, total_commission, units, entry_price, entry_time}` (`BuyAndHoldBaseline`).
public struct ResultFiles {
    public let result: BacktestResult
    public let metrics: PerformanceMetrics
    /// Extra settings recorded in summary.json (`symbol`, `profile`, `risk_profile`, `data`...).
    public var settings: [(String, String)]
    /// Buy-and-hold of the same instrument over the same bars (`baseline_buy_and_hold` in summary.json, a column
    /// of report.txt, an overlay in report.html).
    public var baseline: BuyAndHoldBaseline?
    /// A strategy's own report: text appended to report.txt, HTML sections appended to report.html, and extra
    /// files (name, contents) written beside the others (the ensemble's `ensemble.json`).
    public var extraText = ""
    public var extraHTML = ""
    public var extraFiles: [(name: String, contents: String)] = []

    public init(result: BacktestResult, metrics: PerformanceMetrics, settings: [(String, String)] = [],
                baseline: BuyAndHoldBaseline? = nil) {
        self.result = result
        self.metrics = metrics
        self.settings = settings
        self.baseline = baseline
    }

    /// Writes every file into `directory` (created if needed); returns the paths written.
    @discardableResult
    public func write(to directory: String, prices: PriceSeries? = nil) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        func put(_ name: String, _ text: String) throws {
            let path = (directory as NSString).appendingPathComponent(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            written.append(path)
        }
        try put("summary.json", summaryJSON())
        try put("trades.csv", tradesCSV())
        try put("equity.csv", equityCSV())
        try put("orders.csv", ordersCSV())
        try put("fills.csv", fillsCSV())
        try put("report.txt", TextReport(result: result, metrics: metrics, settings: settings, baseline: baseline)
            .render() + extraText)
        var html = HTMLReport(result: result, metrics: metrics, settings: settings, prices: prices, baseline: baseline)
        html.extraSections = extraHTML
        try put("report.html", html.render())
        for file in extraFiles { try put(file.name, file.contents) }
        written += try writeParquet(to: directory)
        return written
    }

    public func summaryJSON() -> String {
        var lines: [String] = []
        lines.append("  \"strategy\": \(json(result.strategy))")
        lines.append("  \"parameters\": {" + result.parameters.map { "\(json($0.0)): \(json($0.1))" }
            .joined(separator: ", ") + "}")
        lines.append("  \"symbols\": [" + result.symbols.map(json).joined(separator: ", ") + "]")
        lines.append("  \"timeframe\": \(json(result.timeframe.description))")
        for (k, v) in settings { lines.append("  \(json(k)): \(json(v))") }
        for (k, v) in metrics.namedValues {
            lines.append("  \(json(k)): \(v.map(number) ?? "null")")
        }
        for (k, v) in metrics.namedDates { lines.append("  \(json(k)): \(v.map(json) ?? "null")") }
        lines.append("  \"total_financing\": \(number(result.totalFinancing))")
        lines.append("  \"open_positions\": [" + result.openLots.map { lot in
            "{\"symbol\": \(json(lot.symbol)), \"size\": \(number(lot.size)), \"entry_price\": \(number(lot.entryPrice)), "
                + "\"entry_time\": \(json(UTCTime.iso8601(lot.entryTime)))}"
        }.joined(separator: ", ") + "]")
        lines.append("  \"wiped_out\": \(result.wipedOut)")
        lines.append("  \"ruined\": \(result.ruined)")
        lines.append("  \"ruin_time\": \(result.ruinTime.map { json(UTCTime.iso8601($0)) } ?? "null")")
        lines.append("  \"ruin_equity\": \(result.ruinEquity.map(number) ?? "null")")
        lines.append("  \"ruin_fraction\": \(number(result.ruinFraction))")
        lines.append("  \"rejected_orders\": \(result.rejectedOrders)")
        lines.append("  \"rejected_orders_by_reason\": {" + result.rejectionsByReason
            .map { "\(json($0.reason)): \($0.count)" }.joined(separator: ", ") + "}")
        if let baseline {
            var fields = baseline.namedValues.map { "\(json($0.0)): \($0.1.map(number) ?? "null")" }
            fields.append("\"entry_time\": \(baseline.entry.map { json(UTCTime.iso8601($0.time)) } ?? "null")")
            lines.append("  \"baseline_buy_and_hold\": {" + fields.joined(separator: ", ") + "}")
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    public func tradesCSV() -> String {
        var out = "entry_time,exit_time,side,size,entry_price,exit_price,pnl,commission,symbol,return,exit_reason\n"
        for t in result.trades {
            out += [UTCTime.iso8601(t.entryTime), UTCTime.iso8601(t.exitTime), t.isLong ? "long" : "short",
                    number(abs(t.size)), number(t.entryPrice), number(t.exitPrice), number(t.pnl),
                    number(t.commission), t.symbol, number(t.returnFraction), t.exitReason].joined(separator: ",")
            out += "\n"
        }
        return out
    }

    public func equityCSV() -> String {
        var out = "time,equity,cash,drawdown,exposure\n"
        out.reserveCapacity(result.equity.count * 64)
        var peak = -Double.infinity
        for i in result.equity.indices {
            peak = max(peak, result.equity[i])
            let dd = peak > 0 ? result.equity[i] / peak - 1 : 0
            out += UTCTime.iso8601(result.barTimes[i]) + "," + number(result.equity[i]) + "," + number(result.cash[i])
                + "," + number(dd) + "," + number(result.exposure[i]) + "\n"
        }
        return out
    }

    public func fillsCSV() -> String {
        var out = "time,order_id,symbol,side,units,price,commission,bar\n"
        for f in result.fills {
            out += [UTCTime.iso8601(f.time), "\(f.orderID)", f.symbol, f.side.rawValue, number(f.units), number(f.price),
                    number(f.commission), "\(f.bar)"].joined(separator: ",") + "\n"
        }
        return out
    }

    public func ordersCSV() -> String {
        var out = "id,symbol,side,kind,size,status,reason,submitted_at,filled_quantity,average_fill_price,parent_id\n"
        for o in result.orders {
            let size: String
            switch o.request.size {
            case .units(let u): size = number(u)
            case .equityFraction(let f): size = "equity:" + number(f)
            case .closePosition: size = "close"
            }
            out += ["\(o.id)", o.request.symbol, o.request.side.rawValue, o.request.kind.name, size,
                    o.status.rawValue, o.reason?.rawValue ?? "", UTCTime.iso8601(o.submittedAt),
                    number(o.filledQuantity), number(o.averageFillPrice), o.parentID.map { "\($0)" } ?? ""]
                .joined(separator: ",") + "\n"
        }
        return out
    }
}

/// Shortest round-trip text of a double ("1.07219", "10000"); "nan"/"inf" as JSON null by callers.
func number(_ v: Double) -> String {
    guard v.isFinite else { return "null" }
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

func json(_ s: String) -> String { JSONText.quote(s) }
