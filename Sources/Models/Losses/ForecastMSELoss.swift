import Engine

/// Mean squared error of long_term's N-BEATS forecast (B, H) against the realised normalised closes (B, H):
/// mean over all B*H elements (as `torch.nn.functional.mse_loss`).
///
///     let mse = ForecastMSELoss()
///     let value = try mse.forward(out.forecast!, target: future)
///     let dForecast = try mse.backward(weight: 0.5)
public final class ForecastMSELoss {
    private var difference = ActivationBuffer()
    private var total = ActivationBuffer()
    private var gradient = ActivationBuffer()
    private var saved: Tensor?

    public init() {}

    public func forward(_ forecast: Tensor, target: Tensor) throws(EngineError) -> Float {
        guard forecast.shape == target.shape else {
            throw .shapeMismatch(context: "ForecastMSELoss", message: "forecast \(forecast.shape) vs target \(target.shape)")
        }
        let backend = forecast.backend
        let diff = try difference.tensor(forecast.shape, on: backend)
        try diff.copy(from: forecast)
        try backend.axpy(diff, target, alpha: -1, count: diff.count)
        let sum = try total.tensor([1], on: backend)
        try backend.reduceSumSquares(out: sum, diff, count: diff.count)
        saved = diff
        return try sum.scalar() / Float(diff.count)
    }

    /// d(weight * mse) / d forecast = 2 weight (forecast - target) / (B H).
    public func backward(weight: Float = 1) throws(EngineError) -> Tensor {
        guard let diff = saved else { throw .invalidState(context: "ForecastMSELoss.backward", message: "called before forward") }
        let g = try gradient.tensor(diff.shape, on: diff.backend)
        try g.copy(from: diff)
        try diff.backend.scaleShift(g, alpha: 2 * weight / Float(g.count), beta: 0, count: g.count)
        return g
    }
}
