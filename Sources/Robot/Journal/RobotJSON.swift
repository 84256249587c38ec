import Foundation

/// The journal's JSON: sorted keys (stable text for equal values) and non-finite numbers as strings ("nan",
/// "inf", "-inf") — an ATR before enough bars or an unknown volatility percentile is NaN, and a record must still
/// be written.
public enum RobotJSON {
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }
}
