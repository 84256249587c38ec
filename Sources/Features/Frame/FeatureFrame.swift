/// Named feature columns aligned with bar timestamps: what the calculator returns and the store keeps.
///
/// Each column carries its warm-up length (`lookbacks`): rows before it are NaN by construction. `droppingWarmup()`
/// removes the rows before the largest one, so no model ever sees a filled-in value.
///
///     let frame = try TechnicalIndicatorCalculator().compute(bars, columns: ["rsi_14", "sma_20"])
///     frame["rsi_14"]?[20]
///     frame.droppingWarmup().count   // bars.count - 19
public struct FeatureFrame: Sendable, Equatable {
    public var timestamps: [Int64]
    public var names: [String]
    public var columns: [[Double]]
    public var lookbacks: [Int]

    public init(timestamps: [Int64], names: [String] = [], columns: [[Double]] = [], lookbacks: [Int]? = nil) {
        precondition(names.count == columns.count && columns.allSatisfy { $0.count == timestamps.count },
                     "FeatureFrame columns must match names and timestamps")
        self.timestamps = timestamps
        self.names = names
        self.columns = columns
        self.lookbacks = lookbacks ?? Array(repeating: 0, count: names.count)
    }

    public var count: Int { timestamps.count }
    public var width: Int { names.count }
    /// The largest warm-up of any column: the first row where every column is defined.
    public var maxLookback: Int { lookbacks.max() ?? 0 }

    public subscript(name: String) -> [Double]? {
        names.firstIndex(of: name).map { columns[$0] }
    }

    public mutating func append(name: String, values: [Double], lookback: Int) {
        precondition(values.count == timestamps.count, "column \(name) has \(values.count) rows, frame has \(count)")
        names.append(name)
        columns.append(values)
        lookbacks.append(lookback)
    }

    /// Rows `range`.
    public subscript(rows range: Range<Int>) -> FeatureFrame {
        FeatureFrame(timestamps: Array(timestamps[range]), names: names, columns: columns.map { Array($0[range]) },
                     lookbacks: lookbacks.map { max(0, $0 - range.lowerBound) })
    }

    /// The rows from the largest lookback on (warm-up dropped, never filled).
    public func droppingWarmup() -> FeatureFrame { self[rows: min(maxLookback, count)..<count] }

    /// The columns `selected`, in that order.
    public func selecting(_ selected: [String]) throws(FeatureError) -> FeatureFrame {
        var out = FeatureFrame(timestamps: timestamps)
        for name in selected {
            guard let i = names.firstIndex(of: name) else {
                throw FeatureError(reason: "feature '\(name)' is not in the frame (has \(names.joined(separator: ", ")))")
            }
            out.append(name: name, values: columns[i], lookback: lookbacks[i])
        }
        return out
    }

    /// Rows with `start <= timestamp < end` (nil = unbounded).
    public func slice(from start: Int64? = nil, to end: Int64? = nil) -> FeatureFrame {
        func firstAtOrAfter(_ t: Int64) -> Int {
            var lo = 0, hi = count
            while lo < hi { let mid = (lo + hi) / 2; if timestamps[mid] < t { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        let lo = start.map(firstAtOrAfter) ?? 0
        let hi = end.map(firstAtOrAfter) ?? count
        return self[rows: lo..<max(lo, hi)]
    }
}
