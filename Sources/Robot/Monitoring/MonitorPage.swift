import Common
import Foundation

/// The monitor's `/` page (a small self-refreshing HTML table, every value escaped) and `/health` JSON.
enum MonitorPage {
    static func healthJSON(_ h: TradingMonitor.Health) -> String {
        let problems = h.problems.map(JSONText.quote).joined(separator: ",")
        return #"{"status":"\#(h.healthy ? "ok" : "unhealthy")","problems":[\#(problems)]}"#
    }

    static func html(status: RobotStatus?, health: TradingMonitor.Health, alerts: [RobotAlert]) -> String {
        var rows: [(String, String)] = [("health", health.healthy ? "ok" : health.problems.joined(separator: "; "))]
        if let s = status {
            rows += [("mode", s.mode), ("symbols", s.symbols.joined(separator: ", ")), ("cycles", "\(s.cycles)"),
                     ("last bar close", s.lastCycleTime.map(UTCTime.iso8601) ?? "-"),
                     ("equity", String(format: "%.2f", s.equity)), ("balance", String(format: "%.2f", s.balance)),
                     ("daily P&L", s.dailyPnL.map { String(format: "%.2f", $0) } ?? "-"),
                     ("drawdown", s.drawdown.map { String(format: "%.2f %%", $0 * 100) } ?? "-"),
                     ("open orders", "\(s.openOrders)"), ("orders submitted", "\(s.ordersSubmitted)"), ("fills", "\(s.fills)"),
                     ("breakers", s.breakers.isEmpty ? "none" : s.breakers.joined(separator: "; "))]
            for p in s.positions {
                rows.append(("position \(p.symbol)", "\(p.quantity) @ \(String(format: "%.5f", p.averagePrice))"))
            }
            for (symbol, signal) in s.lastSignals.sorted(by: { $0.key < $1.key }) { rows.append(("signal \(symbol)", signal)) }
        }
        let table = rows.map { "<tr><th>\(html($0.0))</th><td>\(html($0.1))</td></tr>" }.joined(separator: "\n")
        let alertRows = alerts.reversed().map {
            "<tr><td>\(html($0.level.rawValue))</td><td>\(html($0.title))</td><td>\(html($0.message))</td></tr>"
        }.joined(separator: "\n")
        return """
            <!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
            <title>AITrader robot</title><style>body{font-family:sans-serif}th{text-align:left;padding-right:1em}</style></head>
            <body><h1>AITrader robot</h1><table>
            \(table)
            </table><h2>Alerts</h2><table>
            \(alertRows.isEmpty ? "<tr><td>none</td></tr>" : alertRows)
            </table><p><a href="/metrics">metrics</a> · <a href="/health">health</a></p></body></html>
            """
    }

    static func html(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
