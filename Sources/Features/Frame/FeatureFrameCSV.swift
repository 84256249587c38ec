import Common
import Foundation

/// Writes a `FeatureFrame` as CSV: a `timestamp` column (UTC, `2017-04-19 09:00:00`, or `2004-08-19` when every
/// bar opens at midnight) then one column per feature; values in Swift's shortest round-trip form, `NaN` during
/// warm-up.
///
///     try FeatureFrameCSV.write(frame, to: "out.csv")
///     // timestamp,rsi_14,sma_20
///     // 2004-08-19,NaN,NaN
public enum FeatureFrameCSV {
    public static func text(_ frame: FeatureFrame) -> String {
        let dateOnly = frame.timestamps.allSatisfy { $0 % UTCTime.msPerDay == 0 }
        var out = "timestamp," + frame.names.joined(separator: ",") + "\n"
        out.reserveCapacity(frame.count * (frame.width * 20 + 24))
        for row in 0..<frame.count {
            out += UTCTime.plain(frame.timestamps[row], dateOnly: dateOnly)
            for column in frame.columns {
                out += ","
                let v = column[row]
                out += v.isNaN ? "NaN" : v.description
            }
            out += "\n"
        }
        return out
    }

    public static func write(_ frame: FeatureFrame, to path: String) throws(FeatureError) {
        do {
            try Data(text(frame).utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw FeatureError(location: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
