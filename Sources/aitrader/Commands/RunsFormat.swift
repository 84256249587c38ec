import Common
import Foundation
import Training

/// How the `runs` commands print: aligned tables, times in UTC, numbers with 4 significant decimals, and the JSON
/// form of a run (snake_case keys, non-finite numbers as "NaN"/"Infinity" strings).
enum RunsFormat {
    /// Left-aligned columns two spaces apart; cells longer than 48 characters are cut with "…".
    static func table(_ rows: [[String]], indent: String = "") -> String {
        let cut = rows.map { $0.map { $0.count > 48 ? String($0.prefix(47)) + "…" : $0 } }
        let columns = cut.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in cut { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return cut.map { row in
            indent + row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ") + "\n"
        }.joined()
    }

    static func time(_ ms: Int64) -> String {
        let text = UTCTime.iso8601(ms)
        return text.count >= 19 ? String(text.prefix(19)).replacingOccurrences(of: "T", with: " ") : text
    }

    static func duration(_ r: TrackedRunRecord) -> String {
        guard let end = r.endTime else { return r.status == .running ? "running" : "-" }
        let s = Double(end - r.startTime) / 1000
        if s < 60 { return String(format: "%.1fs", s) }
        if s < 3600 { return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60) }
        return String(format: "%dh%02dm", Int(s) / 3600, Int(s) % 3600 / 60)
    }

    static func number(_ v: Double?) -> String {
        guard let v else { return "-" }
        if !v.isFinite { return "\(v)" }
        if v != 0, abs(v) < 1e-3 || abs(v) >= 1e6 { return String(format: "%.3e", v) }
        return String(format: "%.4f", v)
    }

    /// A run as a JSON object; `metrics`: the full history, when given.
    static func object(_ r: TrackedRunRecord, metrics: [TrackedMetric]?) -> [String: Any] {
        func value(_ v: Double) -> Any { v.isFinite ? v : (v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")) }
        var o: [String: Any] = [
            "id": r.id, "experiment": r.experiment, "name": r.name, "status": r.status.rawValue,
            "start_time": r.startTime, "end_time": r.endTime.map { $0 as Any } ?? NSNull(),
            "params": r.params, "tags": r.tags, "latest_metrics": r.latestMetrics.mapValues(value),
            "artifacts": r.artifacts, "artifact_dir": r.artifactDirectory,
        ]
        if let metrics {
            o["metrics"] = metrics.map { ["key": $0.key, "value": value($0.value), "step": $0.step, "timestamp": $0.timestamp] as [String: Any] }
        }
        return o
    }

    static func json(_ value: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
