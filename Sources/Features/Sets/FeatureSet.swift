import Common
import Foundation
import MarketData

/// One model input: an indicator column, optionally expressed against the close so that price-level indicators
/// become stationary (a moving average at 1.0712 means little; 0.3% above the close does).
public struct FeatureSpec: Sendable, Hashable {
    public enum Transform: String, Sendable, CaseIterable {
        /// The indicator value as is.
        case none
        /// value / close − 1 (moving averages, bands, SAR, channel lines, VWAP). Name suffix `:rel`.
        case relativeToClose = "relative_to_close"
        /// value / close (price differences: MACD, ATR, momentum). Name suffix `:pc`.
        case divideByClose = "divide_by_close"
    }

    public let indicator: IndicatorRequest
    public let transform: Transform

    public init(indicator: IndicatorRequest, transform: Transform = .none) {
        precondition(indicator.outputs.count == 1, "a feature is one indicator output")
        self.indicator = indicator
        self.transform = transform
    }

    /// `rsi_14`, `sma_20:rel`, `atr_14:pc`.
    public var name: String {
        let column = indicator.columnNames[0]
        switch transform {
        case .none: return column
        case .relativeToClose: return column + ":rel"
        case .divideByClose: return column + ":pc"
        }
    }

    public var lookback: Int { indicator.lookbacks[0] }
}

/// The features one model type consumes and how its samples are labelled, from `configs/features/<model>.yaml`:
///
///     model: medium_term
///     features:
///       - rsi_14
///       - {indicator: sma_20, transform: relative_to_close}
///     label: {horizon: 8, dead_zone: 0.0005}
///
///     let set = try FeatureSet.load(model: .mediumTerm, directory: "configs/features")
///     let frame = set.compute(bars)          // one column per feature, NaN warm-up, lookbacks set
///     set.lookback                           // largest warm-up: loaders start after it
public struct FeatureSet: Sendable {
    public let model: ModelKind
    public let features: [FeatureSpec]
    public let label: LabelSpec
    /// Where the set came from (a config path), for messages.
    public let source: String

    public init(model: ModelKind, features: [FeatureSpec], label: LabelSpec, source: String = "<code>") {
        self.model = model
        self.features = features
        self.label = label
        self.source = source
    }

    public var names: [String] { features.map(\.name) }
    public var lookback: Int { features.map(\.lookback).max() ?? 0 }

    /// A stable digest of what the set computes (names, parameters, transforms, code version): the feature
    /// store's configuration key.
    public var configHash: String {
        ContentHash.hex(of: Array(("v\(FeatureCodeVersion.current)|" + names.joined(separator: ",")).utf8))
    }

    /// Computes every feature over `bars`; each indicator runs once even when several features use it.
    public func compute(_ bars: BarSeries) -> FeatureFrame {
        var progress = ProgressReporter.disabled
        return compute(bars, progress: &progress)
    }

    /// The same, reporting one step per indicator computation to `progress`.
    public func compute(_ bars: BarSeries, progress: inout ProgressReporter) -> FeatureFrame {
        let calculator = TechnicalIndicatorCalculator()
        let raw = calculator.compute(bars, requests: features.map(\.indicator), progress: &progress)
        var frame = FeatureFrame(timestamps: raw.timestamps)
        let close = bars.close
        for feature in features {
            let column = feature.indicator.columnNames[0]
            let index = raw.names.firstIndex(of: column)!
            var values = raw.columns[index]
            switch feature.transform {
            case .none: break
            case .relativeToClose: for i in values.indices { values[i] = values[i] / close[i] - 1 }
            case .divideByClose: for i in values.indices { values[i] = values[i] / close[i] }
            }
            frame.append(name: feature.name, values: values, lookback: raw.lookbacks[index])
        }
        return frame
    }

    // MARK: configuration

    /// `configs/features/<model>.yaml` under `directory`.
    public static func load(model: ModelKind, directory: String = "configs/features") throws(FeatureError) -> FeatureSet {
        let set = try load(path: directory + "/" + model.rawValue + ".yaml")
        guard set.model == model else {
            throw FeatureError(location: set.source, reason: "file declares model '\(set.model)', expected '\(model)'")
        }
        return set
    }

    public static func load(path: String) throws(FeatureError) -> FeatureSet {
        try FeatureError.loadingYAML(path: path, parse)
    }

    public static func parse(_ root: YAMLNode) throws -> FeatureSet {
        try root.checkKeys(["model", "features", "label"])
        let modelNode = try root.require("model")
        let model = try ModelKind(parsing: modelNode.string(), location: modelNode.location)
        var features: [FeatureSpec] = []
        for node in try root.require("features").sequence() {
            let spec: FeatureSpec
            if case .mapping = node.value {
                try node.checkKeys(["indicator", "transform"])
                let indicatorNode = try node.require("indicator")
                let request = try IndicatorRequest(parsing: indicatorNode.string(), location: indicatorNode.location)
                let transformText = try node.string("transform", default: "none")
                guard let transform = FeatureSpec.Transform(rawValue: transformText) else {
                    throw FeatureError(location: node["transform"]?.location ?? node.location,
                                       reason: "unknown transform '\(transformText)' (expected "
                                           + FeatureSpec.Transform.allCases.map(\.rawValue).joined(separator: ", ") + ")")
                }
                spec = try single(request, node, transform)
            } else {
                spec = try single(IndicatorRequest(parsing: node.string(), location: node.location), node, .none)
            }
            guard !features.contains(where: { $0.name == spec.name }) else {
                throw FeatureError(location: node.location, reason: "feature '\(spec.name)' listed twice")
            }
            features.append(spec)
        }
        guard !features.isEmpty else { throw FeatureError(location: root.location, reason: "no features listed") }
        let label = try root["label"].map { try LabelSpec.parse($0) } ?? LabelSpec()
        return FeatureSet(model: model, features: features, label: label, source: root.file)
    }

    private static func single(_ request: IndicatorRequest, _ node: YAMLNode, _ transform: FeatureSpec.Transform)
        throws(FeatureError) -> FeatureSpec
    {
        guard request.outputs.count == 1 else {
            throw FeatureError(location: node.location, reason: "'\(node)' names \(request.outputs.count) outputs; "
                + "list each column (\(request.columnNames.joined(separator: ", ")))")
        }
        return FeatureSpec(indicator: request, transform: transform)
    }
}
