import Common

/// Bars whose spacing names no timeframe, or contradicts the timeframe they were given (`Timeframe.infer`,
/// `Timeframe.checkSpacing`).
///
///     daily bars read with --timeframe 1h:
///     // bars are spaced 1d (1d apart: 79.8 % of 2147 spacings; 1h apart: 0.0 %), not 1h as stated
public enum TimeframeSpacingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Fewer than two bars: there is no spacing to measure.
    case tooFewBars(Int)
    /// No timeframe accounts for enough of the spacings (`TimeframeSpacing.minimumShare`). `typical` is the most
    /// common spacing (ms) and `share` its fraction of all spacings.
    case noTimeframeFits(typical: Int64, share: Double, spacings: Int)
    /// `stated` contradicts the spacing: the bars are `inferred` apart (nil: no timeframe fits; then
    /// `inferredShare` is the share of the `typical` spacing), `statedShare` of the spacings match `stated`.
    case contradicts(stated: Timeframe, inferred: Timeframe?, inferredShare: Double, statedShare: Double,
                     typical: Int64, spacings: Int)

    public var description: String {
        switch self {
        case .tooFewBars(let n):
            return "cannot infer a timeframe from \(n) bar\(n == 1 ? "" : "s") (need at least 2)"
        case .noTimeframeFits(let typical, let share, let n):
            return "bar spacing matches no timeframe (1m 5m 15m 30m 1h 4h 1d 1w 1M): most bars are "
                + "\(TimeframeSpacing.duration(typical)) apart (\(percent(share)) of \(n) spacings)"
        case .contradicts(let stated, let inferred, let inferredShare, let statedShare, let typical, let n):
            let spacing = inferred.map(\.description) ?? TimeframeSpacing.duration(typical)
            return "bars are spaced \(spacing)\(inferred == nil ? ", which is no timeframe" : "") (\(spacing) apart: "
                + "\(percent(inferredShare)) of \(n) spacings; \(stated) apart: \(percent(statedShare))), "
                + "not \(stated) as stated"
        }
    }
}

private func percent(_ v: Double) -> String {
    let tenths = (v * 1000).rounded() / 10
    return "\(tenths) %"
}
