import Common
import Foundation

/// A seeded, reproducible random number generator (xoshiro256**, seeded through SplitMix64), used for parameter
/// initialisation and data shuffling. Same seed, same sequence, on every platform.
///
///     var rng = SeededGenerator(seed: 42)
///     let u = rng.uniform(-0.1, 0.1)
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = SplitMix64(seed: seed)
        s = (x.next(), x.next(), x.next(), x.next())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits (every value exactly representable in Float).
    public mutating func unitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * unitFloat() }

    /// Standard normal (Box-Muller).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, 1e-300)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// A generator for an independent stream (e.g. one per parameter), derived from this one's seed state.
    public mutating func fork() -> SeededGenerator { SeededGenerator(seed: next()) }
}

