import Common
import Models

/// `ensemble`: the three horizon models on one decision's windows, combined by `TechnicalEnsemble` with
/// `DynamicWeightCalculator`'s weights (the configuration's regime weights; a server keeps no trade outcomes, so the
/// performance multipliers are 1) — what `aitrader predict` computes after it has built the windows from the store.
///
/// Inputs (FP32), each model's own windows as its model takes them:
/// `short_term_x` (rows, Ls, Fs), `medium_term_x` (rows, Lm, Fm), `long_term_x` (rows, Ll, Fl), `long_term_close`
/// (rows, Ll); optional `adx` (rows) — the regime timeframe's ADX (absent: regime unknown, the base weights) — and
/// `volatility_percentile` (rows, in [0, 1]; absent: 0.5, no high-volatility rule).
/// Outputs: `p_up`, `alpha`, `beta` (the moment-matched Beta of the weighted mixture), `confidence`, `agreement`,
/// `disagreement_penalty`, `confidence_threshold` (FP32, rows), `direction` (INT32, rows); the per-model parts as
/// (rows, 3) in the order short_term, medium_term, long_term: `model_alpha`, `model_beta`, `model_p_up`
/// (calibrated), `model_confidence`, `model_weight` (FP32) and `model_direction` (INT32).
public final class EnsembleServedModel: ServedModel, @unchecked Sendable {
    public static let modelName = "ensemble"
    public let members: [HorizonInstance]
    public let ensemble: TechnicalEnsemble
    public let signature: ModelSignature
    private let weights: DynamicWeightCalculator

    /// `members`: one instance of each model type (any order).
    public init(members: [HorizonInstance], config: EnsembleConfig) throws(ServingError) {
        var ordered: [HorizonInstance] = []
        for type in ModelType.allCases {
            guard let m = members.first(where: { $0.modelType == type }) else {
                throw .repository(path: "", message: "the ensemble needs a \(type.rawValue) checkpoint")
            }
            ordered.append(m)
        }
        self.members = ordered
        checkpointSHA256 = ordered.map(\.sha256).joined(separator: "+")
        ensemble = TechnicalEnsemble(config: config)
        weights = DynamicWeightCalculator(config: config)
        var inputs: [TensorSpec] = []
        for m in ordered {
            inputs.append(TensorSpec(name: m.modelType.rawValue + "_x", rowShape: [m.sequenceLength, m.inputFeatures],
                                     meaning: "rows, \(m.modelType.rawValue) sequence_length \(m.sequenceLength), \(m.inputFeatures) features"))
            if m.modelType.needsClose {
                inputs.append(TensorSpec(name: m.modelType.rawValue + "_close", rowShape: [m.sequenceLength],
                                         meaning: "rows, sequence_length \(m.sequenceLength): the normalised close series"))
            }
        }
        inputs.append(TensorSpec(name: "adx", rowShape: [], optional: true, meaning: "rows: ADX of the regime timeframe"))
        inputs.append(TensorSpec(name: "volatility_percentile", rowShape: [], optional: true, meaning: "rows: in [0, 1]"))
        var outputs = ["p_up", "alpha", "beta", "confidence", "agreement", "disagreement_penalty", "confidence_threshold"]
            .map { TensorSpec(name: $0, rowShape: []) }
        outputs.append(TensorSpec(name: "direction", datatype: .int32, rowShape: []))
        let k = ModelType.allCases.count
        outputs += ["model_alpha", "model_beta", "model_p_up", "model_confidence", "model_weight"].map { TensorSpec(name: $0, rowShape: [k]) }
        outputs.append(TensorSpec(name: "model_direction", datatype: .int32, rowShape: [k]))
        signature = ModelSignature(inputs: inputs, outputs: outputs)
    }

    public var name: String { Self.modelName }
    public var checkpointPaths: [String] { members.map(\.path) }
    public let checkpointSHA256: String
    public var metadataParameters: [(name: String, value: String)] { [("checkpoint_sha256", checkpointSHA256)] }

    public func run(_ batch: TensorBatch) throws(InferenceError) -> [OutputTensor] {
        let n = batch.rows, k = members.count
        var forecasts = [[HorizonForecast]](repeating: [], count: n)
        var regimeHead = [[Double]?](repeating: nil, count: n)
        for m in members {
            let key = m.modelType.rawValue
            guard let x = batch.inputs[key + "_x"] else { throw .failed("ensemble: the batch has no '\(key)_x'") }
            let out = try m.forward(features: x, close: m.modelType.needsClose ? batch.inputs[key + "_close"] : nil, rows: n)
            for r in 0..<n {
                forecasts[r].append(HorizonForecast(modelType: m.modelType, alpha: Double(out.alpha[r]), beta: Double(out.beta[r]),
                                                    calibration: m.calibration, featureTime: 0, timeframe: m.metadata.extra["timeframe"] ?? ""))
                if m.regimeHeadTrained, let regime = out.regime {
                    let classes = regime.count / n
                    regimeHead[r] = regime[(r * classes)..<((r + 1) * classes)].map(Double.init)
                }
            }
        }
        let adx = batch.inputs["adx"] ?? [Float](repeating: .nan, count: n)
        let volatility = batch.inputs["volatility_percentile"] ?? [Float](repeating: .nan, count: n)
        var p: [Float] = [], a: [Float] = [], b: [Float] = [], c: [Float] = [], agree: [Float] = [], penalty: [Float] = []
        var threshold: [Float] = [], direction: [Int32] = []
        var ma: [Float] = [], mb: [Float] = [], mp: [Float] = [], mc: [Float] = [], mw: [Float] = [], md: [Int32] = []
        for r in 0..<n {
            let conditions = MarketConditions(adx: adx[r].isNaN ? nil : Double(adx[r]), regimeConcentrations: regimeHead[r],
                                              volatilityPercentile: volatility[r].isNaN ? nil : Double(volatility[r]))
            let e = ensemble.combine(symbol: "", time: 0, forecasts: forecasts[r], decision: weights.decide(conditions), dataAge: 0)
            p.append(Float(e.pUp)); a.append(Float(e.alpha)); b.append(Float(e.beta)); c.append(Float(e.confidence))
            agree.append(Float(e.agreement)); penalty.append(Float(e.disagreementPenalty))
            threshold.append(Float(e.confidenceThreshold)); direction.append(Int32(e.direction))
            for type in ModelType.allCases {
                let v = e.vote(type)
                ma.append(Float(v?.alpha ?? .nan)); mb.append(Float(v?.beta ?? .nan)); mp.append(Float(v?.pUp ?? .nan))
                mc.append(Float(v?.confidence ?? .nan)); mw.append(Float(v?.weight ?? .nan)); md.append(Int32(v?.direction ?? 0))
            }
        }
        return [
            OutputTensor(name: "p_up", shape: [n], values: .fp32(p)),
            OutputTensor(name: "alpha", shape: [n], values: .fp32(a)),
            OutputTensor(name: "beta", shape: [n], values: .fp32(b)),
            OutputTensor(name: "confidence", shape: [n], values: .fp32(c)),
            OutputTensor(name: "agreement", shape: [n], values: .fp32(agree)),
            OutputTensor(name: "disagreement_penalty", shape: [n], values: .fp32(penalty)),
            OutputTensor(name: "confidence_threshold", shape: [n], values: .fp32(threshold)),
            OutputTensor(name: "direction", shape: [n], values: .int32(direction)),
            OutputTensor(name: "model_alpha", shape: [n, k], values: .fp32(ma)),
            OutputTensor(name: "model_beta", shape: [n, k], values: .fp32(mb)),
            OutputTensor(name: "model_p_up", shape: [n, k], values: .fp32(mp)),
            OutputTensor(name: "model_confidence", shape: [n, k], values: .fp32(mc)),
            OutputTensor(name: "model_weight", shape: [n, k], values: .fp32(mw)),
            OutputTensor(name: "model_direction", shape: [n, k], values: .int32(md)),
        ]
    }
}
