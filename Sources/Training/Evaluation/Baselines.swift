import Features
import Foundation

/// One forecast of the evaluated samples: p(up) per sample, and which metrics it has a meaning for. Hard calls
/// (p of 0 or 1) have no probabilistic figures (their log loss would only measure how often they are wrong, with an
/// infinite penalty); a constant probability has no direction figures beyond always-up / always-down.
public struct Forecast: Sendable {
    public var name: String
    public var p: [Double]
    /// Log loss, Brier, ECE / MCE apply.
    public var probabilistic: Bool
    /// Accuracy, precision, recall, F1 apply.
    public var directional: Bool
    /// Positions for the simulated trading (nil: not traded).
    public var positions: [Double]?
}

/// The baselines every model is compared with, on the same samples:
///
/// - `always_up`: p = 1 (a call of "up" every time); direction figures and trading (buy and hold over the samples).
/// - `previous_return`: the sign of the previous label horizon's log return ln(c[t]/c[t−H]) (momentum over the
///   same horizon the label looks ahead): p = 1, 0, or 0.5 when it is exactly 0; direction figures and trading.
/// - `logistic`: L2 logistic regression (λ = 1, `LogisticRegression`) on the scaled features of the window's last
///   step, fitted on the training split; every figure, traded on its sign.
/// - `base_rate`: the constant p = the training split's share of "up" labels; probabilistic figures only.
///
///     let b = Baselines(dataset: data, samples: data.samples(.test))
///     b.forecasts.map(\.name)   // ["always_up", "previous_return", "logistic", "base_rate"]
public struct Baselines: Sendable {
    public let forecasts: [Forecast]
    public let baseRate: Double
    public let logistic: LogisticRegression

    public init(dataset: TrainingDataset, samples: [Int], lambda: Double = 1) {
        let train = dataset.split.train
        let up = train.reduce(0) { $0 + (dataset.labels.direction[$1] == 1 ? 1 : 0) }
        let baseRate = train.isEmpty ? 0.5 : Double(up) / Double(train.count)
        func row(_ t: Int) -> [Double] {
            let f = dataset.featureCount
            return dataset.matrix[(t * f) ..< ((t + 1) * f)].map(Double.init)
        }
        let logistic = LogisticRegression.fit(x: train.map(row), y: train.map { dataset.labels.direction[$0] == 1 ? 1 : 0 },
                                              lambda: lambda)
        self.logistic = logistic
        self.baseRate = baseRate
        let h = dataset.horizon
        let previous = samples.map { t -> Double in
            guard t >= h else { return 0.5 }
            let r = log(dataset.close[t] / dataset.close[t - h])
            return r > 0 ? 1 : r < 0 ? 0 : 0.5
        }
        let lr = samples.map { logistic.probability(row($0)) }
        let ones = [Double](repeating: 1, count: samples.count)
        forecasts = [
            Forecast(name: "always_up", p: ones, probabilistic: false, directional: true, positions: ones),
            Forecast(name: "previous_return", p: previous, probabilistic: false, directional: true,
                     positions: SignalBacktest.signPositions(previous)),
            Forecast(name: "logistic", p: lr, probabilistic: true, directional: true, positions: SignalBacktest.signPositions(lr)),
            Forecast(name: "base_rate", p: [Double](repeating: baseRate, count: samples.count), probabilistic: true,
                     directional: false, positions: nil),
        ]
    }
}
