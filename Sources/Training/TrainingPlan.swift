import Common
import Features
import Foundation
import MarketData
import Models

/// Everything one training run needs, resolved and checked before the first step: the feature set (whose names and
/// order fix the model's `input_features`), the model configuration, the label, the timeframe, the dataset with its
/// splits and fitted scaler, and the metadata every checkpoint of the run carries so it can predict later.
///
///     let config = try TrainingConfig.load(path: "configs/training/short_term.yaml")
///     let timeframe = try TrainingPlan.timeframe(config)                      // the profile's, or config.timeframe
///     let bars = try TrainingBars.load(store: store, symbol: "EURUSD", timeframe: timeframe, purpose: "...")
///     let plan = try TrainingPlan(config: config, bars: bars)
///     plan.modelConfiguration.inputFeatures == plan.featureSet.names.count   // always
public struct TrainingPlan: Sendable {
    public let config: TrainingConfig
    public let featureSet: FeatureSet
    public let modelConfiguration: ModelConfiguration
    public let label: LabelSpec
    public let timeframe: Timeframe
    public let symbol: String
    public let dataset: TrainingDataset
    /// Metadata keys every checkpoint of the run carries (label, profile, timeframe, symbol, data range, code
    /// version, the training configuration).
    public let provenance: [String: String]

    /// The timeframe the run trains on: `config.timeframe` when given, else the profile's choice for the model.
    public static func timeframe(_ config: TrainingConfig) throws(TrainingError) -> Timeframe {
        if let text = config.timeframe {
            do { return try Timeframe(parsing: text) } catch { throw .config(location: "timeframe", key: "timeframe", message: "\(error)") }
        }
        do {
            let profiles = try TradingProfile.load(path: config.profilesPath)
            return try TradingProfile.named(config.profile, in: profiles).timeframe(for: config.modelType)
        } catch { throw .config(location: config.profilesPath, key: "profile", message: "\(error)") }
    }

    public init(config: TrainingConfig, bars: BarSeries) throws(TrainingError) {
        self.config = config
        symbol = config.symbols[0]
        timeframe = bars.timeframe
        do { featureSet = try FeatureSet.load(path: config.featuresPath) }
        catch { throw .config(location: config.featuresPath, key: "features", message: error.reason) }
        guard featureSet.model == config.modelType else {
            throw .config(location: config.featuresPath, key: "model",
                          message: "is the \(featureSet.model) feature set; the run trains \(config.modelType)")
        }
        modelConfiguration = try Self.modelConfiguration(config, featureCount: featureSet.names.count)
        if let l = config.label { label = LabelSpec(horizon: l.horizon, deadZone: l.deadZone) }
        else { label = LabelSpec(horizon: featureSet.label.horizon, deadZone: featureSet.label.deadZone) }
        if case .longTerm(let c) = modelConfiguration, c.forecastHorizon > label.horizon {
            throw .config(location: config.modelConfigPath, key: "forecast_horizon",
                          message: "\(c.forecastHorizon) bars reach past the label horizon \(label.horizon), whose window the splits purge; "
                              + "use forecast_horizon <= \(label.horizon) or a longer label.horizon")
        }
        do {
            dataset = try TrainingDataset(frame: featureSet.compute(bars), close: bars.close.array, high: bars.high.array,
                                          low: bars.low.array, label: label, window: modelConfiguration.sequenceLength,
                                          fractions: (config.trainFraction, config.validationFraction), embargo: config.embargo,
                                          scaling: config.scaling, clip: config.clip,
                                          walkForward: config.walkForward.map { ($0.fold, $0.folds) })
        } catch { throw .data("\(symbol) \(timeframe) (\(bars.count) bars): \(error.reason)") }
        guard !dataset.split.validation.isEmpty else {
            throw .data("\(symbol) \(timeframe): the validation split is empty after purging (\(dataset.samples.count) samples); "
                + "use more bars or a larger validation fraction")
        }
        provenance = try Self.provenance(config: config, featureSet: featureSet, label: label, timeframe: timeframe,
                                         symbol: symbol, bars: bars, dataset: dataset)
    }

    /// The model config file with `input_features` set from the feature set. A file that states another count is an
    /// error (naming its line), so a model is never built for features it will not get.
    static func modelConfiguration(_ config: TrainingConfig, featureCount: Int) throws(TrainingError) -> ModelConfiguration {
        let node: YAMLNode
        do { node = try YAMLNode.load(path: config.modelConfigPath) } catch { throw TrainingError(error) }
        if let n = node["input_features"], let stated = try? n.int(), stated != featureCount {
            throw .config(location: n.location, key: "input_features",
                          message: "says \(stated), but the feature set \(config.featuresPath) has \(featureCount) features; "
                              + "leave input_features out (training derives it from the feature set)")
        }
        var configuration: ModelConfiguration
        do { configuration = try ModelConfiguration(yaml: node, expected: config.modelType) }
        catch { throw .config(location: config.modelConfigPath, key: "", message: "\(error)") }
        configuration.inputFeatures = featureCount
        do { try configuration.validate(location: config.modelConfigPath) }
        catch { throw .config(location: config.modelConfigPath, key: "", message: "\(error)") }
        return configuration
    }

    /// The training configuration that decides a run's results: what `resume` compares (paths of the checkpoint
    /// directory, the device and the thread count are left out; the same thread count is still needed for
    /// bit-identical results on the CPU). `calibration: platt` and `loss: beta_nll` are recorded as the defaults they
    /// are (absent), so runs from before those keys and runs naming them record the same configuration;
    /// `log_every_steps` is left out (logging never changes the weights).
    public static func fingerprint(_ config: TrainingConfig) -> String {
        var c = config
        if c.calibration == .platt { c.calibration = nil }
        if c.loss?.kind == .betaNLL { c.loss = nil }
        c.logEverySteps = nil
        c.checkpointDirectory = ""
        c.device = ""
        c.threads = nil
        return json(c)
    }

    static func provenance(config: TrainingConfig, featureSet: FeatureSet, label: LabelSpec, timeframe: Timeframe,
                           symbol: String, bars: BarSeries, dataset: TrainingDataset) throws(TrainingError) -> [String: String] {
        func range(_ s: [Int]) -> [String] {
            guard let a = s.first, let b = s.last else { return [] }
            return [UTCTime.iso8601(dataset.timestamps[a]), UTCTime.iso8601(dataset.timestamps[b])]
        }
        let dataRange: [String: [String]] = [
            "bars": bars.isEmpty ? [] : [UTCTime.iso8601(bars.timestamps[0]), UTCTime.iso8601(bars.timestamps[bars.count - 1])],
            "train": range(dataset.split.train), "validation": range(dataset.split.validation), "test": range(dataset.split.test),
        ]
        let labelRecord = TrainingConfig.LabelConfig(horizon: label.horizon, deadZone: label.deadZone)
        return [
            "label": "{\"kind\":\"direction\"," + String(json(labelRecord).dropFirst()),
            "profile": config.timeframe == nil ? config.profile : "\(config.profile) (timeframe overridden)",
            "timeframe": timeframe.rawValue,
            "symbol": symbol,
            "data_range": json(dataRange),
            "feature_set": featureSet.source,
            "feature_config_hash": featureSet.configHash,
            "code_version": AITraderVersion.string,
            "training_config": fingerprint(config),
        ]
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
