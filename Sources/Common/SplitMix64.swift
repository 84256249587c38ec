import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator. Same seed, same sequence on every platform —
/// the feature loader's shuffles, the seeding of `Engine.SeededGenerator`, and reproducible test data use it.
///
///     var rng = SplitMix64(seed: 7)
///     order.shuffle(using: &rng)
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    /// A seed for a randomised test: `AITRADER_TEST_SEED` when set (to replay a failure), else a fresh random one.
    /// A test that uses it names the seed in its failure messages, so every failure can be replayed.
    ///
    ///     let seed = SplitMix64.testSeed()
    ///     var rng = SplitMix64(seed: seed)
    ///     #expect(ok, "… (AITRADER_TEST_SEED=\(seed))")
    public static func testSeed(environment: [String: String] = ProcessInfo.processInfo.environment) -> UInt64 {
        if let text = environment["AITRADER_TEST_SEED"], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 1 ... UInt64.max)
    }
}
