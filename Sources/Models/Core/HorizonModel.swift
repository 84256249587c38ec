import Common
import Engine

/// The inputs of one forward pass: the feature windows and, for long_term, the normalised close series.
///
///     let input = ModelInput(features: x)                  // x (B, L, F)
///     let input = ModelInput(features: x, close: close)    // long_term: close (B, L)
public struct ModelInput: Sendable {
    public var features: Tensor
    public var close: Tensor?

    public init(features: Tensor, close: Tensor? = nil) {
        self.features = features
        self.close = close
    }

    public var batchSize: Int { features.shape.first ?? 0 }
}

/// One forward pass's results: the Beta prediction plus the model's extras. Tensors are views into memory the
/// model owns, valid until its next forward.
public struct ModelOutput: Sendable {
    public let prediction: BetaPrediction
    /// Attention probabilities (B, heads, L, L): short_term's multi-head attention, medium_term's interpretable
    /// attention.
    public var attention: Tensor?
    /// medium_term: variable-selection weights (B, L, F), softmax over the F features.
    public var variableWeights: Tensor?
    /// medium_term: the variable weights averaged over batch and time (F), the feature importances.
    public var importance: Tensor?
    /// long_term: the N-BEATS forecast (B, H).
    public var forecast: Tensor?
    /// long_term with the regime head: Dirichlet concentrations (B, K) over {trending up, trending down, ranging}.
    public var regime: Tensor?

    public init(prediction: BetaPrediction) { self.prediction = prediction }

    /// Every output by the name `aitrader model forward` writes it under.
    public var namedTensors: [(String, Tensor)] {
        var out: [(String, Tensor)] = [("alpha", prediction.alpha), ("beta", prediction.beta)]
        if let attention { out.append(("attention", attention)) }
        if let importance { out.append(("importance", importance)) }
        if let variableWeights { out.append(("variable_weights", variableWeights)) }
        if let forecast { out.append(("forecast", forecast)) }
        if let regime { out.append(("regime", regime)) }
        return out
    }
}

/// Gradients of a loss with respect to a model's outputs, the start of its backward pass.
public struct OutputGradients: Sendable {
    public var alpha: Tensor
    public var beta: Tensor
    /// long_term: gradient of the forecast's own loss term (TradingLoss's MSE), if any.
    public var forecast: Tensor?
    /// long_term: gradient with respect to the regime concentrations, if the regime loss is on.
    public var regime: Tensor?

    public init(alpha: Tensor, beta: Tensor, forecast: Tensor? = nil, regime: Tensor? = nil) {
        self.alpha = alpha
        self.beta = beta
        self.forecast = forecast
        self.regime = regime
    }
}

/// Gradients with respect to the inputs (for tests and input attribution).
public struct InputGradients: Sendable {
    public var features: Tensor
    public var close: Tensor?
}

/// The common protocol of the three horizon models (the plan's BaseModelWithUncertainty): a forward pass to a
/// Beta prediction plus extras, an explicit backward pass that accumulates parameter gradients into the model's
/// one parameter buffer, training/inference mode, and the robot's `predictWithConfidence`.
///
///     let model = try HorizonModels.make(.defaults(.shortTerm), backend: .cpu, seed: 1)
///     model.training = false
///     let predictions = try model.predictWithConfidence(ModelInput(features: x))
///     predictions[0].direction   // +1, -1 or 0
public protocol HorizonModel: AnyObject {
    var configuration: ModelConfiguration { get }
    /// All parameters (and gradients when trainable) in one buffer, under PyTorch-style names.
    var parameters: ParameterStore { get }
    /// Mode, dropout stream and parameters of the passes.
    var context: Context { get }
    /// Runs the model. In training mode it keeps what `backward` needs.
    func forward(_ input: ModelInput) throws(EngineError) -> ModelOutput
    /// Accumulates parameter gradients from output gradients (after a training-mode forward); returns the input
    /// gradients when `inputGradients` is true.
    @discardableResult
    func backward(_ gradients: OutputGradients, inputGradients: Bool) throws(EngineError) -> InputGradients?
}

extension HorizonModel {
    public var modelType: ModelType { configuration.modelType }
    public var backend: Backend { parameters.backend }
    /// Trainable scalars.
    public var parameterCount: Int { parameters.layout.totalCount }

    /// Training mode: dropout on and activations kept for backward. Inference: neither.
    public var training: Bool {
        get { context.training }
        set { context.training = newValue }
    }

    @discardableResult
    public func backward(_ gradients: OutputGradients) throws(EngineError) -> InputGradients? {
        try backward(gradients, inputGradients: false)
    }

    /// One forward pass over `rows` windows held as host arrays, row-major, as a predictor or a server has them:
    /// `features` (rows, L, F) and, for long_term, `close` (rows, L), copied to the model's backend.
    ///
    ///     let out = try model.forward(features: windows, close: nil, rows: 2)   // windows: 2 · L · F values
    public func forward(features: [Float], close: [Float]?, rows: Int) throws(EngineError) -> ModelOutput {
        let l = configuration.sequenceLength
        let x = try Tensor(features, shape: [rows, l, configuration.inputFeatures], on: backend)
        let c = try close.map { values throws(EngineError) in try Tensor(values, shape: [rows, l], on: backend) }
        return try forward(ModelInput(features: x, close: c))
    }

    /// Direction, probability, confidence, alpha and beta for every sample of `input` (runs a forward pass in the
    /// current mode; set `training = false` first for live use), p(up) through `calibration` (a checkpoint's).
    public func predictWithConfidence(_ input: ModelInput,
                                      calibration: ProbabilityCalibration? = nil) throws(EngineError) -> [ConfidentPrediction] {
        try forward(input).prediction.confident(calibration: calibration)
    }

    /// Checks the input against the configuration: features (B, L, F) and, for long_term, close (B, L).
    func validate(_ input: ModelInput) throws(EngineError) {
        let c = configuration
        let x = input.features
        guard x.rank == 3, x.shape[1] == c.sequenceLength, x.shape[2] == c.inputFeatures else {
            throw .shapeMismatch(context: "\(c.modelType.rawValue) input",
                                 message: "features must be (B, \(c.sequenceLength), \(c.inputFeatures)), got \(x.shape)")
        }
        if c.modelType.needsClose {
            guard let close = input.close, close.shape == [x.shape[0], c.sequenceLength] else {
                throw .shapeMismatch(context: "long_term input",
                                     message: "close must be (B, \(c.sequenceLength)) = (\(x.shape[0]), \(c.sequenceLength)), got \(input.close.map { "\($0.shape)" } ?? "none")")
            }
        }
        guard x.backend === backend else {
            throw .backendMismatch(context: "\(c.modelType.rawValue) input", expected: backend.name, found: x.backend.name)
        }
    }
}
