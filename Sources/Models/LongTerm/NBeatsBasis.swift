import Foundation

/// The fixed bases of the interpretable N-BEATS stacks (Oreshkin et al. 2020), as the design fixes them:
/// - trend: rows t^i for i = 0...degree, t = arange(n) / n;
/// - seasonality: rows cos(2 pi i t) for i = 0...harmonics, then sin(2 pi i t), t = arange(n) / H (the authors'
///   grid for both backcast and forecast).
/// Values are computed in Double and rounded once to Float, exactly as the PyTorch reference.
///
///     NBeatsBasis.trend(degree: 3, length: 8)              // (4, 8), row-major
///     NBeatsBasis.seasonality(harmonics: 3, length: 128, horizon: 8)   // (8, 128)
public enum NBeatsBasis {
    public static func trend(degree: Int, length n: Int) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity((degree + 1) * n)
        for i in 0 ... degree {
            for k in 0 ..< n { out.append(Float(pow(Double(k) / Double(n), Double(i)))) }
        }
        return out
    }

    public static func seasonality(harmonics: Int, length n: Int, horizon: Int) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(2 * (harmonics + 1) * n)
        for trig in [cos, sin] as [(Double) -> Double] {
            for i in 0 ... harmonics {
                for k in 0 ..< n { out.append(Float(trig(2 * Double.pi * Double(i) * Double(k) / Double(horizon)))) }
            }
        }
        return out
    }
}
