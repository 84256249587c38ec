/// How prices inside a bar are assumed to move when an order's stop and target (or two triggers) both lie in one
/// bar's range — bars do not say which came first.
///
/// - `pessimistic` (default): the outcome worst for the trader happens first — a bracket's stop-loss before its
///   take-profit; a stop-limit's limit is only fillable after the stop triggered.
/// - `optimistic`: the best outcome first (for bounding results from above; never for reporting).
/// - `barDirection`: a bar that closes up is assumed to go open → low → high → close,
///   a bar that closes down open → high → low → close.
public enum IntrabarPolicy: String, Sendable, Equatable {
    case pessimistic, optimistic
    case barDirection = "bar_direction"
}

/// Every pluggable piece of SimulationMode's execution: slippage, latency, commission, financing, how much of a
/// bar's volume an order may take, the intrabar rule, and the account's leverage.
///
/// `ExecutionModels.backtestingPy(commission:)` reproduces backtesting.py 0.6's broker (no slippage, next-open
/// fills, relative commission, no participation cap, leverage 1). Loaded from YAML by `SimulationConfig`.
/// The initialiser stores any values; `validate()` checks them (and `Backtester.run` calls it).
public struct ExecutionModels: Sendable, Equatable {
    public var slippage: SlippageModel
    public var commission: CommissionModel
    public var latency: LatencyModel
    public var financing: FinancingModel?
    /// The largest fraction of a bar's volume one order may fill in that bar (nil: no cap). The remainder keeps
    /// working (GTC/DAY) or is cancelled (IOC). Bars with zero volume (FX tick volume missing) are not capped.
    public var maxVolumeParticipation: Double?
    public var intrabar: IntrabarPolicy
    /// Maximum gross exposure / equity. 1 = no leverage (backtesting.py's `margin=1`).
    public var maxLeverage: Double

    public init(slippage: SlippageModel = .none, commission: CommissionModel = .none,
                latency: LatencyModel = LatencyModel(), financing: FinancingModel? = nil,
                maxVolumeParticipation: Double? = nil, intrabar: IntrabarPolicy = .pessimistic,
                maxLeverage: Double = 1) {
        self.slippage = slippage
        self.commission = commission
        self.latency = latency
        self.financing = financing
        self.maxVolumeParticipation = maxVolumeParticipation
        self.intrabar = intrabar
        self.maxLeverage = maxLeverage
    }

    /// Throws the first invalid value: each model's (`CommissionModel.validate()`, ...), a participation cap
    /// outside (0, 1], a leverage that is not > 0 and finite.
    public func validate() throws(ParameterError) {
        try slippage.validate()
        try commission.validate()
        try latency.validate()
        try financing?.validate()
        if let p = maxVolumeParticipation {
            try ParameterError.check(p > 0 && p <= 1, "max_volume_participation", p, "must be in (0, 1]")
        }
        try ParameterError.check(maxLeverage > 0 && maxLeverage.isFinite, "max_leverage", maxLeverage,
                                 "must be > 0 and finite")
    }

    /// backtesting.py 0.6's broker: `Backtest(..., commission=c)` with default spread, margin and trade_on_close.
    public static func backtestingPy(commission: Double) -> ExecutionModels {
        ExecutionModels(commission: commission == 0 ? .none : .fractionOfNotional(commission))
    }
}
