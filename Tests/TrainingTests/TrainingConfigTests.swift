import Common
import Foundation
import MarketData
import Testing
@testable import Training

@Suite struct TrainingConfigTests {
    static func parse(_ text: String) throws(TrainingError) -> TrainingConfig {
        let node: YAMLNode
        do { node = try YAMLNode.parse(text, file: "t.yaml") } catch { throw TrainingError(error) }
        return try TrainingConfig(yaml: node)
    }

    static func message(_ text: String) -> String {
        do { _ = try parse(text); return "no error" } catch { return error.description }
    }

    @Test(arguments: ["short_term", "medium_term", "long_term", "experiment_1"])
    func shippedConfigsLoad(name: String) throws {
        let config = try TrainingConfig.load(path: TrainingFixture.repository + "/configs/training/\(name).yaml")
        #expect(config.batchSize == 64 && config.learningRate == 1e-4 && config.weightDecay == 1e-5)
        #expect(config.patience == 15 && config.minDelta == 1e-4 && config.saveTopK == 3)
    }

    @Test func defaultsAndOverrides() throws {
        let c = try Self.parse("model: {type: medium_term}\ntraining: {epochs: 7}\nseed: 3\n")
        #expect(c.modelType == .mediumTerm && c.epochs == 7 && c.seed == 3 && c.batchSize == 64)
        #expect(c.modelConfigPath == "configs/models/medium_term.yaml" && c.checkpointDirectory == "checkpoints/medium_term")
    }

    @Test func badInputNamesFileLineAndKey() {
        #expect(Self.message("model: {type: short_term}\nepochs: 3\n").contains("t.yaml:2"))
        #expect(Self.message("model: {type: short_term}\nepochs: 3\n").contains("unknown key"))
        #expect(Self.message("model: {type: tiny}\n") == "t.yaml:1:15: 'model.type': unknown model 'tiny' (expected short_term, medium_term or long_term)")
        #expect(Self.message("model: {type: short_term}\ntraining:\n  epochs: 0\n") == "t.yaml:3:11: 'training.epochs': must be at least 1, got 0")
        #expect(Self.message("model: {type: short_term}\ntraining:\n  batch_size: many\n").contains("t.yaml:3"))
        #expect(Self.message("model: {type: short_term}\ntraining:\n  learning_rate: -1\n").contains("'training.learning_rate': must be positive"))
        #expect(Self.message("model: {type: short_term}\nsplits: {train: 0.7, validation: 0.2, test: 0.2}\n").contains("'splits': train + validation + test must be 1"))
        #expect(Self.message("model: {type: short_term}\ntimeframe: 2x\n").hasPrefix("t.yaml:2:12: 'timeframe': "))
        #expect(Self.message("model: {type: short_term}\ndevice: tpu\n").contains("t.yaml:2:9: 'device'"))
        #expect(Self.message("model: {type: short_term}\nscaling: {method: minmax}\n").contains("'scaling.method'"))
        #expect(Self.message("training: {epochs: 2}\n").contains("missing required key 'model'"))
        #expect(Self.message("model: {type: short_term}\nsymbols: [A, B]\n").contains("'symbols'"))
    }

    @Test func inputFeaturesComeFromTheFeatureSet() throws {
        let dir = TrainingFixture.directory("features")
        var config = try TrainingFixture.config(in: dir)
        let plan = try TrainingPlan(config: config, bars: TrainingFixture.bars())
        #expect(plan.modelConfiguration.inputFeatures == plan.featureSet.names.count)
        try "model_type: short_term\nsequence_length: 16\ninput_features: 32\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        config.modelConfigPath = dir + "/bad.yaml"
        do {
            _ = try TrainingPlan(config: config, bars: TrainingFixture.bars())
            Issue.record("accepted input_features 32")
        } catch {
            #expect(error.description.hasPrefix(dir + "/bad.yaml:3:17: 'input_features': says 32, but the feature set"))
        }
    }

    @Test func aProfileNeedingFinerBarsThanStoredSaysSo() throws {
        let dir = TrainingFixture.directory("store")
        let store = try ParquetBarStore(root: dir + "/store")
        var daily = TrainingFixture.bars(count: 50)
        daily.timeframe = .d1
        let ts = (0 ..< 50).map { 1_500_000_000_000 + Int64($0) * 86_400_000 }
        daily = BarSeries(symbol: "TEST", timeframe: .d1, timestamps: ts, open: daily.open.array, high: daily.high.array,
                          low: daily.low.array, close: daily.close.array, volume: daily.volume.array)
        _ = try store.write(daily, source: "test")
        do {
            _ = try TrainingBars.load(store: store, symbol: "TEST", timeframe: .h1, purpose: "the trader profile's short_term model")
            Issue.record("no error")
        } catch {
            #expect(error.description == "the trader profile's short_term model trains on 1h bars, but the store holds TEST only at 1d (coarser); import 1h bars or finer, or pass --timeframe 1d")
        }
        #expect(try TrainingBars.load(store: store, symbol: "TEST", timeframe: .d1, purpose: "").count == 50)
        #expect(try TrainingBars.load(store: store, symbol: "TEST", timeframe: .w1, purpose: "").timeframe == .w1)
    }
}
