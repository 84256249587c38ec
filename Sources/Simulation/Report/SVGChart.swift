import Common
import Foundation

/// Minimal inline-SVG line charts for the HTML report (no scripts, no network): a time axis, a value axis with
/// "nice" ticks, one or more polylines, optional markers. Long series are reduced to min/max per pixel column,
/// so a million-bar curve still draws every extreme. Public so other reports (`aitrader evaluate`) draw alike.
public struct SVGChart {
    public struct Line {
        var times: [Int64]
        var values: [Double]
        var color: String
        var fill: String? = nil

        public init(times: [Int64], values: [Double], color: String, fill: String? = nil) {
            self.times = times
            self.values = values
            self.color = color
            self.fill = fill
        }
    }

    struct Marker {
        var time: Int64
        var value: Double
        /// "up" (▲), "down" (▼) or "exit" (●).
        var shape: String
        var color: String
        var title: String
    }

    var width = 960.0
    var height = 260.0
    var lines: [Line]
    var markers: [Marker] = []
    var valueFormat: (Double) -> String = { String(format: "%.4g", $0) }

    private let left = 70.0, right = 12.0, top = 10.0, bottom = 24.0

    init(width: Double = 960, height: Double = 260, lines: [Line], markers: [Marker] = [],
         valueFormat: @escaping (Double) -> String = { String(format: "%.4g", $0) }) {
        self.width = width
        self.height = height
        self.lines = lines
        self.markers = markers
        self.valueFormat = valueFormat
    }

    /// A chart of `lines` without markers.
    public init(lines: [Line], height: Double = 260) {
        self.init(height: height, lines: lines)
    }

    public func render() -> String {
        let allTimes = lines.flatMap { [$0.times.first, $0.times.last].compactMap { $0 } }
        guard let t0 = allTimes.min(), let t1 = allTimes.max() else { return "" }
        var lo = Double.infinity, hi = -Double.infinity
        for l in lines { for v in l.values where v.isFinite { lo = min(lo, v); hi = max(hi, v) } }
        for m in markers where m.value.isFinite { lo = min(lo, m.value); hi = max(hi, m.value) }
        guard lo.isFinite else { return "" }
        if hi == lo { hi = lo + 1 }
        let pad = (hi - lo) * 0.04
        lo -= pad; hi += pad
        let plotW = width - left - right, plotH = height - top - bottom
        let span = Double(max(t1 - t0, 1))
        func x(_ t: Int64) -> Double { left + Double(t - t0) / span * plotW }
        func y(_ v: Double) -> Double { top + (hi - v) / (hi - lo) * plotH }

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
        svg += "width=\"100%\" style=\"max-width:\(Int(width))px\" font-family=\"sans-serif\" font-size=\"10\">"
        // Value grid.
        for v in niceTicks(lo, hi, count: 5) {
            let yy = y(v)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(yy))\" x2=\"\(f(width - right))\" y2=\"\(f(yy))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(yy + 3))\" text-anchor=\"end\" fill=\"#555\">\(valueFormat(v))</text>"
        }
        // Time axis: first and last dates plus three in between.
        for k in 0...4 {
            let t = t0 + Int64(Double(t1 - t0) * Double(k) / 4)
            let anchor = k == 0 ? "start" : k == 4 ? "end" : "middle"
            svg += "<text x=\"\(f(x(t)))\" y=\"\(f(height - 6))\" text-anchor=\"\(anchor)\" fill=\"#555\">"
                + UTCTime.plain(t, dateOnly: true) + "</text>"
        }
        for l in lines {
            let pts = reduce(l, columns: Int(plotW)).map { "\(f(x($0.0))),\(f(y($0.1)))" }
            guard !pts.isEmpty else { continue }
            if let fill = l.fill {
                let base = y(max(lo, min(hi, 0)))
                svg += "<polygon fill=\"\(fill)\" stroke=\"none\" points=\"\(pts.first!.split(separator: ",")[0]),\(f(base)) "
                    + pts.joined(separator: " ") + " \(pts.last!.split(separator: ",")[0]),\(f(base))\"/>"
            }
            svg += "<polyline fill=\"none\" stroke=\"\(l.color)\" stroke-width=\"1.2\" points=\"" + pts.joined(separator: " ") + "\"/>"
        }
        for m in markers {
            let cx = x(m.time), cy = y(m.value)
            let shape: String
            switch m.shape {
            case "up": shape = "<path d=\"M\(f(cx)) \(f(cy - 5)) l4 7 h-8 z\" fill=\"\(m.color)\">"
            case "down": shape = "<path d=\"M\(f(cx)) \(f(cy + 5)) l4 -7 h-8 z\" fill=\"\(m.color)\">"
            default: shape = "<circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"2.5\" fill=\"none\" stroke=\"\(m.color)\">"
            }
            svg += shape + "<title>\(escapeHTML(m.title))</title>" + (m.shape == "exit" ? "</circle>" : "</path>")
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#999\"/>"
        return svg + "</svg>"
    }

    /// At most ~2 points (min and max, in time order) per pixel column.
    private func reduce(_ l: Line, columns: Int) -> [(Int64, Double)] {
        let n = l.values.count
        guard n > columns * 2, columns > 0 else { return zip(l.times, l.values).filter { $0.1.isFinite } }
        var out: [(Int64, Double)] = []
        out.reserveCapacity(columns * 2)
        for c in 0..<columns {
            let a = c * n / columns, b = (c + 1) * n / columns
            guard a < b else { continue }
            var iMin = a, iMax = a
            for i in a..<b where l.values[i].isFinite {
                if !l.values[iMin].isFinite || l.values[i] < l.values[iMin] { iMin = i }
                if !l.values[iMax].isFinite || l.values[i] > l.values[iMax] { iMax = i }
            }
            for i in [min(iMin, iMax), max(iMin, iMax)] where l.values[i].isFinite { out.append((l.times[i], l.values[i])) }
        }
        return out
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// Round tick values covering [lo, hi].
func niceTicks(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
    let raw = (hi - lo) / Double(count)
    let mag = pow(10, (log10(raw)).rounded(.down))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
    var v = (lo / step).rounded(.up) * step
    var out: [Double] = []
    while v <= hi + step * 1e-9 { out.append(v); v += step }
    return out
}

/// The start of every self-contained report page (backtest, evaluation): doctype, title, the shared style with
/// `css` appended (a report's own classes), and the page heading. No scripts, no external URLs.
///
///     var h = htmlPageStart(title: "sma_cross on GOOG (1d)", css: ".pos{color:#1a7f37}")
public func htmlPageStart(title: String, css: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>\(escapeHTML(title))</title>
    <style>
    body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1000px}
    h1{font-size:20px}h2{font-size:16px;margin-top:28px}
    table{border-collapse:collapse;font-size:12px}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
    th{background:#f5f5f5}td.l,th.l{text-align:left}\(css)
    </style></head><body>
    <h1>\(escapeHTML(title))</h1>

    """
}

public func escapeHTML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
