import Common
import Engine
import Features
import Foundation
import MarketData
import Models

/// The ensemble on stored bars: for each symbol, the latest closed bars from the store → each model's feature set on
/// its own timeframe (resampled from a finer stored one as its checkpoint was trained) → the three networks (the
/// symbols of a call batched through each) → `TechnicalEnsemble` with `DynamicWeightCalculator`'s weights.
///
///     let predictor = try EnsemblePredictor.load(checkpointsDirectory: "checkpoints", store: try FeatureStore(root: "data"),
///                                                ensembleConfig: try EnsembleConfig.load(path: "configs/ensemble.yaml"),
///                                                backend: try Devices.select(.auto))
///     let now = try predictor.predict(symbols: ["EURUSD", "GBPUSD"], asOf: nil)
///     let series = try predictor.predictSeries(symbol: "EURUSD", from: start, to: end)   // one per closed 1h bar
///     predictor.recordOutcome(symbol: "EURUSD", prediction: now[0], realizedReturn: 0.0031)
///
/// Decision time: the close time of the latest closed bar of the finest model timeframe at or before `asOf` (now
/// when nil). Every model uses its own latest bar closed by then (a 4h model at 13:00 sees the 08:00–12:00 bar).
/// `dataAge` = asOf (or now) − decision time; above `max_data_age_hours` the call fails as stale.
///
/// Batched equals bar by bar: `predictSeries` reads the same stored features and bars as `predict(asOf:)` and
/// computes the same fixed-window ADX and volatility, so every input float is identical; the windows then go through
/// each network in batches of up to 256 instead of one at a time. Matrix products over a batch may sum in another
/// order (OpenBLAS picks kernels by shape), so alpha and beta may differ in their last bits: a reordered float32 sum
/// of K products differs by at most 2·γ_K·Σ|a_k b_k| (γ_K = K·u / (1 − K·u), u = 2^−24), 6.1e−5 relative for the
/// widest product (K = 512, the BiLSTM's concatenated state) before it reaches alpha and beta through
/// normalisations that do not amplify it. The tests hold alpha and beta to that 6.1e−5 relative bound (measured:
/// about 4 ulp, 2.5e−7); everything after the networks is the same Double arithmetic on them, so p, weights and
/// confidence differ by at most a few times that, and a direction can differ only where the confidence lies within
/// that distance of the threshold. Times, timeframes, regime, ADX, volatility and data age are identical.
///
/// Networks: in this process, or on an inference server (`load(...placement: .remote(...))`): only the forward
/// passes move; the server's alpha and beta (float32, sent and received as raw bytes) enter the same code. A server
/// that batches the robot's rows with other clients' sums in another order: the same 6.1e−5 relative bound.
///
/// Dynamic weights: outcomes recorded with `recordOutcome` change the weights of later calls; `predictSeries`
/// weights its whole series with the record as it stands when called. A backtest that records outcomes as it walks
/// the series applies them with `reweight(_:)` (the votes kept, the weights of the current record): this equals what
/// `predict(asOf:)` would return at that point.
public final class EnsemblePredictor: EnsembleForecaster, @unchecked Sendable {
    public let ensemble: TechnicalEnsemble
    public let featureStore: FeatureStore
    /// The checkpoint each model predicts with.
    public let checkpoints: [ModelType: String]
    /// Windows per forward pass in `predictSeries`.
    public var seriesBatchSize = 256
    let runners: [HorizonRunner]
    let conditions: MarketConditionsCalculator
    private let clock: @Sendable () -> Int64
    private let lock = NSLock()
    private var calculator: DynamicWeightCalculator

    /// Loads the best checkpoint of each model type under `checkpointsDirectory` (`EnsembleCheckpoints`), checking
    /// each against the feature store's feature set; the networks run on `backend` in this process.
    public static func load(checkpointsDirectory: String, store: FeatureStore, ensembleConfig: EnsembleConfig = EnsembleConfig(),
                            backend: Backend, now: @escaping @Sendable () -> Int64 = EnsemblePredictor.wallClock)
        throws(PredictionError) -> EnsemblePredictor
    {
        try load(checkpointsDirectory: checkpointsDirectory, store: store, ensembleConfig: ensembleConfig,
                 placement: .inProcess(backend), now: now)
    }

    /// The same, with the networks where `placement` says: in process, or on an inference server that serves these
    /// very checkpoints (checked model by model before the predictor exists). Features, windows, calibration,
    /// market conditions and weights are computed here either way.
    ///
    ///     let remote = try EnsemblePredictor.load(checkpointsDirectory: "checkpoints", store: store,
    ///                                             placement: .remote(try RemoteNetworks(url: "http://127.0.0.1:8000")))
    public static func load(checkpointsDirectory: String, store: FeatureStore, ensembleConfig: EnsembleConfig = EnsembleConfig(),
                            placement: NetworkPlacement, now: @escaping @Sendable () -> Int64 = EnsemblePredictor.wallClock)
        throws(PredictionError) -> EnsemblePredictor
    {
        let paths = try EnsembleCheckpoints.find(in: checkpointsDirectory)
        return try EnsemblePredictor(checkpoints: paths, featureStore: store, ensemble: TechnicalEnsemble(config: ensembleConfig),
                                     placement: placement, now: now)
    }

    public convenience init(checkpoints: [ModelType: String], featureStore: FeatureStore, ensemble: TechnicalEnsemble, backend: Backend,
                            now: @escaping @Sendable () -> Int64 = EnsemblePredictor.wallClock) throws(PredictionError) {
        try self.init(checkpoints: checkpoints, featureStore: featureStore, ensemble: ensemble, placement: .inProcess(backend), now: now)
    }

    public init(checkpoints: [ModelType: String], featureStore: FeatureStore, ensemble: TechnicalEnsemble, placement: NetworkPlacement,
                now: @escaping @Sendable () -> Int64 = EnsemblePredictor.wallClock) throws(PredictionError) {
        var runners: [HorizonRunner] = []
        for model in ModelType.allCases {
            guard let path = checkpoints[model] else { throw .checkpoint(path: "", message: "no \(model.rawValue) checkpoint given") }
            runners.append(try HorizonRunner(path: path, featureStore: featureStore, placement: placement, expecting: model))
        }
        self.runners = runners
        self.checkpoints = checkpoints
        self.featureStore = featureStore
        self.ensemble = ensemble
        self.conditions = MarketConditionsCalculator(config: ensemble.config)
        self.calculator = DynamicWeightCalculator(config: ensemble.config)
        self.clock = now
    }

    public static let wallClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The model runner of `model`.
    func runner(_ model: ModelType) -> HorizonRunner { runners.first { $0.modelType == model }! }

    /// The finest timeframe the models run on: decision times are its bars' closes.
    public var decisionTimeframe: Timeframe { runners.map(\.timeframe).min()! }
    public func timeframe(of model: ModelType) -> Timeframe { runner(model).timeframe }
    var regimeTimeframe: Timeframe { runner(ensemble.config.regime.timeframeOf).timeframe }
    var volatilityTimeframe: Timeframe { runner(ensemble.config.volatility.timeframeOf).timeframe }

    /// The dynamic weights' current record.
    public var weightCalculator: DynamicWeightCalculator {
        lock.lock()
        defer { lock.unlock() }
        return calculator
    }

    // MARK: live

    public func predict(symbols: [String], asOf: Int64?) throws -> [EnsemblePrediction] {
        try predictBatch(symbols: symbols, asOf: asOf)
    }

    func predictBatch(symbols: [String], asOf: Int64?) throws(PredictionError) -> [EnsemblePrediction] {
        guard !symbols.isEmpty else { return [] }
        let now = asOf ?? clock()
        let finest = decisionTimeframe
        var histories: [SymbolHistory] = [], times: [Int64] = []
        for symbol in symbols {
            let h = try SymbolHistory(symbol: symbol, end: asOf, runners: runners, extra: [regimeTimeframe, volatilityTimeframe],
                                      store: featureStore)
            guard let i = h.lastClosed(finest, atOrBefore: now) else {
                throw .data(message: "\(symbol): no \(finest) bar closed at or before \(UTCTime.iso8601(now)) in the store")
            }
            let t = h.closeTimes[finest]![i]
            let maxAge = ensemble.config.maxDataAgeHours
            if maxAge > 0, Double(now - t) > maxAge * 3_600_000 {
                throw .staleData(message: "\(symbol): the latest \(finest) bar closed at \(UTCTime.iso8601(t)), "
                    + Self.duration(now - t) + " before \(asOf == nil ? "now" : "the as-of time") \(UTCTime.iso8601(now)) "
                    + "(max_data_age_hours \(maxAge)); update the data (aitrader data update) or predict as of an earlier time")
            }
            histories.append(h)
            times.append(t)
        }
        // Each model once over all symbols.
        var forecasts = [[HorizonForecast]](repeating: [], count: symbols.count)
        var regimeHead = [[Double]?](repeating: nil, count: symbols.count)
        for r in runners {
            var x: [Float] = [], close: [Float] = [], featureTimes: [Int64] = []
            for (h, t) in zip(histories, times) {
                guard let i = h.lastClosed(r.timeframe, atOrBefore: t) else {
                    throw .data(message: "\(h.symbol): no \(r.timeframe) bar closed at or before \(UTCTime.iso8601(t)) for \(r.modelType.rawValue)")
                }
                let w = try h.window(r, barIndex: i, decisionTime: t)
                x += w.features
                if let c = w.close { close += c }
                featureTimes.append(h.closeTimes[r.timeframe]![i])
            }
            let out = try r.run(features: x, close: r.modelType.needsClose ? close : nil, count: symbols.count)
            for s in symbols.indices {
                forecasts[s].append(HorizonForecast(modelType: r.modelType, alpha: Double(out.alpha[s]), beta: Double(out.beta[s]),
                                                    calibration: r.calibration, featureTime: featureTimes[s], timeframe: r.timeframe.rawValue))
                if let regime = out.regime {
                    let k = regime.count / symbols.count
                    regimeHead[s] = regime[(s * k)..<((s + 1) * k)].map(Double.init)
                }
            }
        }
        let weights = weightCalculator
        return symbols.indices.map { s in
            let c = marketConditions(histories[s], at: times[s], regimeHead: regimeHead[s])
            return ensemble.combine(symbol: symbols[s], time: times[s], forecasts: forecasts[s], decision: weights.decide(c),
                                    dataAge: now - times[s])
        }
    }

    /// ADX and volatility percentile at decision time t (computed on the bars closed by t).
    func marketConditions(_ h: SymbolHistory, at t: Int64, regimeHead: [Double]?) -> MarketConditions {
        var adx: Double? = nil, percentile: Double? = nil
        if let i = h.lastClosed(regimeTimeframe, atOrBefore: t), let b = h.bars[regimeTimeframe] {
            adx = conditions.adx(high: b.high.array, low: b.low.array, close: b.close.array, at: i)
        }
        if let i = h.lastClosed(volatilityTimeframe, atOrBefore: t), let b = h.bars[volatilityTimeframe] {
            percentile = conditions.volatilityPercentile(close: b.close.array, at: i)
        }
        return MarketConditions(adx: adx, regimeConcentrations: regimeHead, volatilityPercentile: percentile)
    }

    // MARK: batched

    public func predictSeries(symbol: String, from: Int64, to: Int64) throws -> [EnsemblePrediction] {
        try series(symbol: symbol, from: from, to: to)
    }

    func series(symbol: String, from: Int64, to: Int64) throws(PredictionError) -> [EnsemblePrediction] {
        guard from <= to else { throw .data(message: "\(symbol): the series starts (\(UTCTime.iso8601(from))) after it ends (\(UTCTime.iso8601(to)))") }
        let finest = decisionTimeframe
        let h = try SymbolHistory(symbol: symbol, end: to, runners: runners, extra: [regimeTimeframe, volatilityTimeframe],
                                  store: featureStore)
        let times = h.closeTimes[finest]!.filter { $0 >= from && $0 <= to }
        guard !times.isEmpty else { return [] }
        // Per model: the bar each decision time sees, each distinct window run once, in batches.
        var forecasts = [[HorizonForecast]](repeating: [], count: times.count)
        var regimeHead = [[Double]?](repeating: nil, count: times.count)
        for r in runners {
            var barOf = [Int](repeating: 0, count: times.count)
            for (k, t) in times.enumerated() {
                guard let i = h.lastClosed(r.timeframe, atOrBefore: t) else {
                    throw .data(message: "\(symbol): no \(r.timeframe) bar closed at or before \(UTCTime.iso8601(t)) for \(r.modelType.rawValue)")
                }
                barOf[k] = i
            }
            var distinct: [Int] = []
            for i in barOf where distinct.last != i { distinct.append(i) }   // non-decreasing: consecutive duplicates
            var alpha: [Int: Float] = [:], beta: [Int: Float] = [:], regime: [Int: [Double]] = [:]
            var start = 0
            while start < distinct.count {
                let chunk = distinct[start..<min(start + seriesBatchSize, distinct.count)]
                var x: [Float] = [], close: [Float] = []
                for i in chunk {
                    let firstTime = times[barOf.firstIndex(of: i)!]
                    let w = try h.window(r, barIndex: i, decisionTime: firstTime)
                    x += w.features
                    if let c = w.close { close += c }
                }
                let out = try r.run(features: x, close: r.modelType.needsClose ? close : nil, count: chunk.count)
                for (n, i) in chunk.enumerated() {
                    alpha[i] = out.alpha[n]
                    beta[i] = out.beta[n]
                    if let head = out.regime {
                        let k = head.count / chunk.count
                        regime[i] = head[(n * k)..<((n + 1) * k)].map(Double.init)
                    }
                }
                start += chunk.count
            }
            let closes = h.closeTimes[r.timeframe]!
            for k in times.indices {
                let i = barOf[k]
                forecasts[k].append(HorizonForecast(modelType: r.modelType, alpha: Double(alpha[i]!), beta: Double(beta[i]!),
                                                    calibration: r.calibration, featureTime: closes[i], timeframe: r.timeframe.rawValue))
                if let head = regime[i] { regimeHead[k] = head }
            }
        }
        // Conditions: ADX once per regime bar; volatility values once per bar, then each percentile.
        let weights = weightCalculator
        var adxCache: [Int: Double?] = [:]
        let regimeBars = h.bars[regimeTimeframe]!
        let (rh, rl, rc) = (regimeBars.high.array, regimeBars.low.array, regimeBars.close.array)
        let volBars = h.bars[volatilityTimeframe]!.close.array
        var vol = [Double?](repeating: nil, count: volBars.count)
        var volComputed = [Bool](repeating: false, count: volBars.count)
        var out: [EnsemblePrediction] = []
        out.reserveCapacity(times.count)
        for (k, t) in times.enumerated() {
            var adx: Double? = nil, percentile: Double? = nil
            if let i = h.lastClosed(regimeTimeframe, atOrBefore: t) {
                if let cached = adxCache[i] { adx = cached } else {
                    adx = conditions.adx(high: rh, low: rl, close: rc, at: i)
                    adxCache[i] = adx
                }
            }
            if let i = h.lastClosed(volatilityTimeframe, atOrBefore: t), i >= ensemble.config.volatility.window {
                for j in max(ensemble.config.volatility.window, i - ensemble.config.volatility.lookback + 1)...i where !volComputed[j] {
                    vol[j] = conditions.realisedVolatility(close: volBars, at: j)
                    volComputed[j] = true
                }
                percentile = conditions.volatilityPercentile(vol, at: i)
            }
            let c = MarketConditions(adx: adx, regimeConcentrations: regimeHead[k], volatilityPercentile: percentile)
            out.append(ensemble.combine(symbol: symbol, time: t, forecasts: forecasts[k], decision: weights.decide(c), dataAge: 0))
        }
        return out
    }

    // MARK: outcomes

    public func recordOutcome(symbol: String, prediction: EnsemblePrediction, realizedReturn: Double) {
        lock.lock()
        defer { lock.unlock() }
        for vote in prediction.votes {
            calculator.record(model: vote.modelType, direction: vote.direction, realizedReturn: realizedReturn)
        }
    }

    /// `prediction` with the weights of the current record (its votes, regime and volatility rule kept): what
    /// `predict(asOf: prediction.time)` returns after the outcomes recorded since.
    public func reweight(_ prediction: EnsemblePrediction) -> EnsemblePrediction {
        var decision = weightCalculator.decide(regime: prediction.regime, adx: prediction.adx,
                                               volatilityPercentile: prediction.volatilityPercentile)
        decision.weightScale = prediction.weightScale
        decision.highVolatility = prediction.weightScale < 1
        decision.confidenceThreshold = prediction.confidenceThreshold
        return ensemble.reweight(prediction, decision: decision)
    }

    static func duration(_ ms: Int64) -> String {
        let hours = Double(ms) / 3_600_000
        return hours >= 48 ? String(format: "%.1f days", hours / 24) : String(format: "%.1f hours", hours)
    }
}
