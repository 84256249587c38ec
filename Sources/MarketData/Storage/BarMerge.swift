import Common

/// Merging incoming bars into stored ones under an `OverlapPolicy`: the one place that decides what is added,
/// skipped, replaced or refused, for tail appends and rewrites alike.
extension ParquetBarStore {
    struct Merged {
        var series: BarSeries
        var added = 0, skipped = 0, replaced = 0
    }

    /// Merges two strictly increasing series by timestamp.
    static func merge(stored: BarSeries, incoming: BarSeries, overlap: OverlapPolicy, path: String) throws(StorageError) -> Merged {
        if stored.isEmpty { return Merged(series: incoming, added: incoming.count) }
        if incoming.isEmpty { return Merged(series: stored) }
        if incoming.timestamps[0] > stored.timestamps[stored.count - 1] {
            return Merged(series: stored.appending(incoming), added: incoming.count)
        }
        var m = Merged(series: stored)
        var t: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = [], v: [Double] = []
        let capacity = stored.count + incoming.count
        t.reserveCapacity(capacity); o.reserveCapacity(capacity); h.reserveCapacity(capacity)
        l.reserveCapacity(capacity); c.reserveCapacity(capacity); v.reserveCapacity(capacity)
        func take(_ s: BarSeries, _ k: Int) {
            t.append(s.timestamps[k]); o.append(s.open[k]); h.append(s.high[k]); l.append(s.low[k]); c.append(s.close[k])
            v.append(s.volume[k])
        }
        var conflicts: [String] = []
        var conflictCount = 0
        var i = 0, j = 0
        while i < stored.count || j < incoming.count {
            if j == incoming.count || (i < stored.count && stored.timestamps[i] < incoming.timestamps[j]) {
                take(stored, i); i += 1
            } else if i == stored.count || incoming.timestamps[j] < stored.timestamps[i] {
                take(incoming, j); j += 1; m.added += 1
            } else {
                let a = stored[i], b = incoming[j]
                if a == b {
                    m.skipped += 1
                    take(stored, i)
                } else if overlap == .replace {
                    m.replaced += 1
                    take(incoming, j)
                } else {
                    conflictCount += 1
                    if conflicts.count < 5 {
                        conflicts.append("\(UTCTime.iso8601(a.timestamp)): stored o=\(a.open) h=\(a.high) l=\(a.low) c=\(a.close) "
                            + "v=\(a.volume), incoming o=\(b.open) h=\(b.high) l=\(b.low) c=\(b.close) v=\(b.volume)")
                    }
                    take(stored, i)
                }
                i += 1; j += 1
            }
        }
        if conflictCount > 0 {
            throw StorageError(.overlapConflict, path: path, reason: "\(conflictCount) incoming bars differ from the stored bars "
                + "at the same times, nothing written (re-run the import with --replace to overwrite the stored bars):\n  "
                + conflicts.joined(separator: "\n  "))
        }
        m.series = BarSeries(symbol: stored.symbol, timeframe: stored.timeframe, timestamps: t, open: o, high: h, low: l,
                             close: c, volume: v)
        return m
    }
}
