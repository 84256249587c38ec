import Common

/// The spacings of a series' timestamps, sorted into timeframes: what `Timeframe.infer` and
/// `Timeframe.checkSpacing` decide on.
///
/// **Inference.** Each positive spacing between consecutive bars is matched against each timeframe's window:
/// the exact length ± 1 % for intraday timeframes; 22 h ... 26 h for `1d` (daylight-saving shifts of bars
/// stamped in local time, e.g. FX dailies at 21:00/22:00 UTC); 6 ... 8 days for `1w` (weeks starting on a holiday);
/// 25 ... 35 days for `1M` (28–31-day months, first trading days moved by weekends and holidays). The timeframe is
/// the SHORTEST one that holds at least `minimumShare` (10 %) of the spacings. Missing bars, weekends, holidays and
/// overnight closes only ever make spacings longer, never shorter, so the bar interval is the shortest spacing
/// that occurs often; 10 % (not "the most common") keeps sparse series right (a minute series where most minutes
/// have no trade) and 4-hour equity bars (one 4 h spacing, then a 20 h overnight one, each day), while a few
/// stray short spacings (a duplicated or misstamped bar) stay below it.
///
///     TimeframeSpacing(timestamps: goog.timestamps).inferred        // .d1 (weekends and holidays are longer)
///     TimeframeSpacing(timestamps: eurusd.timestamps).share(of: .h1) // 0.99
public struct TimeframeSpacing: Sendable, Equatable {
    /// The least fraction of the spacings the inferred timeframe must account for.
    public static let minimumShare = 0.10

    /// Positive spacings counted.
    public let spacings: Int
    /// Spacings inside each timeframe's window.
    public let counts: [Timeframe: Int]
    /// The most common spacing (ms; the shortest among equally common ones), 0 without spacings.
    public let typical: Int64
    public let typicalCount: Int

    public init(timestamps: some Collection<Int64>) {
        var counts: [Timeframe: Int] = [:]
        var histogram: [Int64: Int] = [:]
        var n = 0
        var previous: Int64?
        for t in timestamps {
            defer { previous = t }
            guard let p = previous, t > p else { continue }
            let (d, overflow) = t.subtractingReportingOverflow(p)
            guard !overflow else { continue }
            n += 1
            histogram[d, default: 0] += 1
            for tf in Timeframe.allCases where Self.window(tf).contains(d) { counts[tf, default: 0] += 1 }
        }
        spacings = n
        self.counts = counts
        let top = histogram.max { ($0.value, $1.key) < ($1.value, $0.key) }
        typical = top?.key ?? 0
        typicalCount = top?.value ?? 0
    }

    /// The spacings (ms) that count as one bar of `timeframe`.
    public static func window(_ timeframe: Timeframe) -> ClosedRange<Int64> {
        let hour = UTCTime.msPerHour, day = UTCTime.msPerDay
        switch timeframe {
        case .d1: return 22 * hour...26 * hour
        case .w1: return 6 * day...8 * day
        case .mn1: return 25 * day...35 * day
        default:
            let ms = timeframe.milliseconds
            return ms - ms / 100...ms + ms / 100
        }
    }

    /// The fraction of spacings inside `timeframe`'s window (0 without spacings).
    public func share(of timeframe: Timeframe) -> Double {
        spacings == 0 ? 0 : Double(counts[timeframe] ?? 0) / Double(spacings)
    }

    /// The shortest timeframe holding at least `minimumShare` of the spacings, or nil.
    public var inferred: Timeframe? {
        Timeframe.allCases.sorted().first { share(of: $0) >= Self.minimumShare }
    }

    /// "1h", "1d", "3d 2h", "90s", "250ms".
    public static func duration(_ ms: Int64) -> String {
        if ms <= 0 || ms % 1000 != 0 { return "\(ms)ms" }
        var parts: [String] = []
        var rest = ms / 1000
        for (unit, seconds) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= seconds {
            parts.append("\(rest / seconds)\(unit)")
            rest %= seconds
        }
        return parts.joined(separator: " ")
    }
}

extension Timeframe {
    /// The timeframe of bars opening at `timestamps` (ascending, UTC ms), from their spacing (see
    /// `TimeframeSpacing` for the rule): weekends, holidays, market closures and missing bars do not change it.
    ///
    ///     try Timeframe.infer(timestamps: bars.timestamps)   // .d1 for data/sample/GOOG_D1.csv
    ///
    /// Throws `TimeframeSpacingError.tooFewBars` below 2 bars, `.noTimeframeFits` for bars spaced e.g. 2 h or 3 days.
    public static func infer(timestamps: some Collection<Int64>) throws(TimeframeSpacingError) -> Timeframe {
        let s = TimeframeSpacing(timestamps: timestamps)
        guard s.spacings > 0 else { throw .tooFewBars(timestamps.count) }
        guard let tf = s.inferred else {
            throw .noTimeframeFits(typical: s.typical, share: Double(s.typicalCount) / Double(s.spacings),
                                   spacings: s.spacings)
        }
        return tf
    }

    /// Throws `TimeframeSpacingError.contradicts` when bars opening at `timestamps` are not spaced as this
    /// timeframe (hourly bars labelled `1d`, daily bars labelled `1h`, ...: whenever `infer` gives another
    /// timeframe or none). Fewer than 2 bars cannot contradict anything and pass.
    ///
    ///     try Timeframe.h1.checkSpacing(of: goog.timestamps)
    ///     // throws: bars are spaced 1d (1d apart: 79.8 % of 2147 spacings; 1h apart: 0.0 %), not 1h as stated
    public func checkSpacing(of timestamps: some Collection<Int64>) throws(TimeframeSpacingError) {
        let s = TimeframeSpacing(timestamps: timestamps)
        guard s.spacings > 0 else { return }
        let inferred = s.inferred
        guard inferred != self else { return }
        let typicalShare = Double(s.typicalCount) / Double(s.spacings)
        throw .contradicts(stated: self, inferred: inferred,
                           inferredShare: inferred.map { s.share(of: $0) } ?? typicalShare,
                           statedShare: s.share(of: self), typical: s.typical, spacings: s.spacings)
    }
}

extension BarSeries {
    /// The timeframe the bars' spacing shows (`Timeframe.infer`), whatever `timeframe` says.
    public func inferredTimeframe() throws(TimeframeSpacingError) -> Timeframe {
        try Timeframe.infer(timestamps: timestamps)
    }

    /// Throws `TimeframeSpacingError.contradicts` when the bars are not spaced as `timeframe`.
    public func checkTimeframe() throws(TimeframeSpacingError) {
        try timeframe.checkSpacing(of: timestamps)
    }
}
