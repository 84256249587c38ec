import Common
import Foundation

/// Fitting a `FeatureScaler` (Common) on training rows of a feature frame, scaling frames with it, and saving it
/// beside a model. The same scaler goes into the checkpoint (`CheckpointMetadata.scaler`).
///
///     let scaler = FeatureScaler.fit(frame, rows: trainRows, method: .zScore)
///     try scaler.save(to: "checkpoints/medium_term/scaler.json")
///     let again = try FeatureScaler.load(from: "checkpoints/medium_term/scaler.json")
///     again.transform(value, feature: 3)
extension FeatureScaler {
    /// Fits on `rows` of `frame` (the rows training windows cover, never later ones). NaNs are ignored.
    public static func fit(_ frame: FeatureFrame, rows: Range<Int>, method: Method = .zScore, clip: Double = 10)
        -> FeatureScaler
    {
        var center: [Double] = [], scale: [Double] = []
        for column in frame.columns {
            let values = column[rows].filter { !$0.isNaN }
            switch method {
            case .zScore:
                let mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
                let variance = values.isEmpty ? 0 : values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
                center.append(mean)
                scale.append(variance > 0 ? variance.squareRoot() : 1)
            case .robust:
                let sorted = values.sorted()
                let median = quantile(sorted, 0.5), iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25)
                center.append(median)
                scale.append(iqr > 0 ? iqr : 1)
            }
        }
        return FeatureScaler(method: method, names: frame.names, center: center, scale: scale, clip: clip)
    }

    /// Linear-interpolated quantile of sorted values (numpy's default), 0 for none.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = q * Double(sorted.count - 1)
        let lo = Int(position.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - Double(lo))
    }

    /// Scales `frame` (same columns, same order) into a row-major Float matrix rows × features.
    public func matrix(_ frame: FeatureFrame) throws(FeatureError) -> [Float] {
        guard frame.names == names else {
            throw FeatureError(reason: "scaler was fitted on features [\(names.joined(separator: ", "))], "
                + "frame has [\(frame.names.joined(separator: ", "))]")
        }
        let f = names.count, n = frame.count
        var out = [Float](repeating: .nan, count: n * f)
        out.withUnsafeMutableBufferPointer { out in
            for (k, column) in frame.columns.enumerated() {
                column.withUnsafeBufferPointer { c in
                    for i in 0..<n { out[i * f + k] = c[i].isNaN ? .nan : transform(c[i], feature: k) }
                }
            }
        }
        return out
    }

    public func save(to path: String) throws(FeatureError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try encoder.encode(self).write(to: url)
        } catch {
            throw FeatureError(location: path, reason: "cannot write scaler: \(error)")
        }
    }

    public static func load(from path: String) throws(FeatureError) -> FeatureScaler {
        do {
            return try JSONDecoder().decode(FeatureScaler.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw FeatureError(location: path, reason: "cannot read scaler: \(error)")
        }
    }
}
