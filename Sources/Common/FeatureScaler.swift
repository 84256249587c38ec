/// Per-feature scaling, fitted on training rows only, stored in every checkpoint exactly as training applied it and
/// re-applied at inference (one type for the feature loader and the checkpoint, so they cannot disagree):
///
/// - z-score: (x − mean) / std (population std; a constant feature gets std 1),
/// - robust: (x − median) / IQR (IQR = q75 − q25; 0 gives 1), for heavy-tailed features.
///
/// Values are clipped to ±`clip` after scaling (default 10) so a single outlier cannot saturate a network.
/// Fitting and scaling whole feature frames live in Features (`FeatureScaler.fit`, `matrix`).
///
///     let s = FeatureScaler(method: .zScore, names: ["rsi_14"], center: [50], scale: [10], clip: 3)
///     s.transform(95, feature: 0)   // 3 (4.5 clipped)
///     try s.check(names: ["rsi_14"], source: "ck.safetensors")   // throws when names or order differ
public struct FeatureScaler: Sendable, Equatable, Codable {
    public enum Method: String, Sendable, Codable { case zScore = "zscore", robust }

    public var method: Method
    /// The feature columns, in input order.
    public var names: [String]
    public var center: [Double]
    public var scale: [Double]
    public var clip: Double

    public init(method: Method, names: [String], center: [Double], scale: [Double], clip: Double = 10) {
        self.method = method
        self.names = names
        self.center = center
        self.scale = scale
        self.clip = clip
    }

    @inline(__always) public func transform(_ x: Double, feature k: Int) -> Float {
        Float(min(max((x - center[k]) / scale[k], -clip), clip))
    }

    /// Why this scaler cannot be used (counts that disagree, a non-positive scale or clip), or nil.
    public var problem: String? {
        guard center.count == names.count, scale.count == names.count else {
            return "\(names.count) names but \(center.count) centers and \(scale.count) scales"
        }
        if let k = scale.firstIndex(where: { !($0 > 0) || !$0.isFinite }) { return "scale of '\(names[k])' is \(scale[k])" }
        if let k = center.firstIndex(where: { !$0.isFinite }) { return "center of '\(names[k])' is \(center[k])" }
        guard clip > 0 else { return "clip is \(clip)" }
        return nil
    }

    /// The first difference between the features this scaler was fitted on and `other` (names and order), or nil.
    public func mismatch(_ other: [String]) -> String? {
        guard other != names else { return nil }
        if other.count != names.count {
            return "fitted on \(names.count) features, given \(other.count)"
        }
        let k = zip(names, other).enumerated().first { $0.element.0 != $0.element.1 }!.offset
        return "feature \(k) is '\(names[k])' in training, '\(other[k])' here"
    }
}
