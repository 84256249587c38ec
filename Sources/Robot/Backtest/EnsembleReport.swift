import Common
import Foundation
import MarketData
import Models
import Risk
import Simulation

/// The ensemble backtest's own report, beside the standard result files: `ensemble.json`, a section of report.html
/// and of report.txt. What a user judging a model-driven strategy asks first:
///
/// - **Calibration on the traded period**: the p(up) each decision used (re-weighted, as the robot saw it) against the
///   realised direction of the next bar (close[i+1] > close[i]); 10 equal-width bins with counts, mean p and observed
///   frequency, ECE = Σ n_b/N · |mean p_b − freq_b| (the plain binned value), Brier score, base rate, and the
///   accuracy of the directional calls.
/// - **Each model's effective weight over time** (regime, accuracy and volatility rules applied: what the ensemble
///   combined with at each decision).
/// - **Breaker events** (time, kind, tripped/reset, reason), **signals by action**, **risk rejections by rule**.
/// - **Comparison** with buy-and-hold and sma_cross on the same bars and execution models: total return, CAGR, Sharpe,
///   max drawdown, trades, win rate.
///
///     let report = EnsembleReport(run: run, bars: bars, comparison: [ensemble, buyAndHold, smaCross])
///     files.extraText = report.text(); files.extraHTML = report.html()
///     files.extraFiles = [("ensemble.json", report.json())]
public struct EnsembleReport {
    /// One strategy of the comparison table.
    public struct Entry {
        public var name: String
        public var result: BacktestResult
        public var metrics: PerformanceMetrics
        public init(name: String, result: BacktestResult, metrics: PerformanceMetrics) {
            self.name = name
            self.result = result
            self.metrics = metrics
        }
    }

    /// The reliability of p(up) against the next bar's direction.
    public struct Calibration: Sendable, Equatable {
        public struct Bin: Sendable, Equatable {
            public var lower: Double, upper: Double
            public var count: Int
            /// Mean p(up) and observed share of up bars (NaN when empty).
            public var meanP: Double, frequency: Double
        }
        public var bins: [Bin]
        public var samples: Int
        public var ece: Double
        public var brier: Double
        /// Share of up bars among the samples.
        public var baseRate: Double
        /// Decisions with a direction (confidence above the threshold) and the share of them that were right.
        public var directionalCalls: Int
        public var directionalAccuracy: Double

        /// `p[k]` against `up[k]` (1 = the next bar closed higher) in `bins` equal-width bins (the last includes 1).
        public init(p: [Double], up: [Int], direction: [Int], bins count: Int = 10) {
            var n = [Int](repeating: 0, count: count), sp = [Double](repeating: 0, count: count), sy = sp
            var brierSum = 0.0, calls = 0, right = 0
            for k in p.indices {
                let b = min(max(Int(p[k] * Double(count)), 0), count - 1)
                n[b] += 1; sp[b] += p[k]; sy[b] += Double(up[k])
                brierSum += (p[k] - Double(up[k])) * (p[k] - Double(up[k]))
                if direction[k] != 0 {
                    calls += 1
                    if (direction[k] > 0) == (up[k] == 1) { right += 1 }
                }
            }
            var made: [Bin] = []
            for b in 0..<count {
                let width = 1 / Double(count), size = Double(n[b])
                let meanP: Double = n[b] == 0 ? .nan : sp[b] / size
                let frequency: Double = n[b] == 0 ? .nan : sy[b] / size
                made.append(Bin(lower: Double(b) * width, upper: Double(b + 1) * width, count: n[b], meanP: meanP,
                                frequency: frequency))
            }
            bins = made
            samples = p.count
            var weightedGap = 0.0
            for b in bins where b.count > 0 { weightedGap += Double(b.count) * abs(b.meanP - b.frequency) }
            ece = p.isEmpty ? .nan : weightedGap / Double(p.count)
            brier = p.isEmpty ? .nan : brierSum / Double(p.count)
            baseRate = p.isEmpty ? .nan : Double(up.reduce(0, +)) / Double(p.count)
            directionalCalls = calls
            directionalAccuracy = calls == 0 ? .nan : Double(right) / Double(calls)
        }
    }

    public let run: EnsembleBacktestRun
    public let bars: BarSeries
    /// The ensemble first, then its baselines.
    public let comparison: [Entry]
    public let calibration: Calibration
    /// Decision times and each model's effective weight at them (model order of `ModelType.allCases`).
    public let weightTimes: [Int64]
    public let weights: [ModelType: [Double]]

    public init(run: EnsembleBacktestRun, bars: BarSeries, comparison: [Entry]) {
        self.run = run
        self.bars = bars
        self.comparison = comparison
        var index: [Int64: Int] = [:]
        for (i, t) in run.decisionTimes.enumerated() { index[t] = i }
        var p: [Double] = [], up: [Int] = [], direction: [Int] = []
        var times: [Int64] = [], w: [ModelType: [Double]] = [:]
        for s in run.history.signals where s.symbol == bars.symbol {
            times.append(s.time)
            for m in ModelType.allCases { w[m, default: []].append(s.weights[m.rawValue] ?? .nan) }
            guard let i = index[s.time], i + 1 < bars.count, s.pUp.isFinite else { continue }
            p.append(s.pUp)
            up.append(bars.close[i + 1] > bars.close[i] ? 1 : 0)
            direction.append(s.prediction?.direction ?? s.direction)
        }
        calibration = Calibration(p: p, up: up, direction: direction)
        weightTimes = times
        weights = w
    }

    // MARK: JSON

    /// ensemble.json: period, bars, timings, calibration, weights over time, signals, rejections, breaker events,
    /// problems and the comparison (sorted keys; NaN as null).
    public func json() -> String {
        func n(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }
        func q(_ s: String) -> String { JSONText.quote(s) }
        let c = calibration
        var o: [(String, String)] = []
        o.append(("symbol", q(bars.symbol)))
        o.append(("timeframe", q(bars.timeframe.rawValue)))
        // start/end: the first and last traded bars' open times (as summary.json labels bars); decisions at closes.
        o.append(("start", q(run.result.barTimes.first.map(UTCTime.iso8601) ?? "")))
        o.append(("end", q(run.result.barTimes.last.map(UTCTime.iso8601) ?? "")))
        o.append(("first_decision", q(run.result.times.first.map(UTCTime.iso8601) ?? "")))
        o.append(("last_decision", q(run.result.times.last.map(UTCTime.iso8601) ?? "")))
        o.append(("history_bars", "\(run.historyBars)"))
        o.append(("traded_bars", "\(run.tradedBars)"))
        o.append(("predictions", "\(run.predictions.count)"))
        o.append(("prediction_seconds", n(run.predictionSeconds)))
        o.append(("backtest_seconds", n(run.backtestSeconds)))
        let bins = c.bins.map { b in
            "{\"count\": \(b.count), \"frequency\": \(n(b.frequency)), \"lower\": \(n(b.lower)), \"mean_p\": \(n(b.meanP)), \"upper\": \(n(b.upper))}"
        }
        o.append(("calibration", "{\"base_rate\": \(n(c.baseRate)), \"bins\": [" + bins.joined(separator: ", ") + "], "
            + "\"brier\": \(n(c.brier)), \"directional_accuracy\": \(n(c.directionalAccuracy)), "
            + "\"directional_calls\": \(c.directionalCalls), \"ece\": \(n(c.ece)), "
            + "\"label\": \"next bar close > close\", \"samples\": \(c.samples)}"))
        var w = "{\"times\": [" + weightTimes.map { "\($0)" }.joined(separator: ", ") + "]"
        for m in ModelType.allCases { w += ", \(q(m.rawValue)): [" + (weights[m] ?? []).map(n).joined(separator: ", ") + "]" }
        o.append(("model_weights", w + "}"))
        o.append(("signals_by_action", "{" + run.history.signalsByAction.sorted { $0.action < $1.action }
            .map { "\(q($0.action)): \($0.count)" }.joined(separator: ", ") + "}"))
        o.append(("risk_rejections_by_rule", "{" + run.history.rejectionsByRule.sorted { $0.rule < $1.rule }
            .map { "\(q($0.rule)): \($0.count)" }.joined(separator: ", ") + "}"))
        o.append(("breaker_events", "[" + run.history.breakerEvents.map { e in
            "{\"kind\": \(q(e.kind.rawValue)), \"reason\": \(q(e.reason)), \"time\": \(q(UTCTime.iso8601(e.time))), "
                + "\"tripped\": \(e.tripped), \"until\": \(e.until.map { q(UTCTime.iso8601($0)) } ?? "null")}"
        }.joined(separator: ", ") + "]"))
        o.append(("problems", "{\"count\": \(run.history.problems.count), \"first\": ["
            + run.history.problems.prefix(20).map { q(UTCTime.iso8601($0.time) + " " + $0.text) }.joined(separator: ", ") + "]}"))
        o.append(("comparison", "[" + comparison.map { e in
            let m = e.metrics
            return "{\"cagr\": \(n(m.cagr)), \"final_equity\": \(n(m.finalEquity)), \"max_drawdown\": \(n(m.maxDrawdown)), "
                + "\"sharpe\": \(n(m.sharpe)), \"strategy\": \(q(e.name)), \"total_return\": \(n(m.totalReturn)), "
                + "\"trades\": \(m.numTrades), \"win_rate\": \(n(m.winRate))}"
        }.joined(separator: ", ") + "]"))
        return "{\n" + o.sorted { $0.0 < $1.0 }.map { "  \(q($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    // MARK: text

    /// The comparison table, calibration, signals, rejections and breaker events as plain text (report.txt and the
    /// printed summary).
    public func text() -> String {
        func p(_ v: Double) -> String { v.isFinite ? String(format: "%.2f %%", v * 100) : "-" }
        func f(_ v: Double, _ d: Int = 2) -> String { v.isFinite ? String(format: "%.\(d)f", v) : "-" }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        var s = "\n== Ensemble vs baselines (same bars, same execution models)\n"
        s += pad("strategy", 20) + pad("total return", 14) + pad("CAGR", 12) + pad("Sharpe", 9) + pad("max DD", 11)
            + pad("trades", 8) + "win rate\n"
        for e in comparison {
            let m = e.metrics
            s += pad(e.name, 20) + pad(p(m.totalReturn), 14) + pad(p(m.cagr), 12) + pad(f(m.sharpe), 9) + pad(p(m.maxDrawdown), 11)
                + pad("\(m.numTrades)", 8) + (m.numTrades > 0 ? p(m.winRate) : "-") + "\n"
        }
        let c = calibration
        s += "== Calibration of p(up) vs the next bar's direction (\(c.samples) decisions): ECE \(f(c.ece, 4)), "
            + "Brier \(f(c.brier, 4)), base rate \(p(c.baseRate)), directional calls \(c.directionalCalls) "
            + "(accuracy \(p(c.directionalAccuracy)))\n"
        for b in c.bins where b.count > 0 {
            s += "   p \(f(b.lower, 1))–\(f(b.upper, 1)): \(pad("\(b.count)", 6)) mean p \(f(b.meanP, 3))  observed up \(f(b.frequency, 3))\n"
        }
        if !weightTimes.isEmpty {
            s += "== Mean effective model weights: " + ModelType.allCases.map { m in
                let v = (weights[m] ?? []).filter(\.isFinite)
                return "\(m.rawValue) \(f(v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count), 3))"
            }.joined(separator: ", ") + "\n"
        }
        s += "== Signals: " + run.history.signalsByAction.map { "\($0.action) \($0.count)" }.joined(separator: ", ") + "\n"
        let rules = run.history.rejectionsByRule
        s += "== Risk rejections: " + (rules.isEmpty ? "none" : rules.map { "\($0.rule) \($0.count)" }.joined(separator: ", ")) + "\n"
        let events = run.history.breakerEvents
        s += "== Breaker events: \(events.isEmpty ? "none" : "\(events.count)")\n"
        for e in events.prefix(20) {
            s += "   \(UTCTime.plain(e.time))  \(pad(e.kind.rawValue, 20))\(e.tripped ? "tripped" : "reset  ")  \(e.reason)\n"
        }
        if events.count > 20 { s += "   ... \(events.count - 20) more in ensemble.json\n" }
        if !run.history.problems.isEmpty {
            s += "== Problems: \(run.history.problems.count) cycles (first: \(UTCTime.plain(run.history.problems[0].time)) "
                + "\(run.history.problems[0].text))\n"
        }
        s += "== Timing: \(run.predictions.count) predictions in \(f(run.predictionSeconds)) s (batched), "
            + "\(run.tradedBars) bars simulated in \(f(run.backtestSeconds, 3)) s\n"
        return s
    }

    // MARK: HTML

    /// The report.html section: comparison, equity of the three, reliability diagram, weights, signals, rejections,
    /// breaker events.
    public func html() -> String {
        func p(_ v: Double) -> String { v.isFinite ? String(format: "%.2f %%", v * 100) : "–" }
        func f(_ v: Double, _ d: Int = 2) -> String { v.isFinite ? String(format: "%.\(d)f", v) : "–" }
        let colors = ["#1f5fbf", "#e08a00", "#6a3d9a", "#2e7d32"]
        var h = "<h2>Ensemble vs baselines</h2>\n<p style=\"font-size:12px\">Same bars, same execution models. "
        h += comparison.enumerated().map { k, e in
            "<span style=\"color:\(colors[k % colors.count])\">&#9644; \(escapeHTML(e.name))</span>"
        }.joined(separator: " &nbsp; ") + "</p>\n"
        h += "<table><tr><th class=\"l\">Strategy</th><th>Total return</th><th>CAGR</th><th>Sharpe</th><th>Max drawdown</th>"
            + "<th>Trades</th><th>Win rate</th><th>Final equity</th></tr>\n"
        for e in comparison {
            let m = e.metrics
            h += "<tr><td class=\"l\">\(escapeHTML(e.name))</td><td>\(p(m.totalReturn))</td><td>\(p(m.cagr))</td>"
                + "<td>\(f(m.sharpe))</td><td>\(p(m.maxDrawdown))</td><td>\(m.numTrades)</td>"
                + "<td>\(m.numTrades > 0 ? p(m.winRate) : "–")</td><td>\(f(m.finalEquity))</td></tr>\n"
        }
        h += "</table>\n"
        h += SVGChart(lines: comparison.enumerated().map { k, e in
            SVGChart.Line(times: e.result.barTimes, values: e.result.equity, color: colors[k % colors.count])
        }).render()

        let c = calibration
        h += "<h2>Calibration on the traded period</h2>\n"
        h += "<p style=\"font-size:12px\">p(up) of each decision (as the robot used it) against the next bar's direction: "
            + "\(c.samples) decisions, ECE \(f(c.ece, 4)), Brier \(f(c.brier, 4)), base rate \(p(c.baseRate)), "
            + "\(c.directionalCalls) directional calls (accuracy \(p(c.directionalAccuracy))). Circle area ∝ count; the dashed "
            + "diagonal is perfect calibration.</p>\n"
        h += "<div style=\"display:flex;gap:24px;align-items:flex-start\">" + reliabilitySVG()
        h += "<table><tr><th>p(up)</th><th>count</th><th>mean p</th><th>observed up</th></tr>\n"
        for b in c.bins {
            h += "<tr><td>\(f(b.lower, 1))–\(f(b.upper, 1))</td><td>\(b.count)</td><td>\(f(b.meanP, 3))</td><td>\(f(b.frequency, 3))</td></tr>\n"
        }
        h += "</table></div>\n"

        if !weightTimes.isEmpty {
            h += "<h2>Effective model weights over time</h2>\n<p style=\"font-size:12px\">"
            let modelColors: [ModelType: String] = [.shortTerm: "#1f5fbf", .mediumTerm: "#e08a00", .longTerm: "#2e7d32"]
            h += ModelType.allCases.map { "<span style=\"color:\(modelColors[$0]!)\">&#9644; \($0.rawValue)</span>" }
                .joined(separator: " &nbsp; ") + "</p>\n"
            h += SVGChart(lines: ModelType.allCases.map { m in
                SVGChart.Line(times: weightTimes, values: weights[m] ?? [], color: modelColors[m]!)
            }, height: 200).render()
        }

        h += "<h2>Signals and risk</h2>\n<table><tr><th class=\"l\">Signal</th><th>Count</th></tr>\n"
        for a in run.history.signalsByAction { h += "<tr><td class=\"l\">\(a.action)</td><td>\(a.count)</td></tr>\n" }
        h += "</table>\n"
        let rules = run.history.rejectionsByRule
        if rules.isEmpty {
            h += "<p>No order was refused by the risk engine.</p>\n"
        } else {
            h += "<table><tr><th class=\"l\">Risk rule</th><th>Rejections</th></tr>\n"
            for r in rules { h += "<tr><td class=\"l\">\(escapeHTML(r.rule))</td><td>\(r.count)</td></tr>\n" }
            h += "</table>\n"
        }
        let events = run.history.breakerEvents
        h += "<h2>Breaker events (\(events.count))</h2>\n"
        if events.isEmpty {
            h += "<p>No circuit breaker tripped.</p>\n"
        } else {
            h += "<table><tr><th class=\"l\">Time</th><th class=\"l\">Breaker</th><th class=\"l\">Event</th>"
                + "<th class=\"l\">Reason</th></tr>\n"
            for e in events.prefix(1_000) {
                h += "<tr><td class=\"l\">\(UTCTime.plain(e.time))</td><td class=\"l\">\(e.kind.rawValue)</td>"
                    + "<td class=\"l\">\(e.tripped ? "tripped" : "reset")</td><td class=\"l\">\(escapeHTML(e.reason))</td></tr>\n"
            }
            h += "</table>\n"
        }
        if !run.history.problems.isEmpty {
            h += "<p class=\"neg\">\(run.history.problems.count) cycles had a problem; the first at "
                + "\(UTCTime.plain(run.history.problems[0].time)): \(escapeHTML(run.history.problems[0].text))</p>\n"
        }
        return h
    }

    /// Square reliability plot: x = mean p of the bin, y = observed frequency of up.
    func reliabilitySVG() -> String {
        let size = 320.0, pad = 36.0, plot = size - 2 * pad
        func x(_ v: Double) -> Double { pad + v * plot }
        func y(_ v: Double) -> Double { size - pad - v * plot }
        func q(_ v: Double) -> String { "\"" + String(format: "%.1f", v) + "\"" }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(size)) \(Int(size))\" width=\"\(Int(size))\" "
            + "font-family=\"sans-serif\" font-size=\"10\">"
        s += "<rect x=\(q(pad)) y=\(q(pad)) width=\(q(plot)) height=\(q(plot)) fill=\"none\" stroke=\"#999\"/>"
        for k in 0...5 {
            let v = Double(k) / 5
            s += "<text x=\(q(x(v))) y=\(q(size - pad + 14)) text-anchor=\"middle\" fill=\"#555\">\(String(format: "%.1f", v))</text>"
            s += "<text x=\(q(pad - 4)) y=\(q(y(v) + 3)) text-anchor=\"end\" fill=\"#555\">\(String(format: "%.1f", v))</text>"
        }
        s += "<line x1=\(q(x(0))) y1=\(q(y(0))) x2=\(q(x(1))) y2=\(q(y(1))) stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>"
        let total = max(1, calibration.samples)
        var points: [String] = []
        for b in calibration.bins where b.count > 0 && b.meanP.isFinite && b.frequency.isFinite {
            let radius = 2 + 10 * (Double(b.count) / Double(total)).squareRoot()
            points.append(String(format: "%.1f,%.1f", x(b.meanP), y(b.frequency)))
            s += "<circle cx=\(q(x(b.meanP))) cy=\(q(y(b.frequency))) r=\(q(radius)) fill=\"#1f5fbf\" fill-opacity=\"0.6\">"
                + "<title>p \(String(format: "%.1f", b.lower))–\(String(format: "%.1f", b.upper)): \(b.count) decisions, "
                + "mean p \(String(format: "%.3f", b.meanP)), observed up \(String(format: "%.3f", b.frequency))</title></circle>"
        }
        if points.count > 1 { s += "<polyline fill=\"none\" stroke=\"#1f5fbf\" points=\"\(points.joined(separator: " "))\"/>" }
        s += "<text x=\(q(size / 2)) y=\(q(size - 4)) text-anchor=\"middle\">mean p(up)</text>"
        s += "<text x=\"10\" y=\(q(size / 2)) text-anchor=\"middle\" transform=\"rotate(-90 10 \(String(format: "%.1f", size / 2)))\">observed up</text>"
        return s + "</svg>"
    }
}
