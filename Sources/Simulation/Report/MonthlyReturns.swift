import Common

/// Calendar-month returns of an equity curve: each month's last equity over the previous month's last equity
/// (the first month over the initial cash), by UTC month of the bar times.
///
///     MonthlyReturns(times: result.barTimes, equity: result.equity, initial: 10_000).years   // [(2017, [..12..], total)]
public struct MonthlyReturns: Sendable {
    public struct Year: Sendable {
        public var year: Int
        /// Index 0 = January; nil for months without data.
        public var months: [Double?]
        /// Compounded return of the months present.
        public var total: Double
    }

    public private(set) var years: [Year] = []

    public init(times: [Int64], equity: [Double], initial: Double) {
        guard !times.isEmpty else { return }
        var previous = initial
        var byYear: [Int: [Double?]] = [:]
        var i = 0
        while i < times.count {
            let c = UTCTime.components(times[i])
            var j = i
            while j + 1 < times.count {
                let d = UTCTime.components(times[j + 1])
                if d.year != c.year || d.month != c.month { break }
                j += 1
            }
            let last = equity[j]
            byYear[c.year, default: Array(repeating: nil, count: 12)][c.month - 1] = previous == 0 ? 0 : last / previous - 1
            previous = last
            i = j + 1
        }
        years = byYear.keys.sorted().map { y in
            let months = byYear[y]!
            let total = months.compactMap { $0 }.reduce(1.0) { $0 * (1 + $1) } - 1
            return Year(year: y, months: months, total: total)
        }
    }
}
