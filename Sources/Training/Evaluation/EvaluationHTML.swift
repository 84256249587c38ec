import Common
import Foundation
import Simulation

/// report.html of `aitrader evaluate`: a self-contained page (inline SVG like the backtest report; no scripts, no
/// external URLs) with the figures and their intervals, the paired tests, the reliability diagram (observed
/// frequency of "up" against mean p per bin, the diagonal is perfect calibration, dot area ∝ count; the raw p(up) in
/// blue, the calibrated one in orange), the histogram
/// of the model's confidence (correct and wrong calls stacked) and the equity curves of the simulated trading.
///
///     let page = EvaluationHTML(result: result).render()
public struct EvaluationHTML {
    public let result: EvaluationResult

    public init(result: EvaluationResult) { self.result = result }

    static let colors = ["model": "#1f5fbf", "model_calibrated": "#d2691e", "model_confidence_scaled": "#6a3fb5", "always_up": "#e08a00",
                         "previous_return": "#2e7d32", "logistic": "#c62828", "base_rate": "#777"]

    public func render() -> String {
        let r = result
        let title = "Evaluation of \(r.modelType) on \(r.symbol) \(r.timeframe), \(r.split) split"
        var h = htmlPageStart(title: title, css: ".ci{color:#777;font-size:11px}")
        h += "<p>" + escapeHTML("\(r.checkpoint): \(r.samples) samples over \(r.days) days (\(r.start) … \(r.end)), label horizon "
            + "\(r.labelHorizon) bars, training base rate of up \(String(format: "%.3f", r.trainBaseRate)). Intervals: 95 % "
            + "day-block bootstrap, \(r.resamples) resamples, seed \(r.seed). Commission \(r.commission) of traded value.") + "</p>\n"

        h += "<h2>Figures</h2>\n<table><tr><th class=\"l\">forecast</th>"
        for f in EvaluationResult.figureOrder { h += "<th>\(f)</th>" }
        h += "</tr>\n"
        for name in EvaluationResult.forecastOrder {
            guard let m = r.metrics[name] else { continue }
            h += "<tr><td class=\"l\">\(name)</td>"
            for f in EvaluationResult.figureOrder {
                if let e = m[f], let v = e.value {
                    h += "<td>\(String(format: "%.4f", v))<br><span class=\"ci\">[\(Self.number(e.low)), \(Self.number(e.high))]</span></td>"
                } else { h += "<td>–</td>" }
            }
            h += "</tr>\n"
        }
        h += "</table>\n<h2>Model vs the best baseline (paired bootstrap)</h2>\n<table><tr><th class=\"l\">figure</th>"
            + "<th class=\"l\">baseline</th><th>model − baseline</th><th>95 % interval</th><th>p-value</th></tr>\n"
        for t in r.pairedTests {
            h += "<tr><td class=\"l\">\(t.metric)</td><td class=\"l\">\(t.baseline)</td><td>\(Self.number(t.difference.value))</td>"
                + "<td>[\(Self.number(t.difference.low)), \(Self.number(t.difference.high))]</td><td>\(Self.number(t.pValue))</td></tr>\n"
        }
        h += "</table>\n<h2>Reliability diagram</h2>\n<p style=\"font-size:12px\"><span style=\"color:#1f5fbf\">&#9679; raw "
            + "p(up)</span> &nbsp; <span style=\"color:#d2691e\">&#9679; calibrated (\(escapeHTML(r.calibration)))</span></p>\n"
            + reliability()
        h += "<h2>Confidence of the model's calls</h2>\n" + confidenceHistogram()
        h += "<h2>Simulated trading (next-bar returns)</h2>\n<p style=\"font-size:12px\">"
        for s in r.trading { h += "<span style=\"color:\(Self.colors[s.name] ?? "#000")\">&#9644; \(s.name)</span> &nbsp; " }
        h += "</p>\n"
        h += SVGChart(lines: r.trading.map { SVGChart.Line(times: $0.times, values: $0.equity, color: Self.colors[$0.name] ?? "#000") })
            .render()
        h += "\n<table><tr><th class=\"l\">strategy</th><th>total return</th><th>Sharpe</th><th>Sortino</th><th>max drawdown</th>"
            + "<th>turnover</th><th>exposure</th><th>hit rate</th></tr>\n"
        for s in r.trading {
            let ci = s.sharpeInterval.map { "<br><span class=\"ci\">[\(Self.number($0.low)), \(Self.number($0.high))]</span>" } ?? ""
            h += "<tr><td class=\"l\">\(s.name)</td><td>\(Self.number(s.totalReturn))</td><td>\(Self.number(s.sharpe))\(ci)</td>"
                + "<td>\(Self.number(s.sortino))</td><td>\(Self.number(s.maxDrawdown))</td><td>\(Self.number(s.turnover))</td>"
                + "<td>\(Self.number(s.exposure))</td><td>\(Self.number(s.hitRate))</td></tr>\n"
        }
        return h + "</table>\n</body></html>\n"
    }

    static func number(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "–" }
        return String(format: "%.4f", v)
    }

    /// Square plot: x = mean p of the bin, y = observed frequency of up; the diagonal is perfect calibration.
    func reliability() -> String {
        let size = 320.0, pad = 36.0, plot = size - 2 * pad
        func x(_ v: Double) -> Double { pad + v * plot }
        func y(_ v: Double) -> Double { size - pad - v * plot }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(size)) \(Int(size))\" width=\"\(Int(size))\" "
            + "font-family=\"sans-serif\" font-size=\"10\">"
        s += "<rect x=\"\(pad)\" y=\"\(pad)\" width=\"\(plot)\" height=\"\(plot)\" fill=\"none\" stroke=\"#999\"/>"
        for k in 0 ... 5 {
            let v = Double(k) / 5
            s += "<text x=\(q(x(v))) y=\(q(size - pad + 14)) text-anchor=\"middle\" fill=\"#555\">\(String(format: "%.1f", v))</text>"
            s += "<text x=\(q(pad - 4)) y=\(q(y(v) + 3)) text-anchor=\"end\" fill=\"#555\">\(String(format: "%.1f", v))</text>"
        }
        s += "<line x1=\(q(x(0))) y1=\(q(y(0))) x2=\(q(x(1))) y2=\(q(y(1))) stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>"
        for (bins, color, label) in [(result.reliability, "#1f5fbf", "raw"), (result.reliabilityCalibrated, "#d2691e", "calibrated")] {
            let total = max(1, bins.reduce(0) { $0 + $1.count })
            var points: [String] = []
            for b in bins where b.count > 0 && b.meanP.isFinite && b.frequency.isFinite {
                let radius = 2 + 10 * (Double(b.count) / Double(total)).squareRoot()
                points.append("\(f(x(b.meanP))),\(f(y(b.frequency)))")
                s += "<circle cx=\(q(x(b.meanP))) cy=\(q(y(b.frequency))) r=\(q(radius)) fill=\"\(color)\" fill-opacity=\"0.6\">"
                    + "<title>\(label) p \(String(format: "%.2f", b.lower))–\(String(format: "%.2f", b.upper)): \(b.count) samples, "
                    + "mean p \(String(format: "%.3f", b.meanP)), observed \(String(format: "%.3f", b.frequency))</title></circle>"
            }
            if points.count > 1 { s += "<polyline fill=\"none\" stroke=\"\(color)\" points=\"\(points.joined(separator: " "))\"/>" }
        }
        s += "<text x=\(q(size / 2)) y=\(q(size - 4)) text-anchor=\"middle\">mean p(up)</text>"
        s += "<text x=\"10\" y=\(q(size / 2)) text-anchor=\"middle\" transform=\"rotate(-90 10 \(f(size / 2)))\">observed up</text>"
        return s + "</svg>\n"
    }

    /// 20 bins of confidence on [0, 1]; correct calls (green) below wrong ones (red).
    func confidenceHistogram() -> String {
        let bins = 20, width = 640.0, height = 200.0, pad = 30.0
        var right = [Int](repeating: 0, count: bins), wrong = right
        for p in result.predictions {
            let b = min(max(Int(p.confidence * Double(bins)), 0), bins - 1)
            if (p.pUp > 0.5 ? 1 : 0) == p.label { right[b] += 1 } else { wrong[b] += 1 }
        }
        let top = max(1, zip(right, wrong).map { $0 + $1 }.max() ?? 1)
        let plotW = width - 2 * pad, plotH = height - 2 * pad, barW = plotW / Double(bins)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" "
            + "style=\"max-width:\(Int(width))px\" font-family=\"sans-serif\" font-size=\"10\">"
        for b in 0 ..< bins {
            let hr = Double(right[b]) / Double(top) * plotH, hw = Double(wrong[b]) / Double(top) * plotH
            let x0 = pad + Double(b) * barW
            s += "<rect x=\(q(x0)) y=\(q(height - pad - hr)) width=\(q(barW - 1)) height=\(q(hr)) fill=\"#2e7d32\"><title>"
                + "\(right[b]) correct</title></rect>"
            s += "<rect x=\(q(x0)) y=\(q(height - pad - hr - hw)) width=\(q(barW - 1)) height=\(q(hw)) fill=\"#c62828\"><title>"
                + "\(wrong[b]) wrong</title></rect>"
        }
        for k in 0 ... 5 {
            let v = Double(k) / 5
            s += "<text x=\(q(pad + v * plotW)) y=\(q(height - pad + 14)) text-anchor=\"middle\" fill=\"#555\">\(String(format: "%.1f", v))</text>"
        }
        s += "<text x=\(q(pad - 4)) y=\(q(pad + 3)) text-anchor=\"end\" fill=\"#555\">\(top)</text>"
        s += "<rect x=\(q(pad)) y=\(q(pad)) width=\(q(plotW)) height=\(q(plotH)) fill=\"none\" stroke=\"#999\"/>"
        return s + "</svg>\n<p style=\"font-size:12px\"><span style=\"color:#2e7d32\">&#9632; correct</span> &nbsp; "
            + "<span style=\"color:#c62828\">&#9632; wrong</span> (confidence = 1 − sd / 0.5 of the Beta prediction)</p>\n"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
    private func q(_ v: Double) -> String { "\"" + f(v) + "\"" }
}
