import Engine

/// Builds any of the three models from its configuration.
///
///     let model = try HorizonModels.make(.defaults(.mediumTerm), backend: backend, seed: 42)
///     model.parameterCount    // 343842
public enum HorizonModels {
    /// A new model with PyTorch-default initialisation drawn from `seed`. `trainable: false` gives an
    /// inference-only model (no gradient buffer, inference mode). A model with more than `parameterLimit`
    /// parameters fails while its layout is declared, before any buffer is allocated.
    public static func make(_ configuration: ModelConfiguration, backend: Backend, seed: UInt64 = 0,
                            trainable: Bool = true, parameterLimit: Int = ParameterLayout.defaultLimit)
        throws(EngineError) -> any HorizonModel
    {
        switch configuration {
        case .shortTerm(let c):
            try ShortTermModel(c, backend: backend, seed: seed, trainable: trainable, parameterLimit: parameterLimit)
        case .mediumTerm(let c):
            try MediumTermModel(c, backend: backend, seed: seed, trainable: trainable, parameterLimit: parameterLimit)
        case .longTerm(let c):
            try LongTermModel(c, backend: backend, seed: seed, trainable: trainable, parameterLimit: parameterLimit)
        }
    }
}
