import Foundation

/// Numbers in risk messages: percentages with one decimal ("3.2 %"), money with thousands separated by a space
/// and two decimals ("10 000.00").
enum RiskFormat {
    static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "\(fraction)" }
        return String(format: "%.1f %%", fraction * 100)
    }

    static func money(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let text = String(format: "%.2f", abs(value))
        let parts = text.split(separator: ".")
        var digits = Array(parts[0])
        var grouped = ""
        while digits.count > 3 {
            grouped = " " + String(digits.suffix(3)) + grouped
            digits.removeLast(3)
        }
        return (value < 0 ? "-" : "") + String(digits) + grouped + "." + parts[1]
    }

    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6g", value)
    }

    static func duration(_ ms: Int64) -> String {
        if ms % 3_600_000 == 0, ms >= 3_600_000 { return "\(ms / 3_600_000) h" }
        if ms % 60_000 == 0, ms >= 60_000 { return "\(ms / 60_000) min" }
        return String(format: "%.1f s", Double(ms) / 1000)
    }
}
