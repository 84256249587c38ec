import Common
import Engine
import Foundation

/// AITrader checkpoints: safetensors files (loadable with `safetensors.torch.load_file`) holding every parameter
/// as F32 under its PyTorch-style name, and in the header metadata:
///
/// | key              | value                                                       |
/// |------------------|-------------------------------------------------------------|
/// | `format`         | `aitrader.checkpoint`                                       |
/// | `format_version` | `1`                                                         |
/// | `model_type`     | `short_term`, `medium_term` or `long_term`                  |
/// | `config`         | the full model config as JSON (snake_case keys, sorted)     |
/// | `feature_names`  | JSON array of the feature columns, in input order           |
/// | `scaler`         | JSON `{"method", "names", "center", "scale", "clip"}` (`FeatureScaler`; absent when none) |
/// | `run_id`         | the training run that produced it                           |
/// | `calibration`    | JSON `ProbabilityCalibration` of p(up) (absent: identity; older checkpoints) |
///
/// Saving then loading is exact (every float bit-identical) and saving a loaded checkpoint again writes the same
/// bytes. Loading into a model of another type or shape fails with a message naming the difference.
///
///     try Checkpoint.save(model, metadata: meta, to: "checkpoints/short_term.safetensors")
///     let (model, meta) = try Checkpoint.load("checkpoints/short_term.safetensors", backend: .cpu)
public enum Checkpoint {
    public static let format = "aitrader.checkpoint"
    public static let formatVersion = "1"
    /// Tensors whose names start with this are a training run's resume state (optimizer moments), written only into
    /// a run's `last` checkpoint; loading a model ignores them.
    public static let trainingStatePrefix = "training_state."

    /// A checkpoint read from disk, not yet placed in a model.
    public struct Contents: Sendable {
        public let path: String
        public let configuration: ModelConfiguration
        public let metadata: CheckpointMetadata
        public let file: SafetensorsFile
        public var modelType: ModelType { configuration.modelType }

        /// Fails unless `names` are exactly the features this checkpoint was trained on, in the same order: a
        /// checkpoint never meets features it was not trained on.
        public func checkFeatures(_ names: [String]) throws(ModelError) {
            guard !metadata.featureNames.isEmpty else {
                throw .checkpoint(path: path, message: "records no feature names; cannot check the features it is given")
            }
            if let scaler = metadata.scaler, let difference = scaler.mismatch(names) {
                throw .checkpoint(path: path, message: "features differ from training: \(difference)")
            }
            let recorded = FeatureScaler(method: .zScore, names: metadata.featureNames, center: [], scale: [])
            if let difference = recorded.mismatch(names) {
                throw .checkpoint(path: path, message: "features differ from training: \(difference)")
            }
        }
    }

    // MARK: saving

    /// The safetensors file of `model` with `metadata`.
    public static func file(of model: any HorizonModel, metadata: CheckpointMetadata,
                            path: String = "<memory>") throws(ModelError) -> SafetensorsFile {
        if !metadata.featureNames.isEmpty && metadata.featureNames.count != model.configuration.inputFeatures {
            throw .checkpoint(path: path, message: "\(metadata.featureNames.count) feature names for a model with \(model.configuration.inputFeatures) input features")
        }
        if let scaler = metadata.scaler {
            if let problem = scaler.problem { throw .checkpoint(path: path, message: "scaler: \(problem)") }
            if let difference = scaler.mismatch(metadata.featureNames) {
                throw .checkpoint(path: path, message: "the scaler and the feature names disagree: \(difference)")
            }
        }
        var file = SafetensorsFile(metadata: metadata.extra)
        let exported: [(name: String, shape: [Int], values: [Float])]
        do { exported = try model.parameters.exportValues() } catch { throw ModelError(error, "exporting parameters") }
        for p in exported { file.tensors[p.name] = SafetensorsTensor(shape: p.shape, floats: p.values) }
        file.metadata["format"] = format
        file.metadata["format_version"] = formatVersion
        file.metadata["model_type"] = model.modelType.rawValue
        file.metadata["config"] = try model.configuration.json()
        file.metadata["feature_names"] = try encodeJSON(metadata.featureNames)
        if let scaler = metadata.scaler { file.metadata["scaler"] = try encodeJSON(scaler) }
        file.metadata["run_id"] = metadata.runID
        if let calibration = metadata.calibration {
            do { file.metadata["calibration"] = try calibration.json() }
            catch { throw .checkpoint(path: path, message: error.description) }
        }
        return file
    }

    public static func save(_ model: any HorizonModel, metadata: CheckpointMetadata, to path: String) throws(ModelError) {
        let contents = try file(of: model, metadata: metadata, path: path)
        do { try contents.write(to: path) } catch { throw ModelError(error) }
    }

    // MARK: loading

    /// Reads and validates a checkpoint's header and metadata (no model is built).
    public static func read(_ path: String) throws(ModelError) -> Contents {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(contentsOf: path) } catch { throw ModelError(error) }
        return try contents(of: file, path: path)
    }

    public static func contents(of file: SafetensorsFile, path: String) throws(ModelError) -> Contents {
        let meta = file.metadata
        guard meta["format"] == format else {
            throw .checkpoint(path: path, message: "not an AITrader checkpoint (metadata 'format' is \(meta["format"].map { "'\($0)'" } ?? "missing"), expected '\(format)')")
        }
        guard meta["format_version"] == formatVersion else {
            throw .checkpoint(path: path, message: "checkpoint format version \(meta["format_version"] ?? "missing") is not supported (this build reads \(formatVersion))")
        }
        guard let typeName = meta["model_type"], let type = ModelType(rawValue: typeName) else {
            throw .checkpoint(path: path, message: "metadata 'model_type' is \(meta["model_type"].map { "'\($0)'" } ?? "missing"); expected one of \(ModelType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let configJSON = meta["config"] else { throw .checkpoint(path: path, message: "metadata 'config' is missing") }
        let configuration = try ModelConfiguration(json: configJSON, modelType: type, location: "\(path) (config)")
        var metadata = CheckpointMetadata(runID: meta["run_id"] ?? "")
        if let names = meta["feature_names"] {
            metadata.featureNames = try decodeJSON([String].self, names, path: path, key: "feature_names")
            if !metadata.featureNames.isEmpty && metadata.featureNames.count != configuration.inputFeatures {
                throw .checkpoint(path: path, message: "\(metadata.featureNames.count) feature names but the config has input_features = \(configuration.inputFeatures)")
            }
        }
        if let text = meta["scaler"] {
            let scaler: FeatureScaler
            if let legacy = try? JSONDecoder().decode(CheckpointMetadata.LegacyScaling.self, from: Data(text.utf8)) {
                guard legacy.kind == "standard" else {
                    throw .checkpoint(path: path, message: "metadata 'scaler' kind '\(legacy.kind)' is not supported (expected 'standard')")
                }
                scaler = FeatureScaler(method: .zScore, names: metadata.featureNames, center: legacy.mean, scale: legacy.scale,
                                       clip: .greatestFiniteMagnitude)
            } else {
                scaler = try decodeJSON(FeatureScaler.self, text, path: path, key: "scaler")
            }
            if let problem = scaler.problem { throw .checkpoint(path: path, message: "metadata 'scaler': \(problem)") }
            if let difference = scaler.mismatch(metadata.featureNames) {
                throw .checkpoint(path: path, message: "metadata 'scaler' and 'feature_names' disagree: \(difference)")
            }
            metadata.scaler = scaler
        }
        if let text = meta["calibration"] {
            do { metadata.calibration = try ProbabilityCalibration(json: text) }
            catch { throw .checkpoint(path: path, message: "metadata 'calibration': \(error.description)") }
        }
        for (key, value) in meta where !CheckpointMetadata.ownedKeys.contains(key) { metadata.extra[key] = value }
        return Contents(path: path, configuration: configuration, metadata: metadata, file: file)
    }

    /// Builds the checkpoint's model on `backend` and loads its weights. With `expecting`, a checkpoint of another
    /// model type is refused.
    public static func load(_ path: String, backend: Backend, expecting: ModelType? = nil,
                            trainable: Bool = false) throws(ModelError) -> (model: any HorizonModel, metadata: CheckpointMetadata) {
        let contents = try read(path)
        if let expecting, expecting != contents.modelType {
            throw .checkpoint(path: path, message: "is a \(contents.modelType.rawValue) checkpoint, expected \(expecting.rawValue)")
        }
        // The config is untrusted: the model it describes may hold at most about twice the file's values (each
        // at least one byte of the file), checked while the layout is declared, before any allocation. Within
        // that, restore() names the exact tensor that differs.
        let stored = contents.file.tensors.values.reduce(0) { $0 + $1.elementCount }
        let limit = 2 * stored + (1 << 20)
        let model: any HorizonModel
        do {
            model = try HorizonModels.make(contents.configuration, backend: backend, trainable: trainable,
                                           parameterLimit: limit)
        } catch {
            if case .invalidArgument(_, let message) = error, message.contains("limit") {
                throw .checkpoint(path: path, message: "its config describes a \(contents.modelType.rawValue) model far larger "
                                  + "than the \(stored) values its tensors hold (\(message))")
            }
            throw ModelError(error, "\(path): building the \(contents.modelType.rawValue) model")
        }
        try restore(model, from: contents)
        return (model, contents.metadata)
    }

    /// Loads the weights of `contents` into an existing model, which must have the same type and configuration:
    /// every parameter present with its exact shape, no tensor left over.
    public static func restore(_ model: any HorizonModel, from contents: Contents) throws(ModelError) {
        let path = contents.path
        guard model.modelType == contents.modelType else {
            throw .checkpoint(path: path, message: "is a \(contents.modelType.rawValue) checkpoint; cannot load it into a \(model.modelType.rawValue) model")
        }
        if model.configuration != contents.configuration {
            throw .checkpoint(path: path, message: "config differs from the model's: \(configurationDifference(model.configuration, contents.configuration))")
        }
        var values: [String: [Float]] = [:]
        for spec in model.parameters.layout.specs {
            guard let t = contents.file.tensors[spec.name] else {
                throw .checkpoint(path: path, message: "missing tensor '\(spec.name)' (shape \(spec.shape)) for a \(model.modelType.rawValue) model")
            }
            guard t.shape == spec.shape else {
                throw .checkpoint(path: path, message: "tensor '\(spec.name)' has shape \(t.shape), the model expects \(spec.shape)")
            }
            do { values[spec.name] = try t.floats(source: path, name: spec.name) } catch { throw ModelError(error) }
        }
        let unexpected = Set(contents.file.tensors.keys.filter { !$0.hasPrefix(trainingStatePrefix) })
            .subtracting(model.parameters.layout.names)
        if let first = unexpected.sorted().first {
            throw .checkpoint(path: path, message: "unexpected tensor '\(first)'\(unexpected.count > 1 ? " (and \(unexpected.count - 1) more)" : "") for a \(model.modelType.rawValue) model")
        }
        do { try model.parameters.load(values) } catch { throw ModelError(error, "\(path): loading weights") }
    }

    // MARK: helpers

    static func configurationDifference(_ a: ModelConfiguration, _ b: ModelConfiguration) -> String {
        guard let ja = try? a.json(), let jb = try? b.json(),
              let da = try? JSONSerialization.jsonObject(with: Data(ja.utf8)) as? [String: Any],
              let db = try? JSONSerialization.jsonObject(with: Data(jb.utf8)) as? [String: Any] else { return "\(a) vs \(b)" }
        let keys = Set(da.keys).union(db.keys).sorted()
        let diffs = keys.filter { "\(da[$0] ?? "none")" != "\(db[$0] ?? "none")" }
            .map { "\($0): model \(da[$0] ?? "none"), checkpoint \(db[$0] ?? "none")" }
        return diffs.joined(separator: "; ")
    }

    static func encodeJSON<T: Encodable>(_ value: T) throws(ModelError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try encoder.encode(value), as: UTF8.self) }
        catch { throw .engine(context: "checkpoint metadata", message: "\(error)") }
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String, path: String, key: String) throws(ModelError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) }
        catch { throw .checkpoint(path: path, message: "metadata '\(key)' is not valid: \(error)") }
    }
}
