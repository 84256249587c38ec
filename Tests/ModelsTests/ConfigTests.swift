import Common
import Foundation
import Testing
@testable import Models

/// Model configurations: configs/models/*.yaml hold exactly the design defaults, YAML and JSON (checkpoint)
/// round trips, and errors that name the file, line and key.
@Suite struct ConfigTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func shippedConfig(_ type: ModelType) -> String {
        repositoryRoot.appendingPathComponent("configs/models/\(type.rawValue).yaml").path
    }

    @Test(arguments: ModelType.allCases)
    func shippedYAMLEqualsTheDesignDefaults(_ type: ModelType) throws {
        let loaded = try ModelConfiguration.load(path: Self.shippedConfig(type))
        #expect(loaded == ModelConfiguration.defaults(type))
        #expect(loaded.modelType == type)
    }

    @Test func designDefaultsAreTheDocumentedSizes() {
        let s = ShortTermConfig()
        #expect(s.sequenceLength == 64 && s.convChannels == [64, 128, 256] && s.convKernels == [3, 5, 7])
        #expect(s.lstmHidden == 256 && s.lstmLayers == 2 && s.lstmDropout == 0.3 && s.attentionHeads == 8)
        #expect(s.attentionDim == 256 && s.fcHidden == 128 && s.convDropout == 0.1 && s.fcDropout == 0.1)
        let m = MediumTermConfig()
        #expect(m.sequenceLength == 96 && m.dModel == 128 && m.attentionHeads == 4 && m.headSize == 32)
        let l = LongTermConfig()
        #expect(l.sequenceLength == 128 && l.forecastHorizon == 8 && l.dModel == 128 && l.blockWidth == 256)
        #expect(l.trendBlocks == 3 && l.seasonalityBlocks == 3 && l.trendDegree == 3 && l.blockLayers == 4)
        #expect(l.harmonics == 3 && l.seasonalityThetaSize == 8 && l.trendThetaSize == 4)
        #expect(l.encoderLayers == 2 && l.attentionHeads == 4 && l.feedforward == 256 && l.fusionHidden == 128)
    }

    @Test(arguments: ModelType.allCases)
    func jsonRoundTripIsExact(_ type: ModelType) throws {
        var config = ModelConfiguration.defaults(type)
        config.inputFeatures = 41
        let json = try config.json()
        #expect(json.hasPrefix("{") && json.contains("\"input_features\":41"))
        let back = try ModelConfiguration(json: json, modelType: type, location: "test")
        #expect(back == config)
    }

    @Test func yamlOverridesAndHarmonics() throws {
        let node = try YAMLNode.parse("model_type: long_term\nforecast_horizon: 12\nseasonality_harmonics: null\nregime_head: false\n", file: "lt.yaml")
        guard case .longTerm(let c) = try ModelConfiguration(yaml: node) else { Issue.record("not long_term"); return }
        #expect(c.forecastHorizon == 12 && c.harmonics == 5 && c.seasonalityThetaSize == 12 && !c.regimeHead)
        let explicit = try LongTermConfig(yaml: YAMLNode.parse("seasonality_harmonics: 2"))
        #expect(explicit.harmonics == 2)
    }

    @Test func errorsNameFileLineAndKey() throws {
        func message(_ yaml: String) -> String {
            do {
                _ = try ModelConfiguration(yaml: try YAMLNode.parse(yaml, file: "bad.yaml"))
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let typo = message("model_type: short_term\nlstm_hiden: 12\n")
        #expect(typo.contains("bad.yaml:2") && typo.contains("lstm_hiden"))
        let range = message("model_type: short_term\nlstm_hidden: 0\n")
        #expect(range.contains("bad.yaml:2") && range.contains("lstm_hidden") && range.contains("at least 1"))
        let heads = message("model_type: medium_term\nd_model: 10\nattention_heads: 4\n")
        #expect(heads.contains("attention_heads") && heads.contains("not divisible"))
        let kernels = message("model_type: short_term\nconv_kernels: [3, 4, 7]\n")
        #expect(kernels.contains("conv_kernels") && kernels.contains("odd"))
        let unknown = message("model_type: huge_term\n")
        #expect(unknown.contains("huge_term") && unknown.contains("short_term"))
        #expect(message("d_model: 8\n").contains("model_type"))
        let dropout = message("model_type: long_term\ndropout: 1.5\n")
        #expect(dropout.contains("bad.yaml:2") && dropout.contains("dropout"))
    }

    @Test func checkpointJSONWithMissingKeyIsAnError() {
        #expect(throws: ModelError.self) {
            try ModelConfiguration(json: #"{"model_type":"medium_term","d_model":8}"#, modelType: .mediumTerm, location: "ck")
        }
        do {
            _ = try ModelConfiguration(json: #"{"model_type":"medium_term","d_model":8,"attention_heads":3,"sequence_length":9,"input_features":5,"layer_norm_eps":1e-5}"#,
                                       modelType: .mediumTerm, location: "ck.safetensors (config)")
            Issue.record("accepted 8 / 3 heads")
        } catch {
            #expect("\(error)".contains("ck.safetensors (config)") && "\(error)".contains("attention_heads"))
        }
    }
}
