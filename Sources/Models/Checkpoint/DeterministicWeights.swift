import Engine

/// Weights that the PyTorch reference (`tools/reference/models.py fill_deterministic`) and Swift compute
/// bit-identically from a seed, so full-size parity fixtures need no 13 MB weight files.
///
/// For parameter `name` of shape `shape`: u_i (i = 0..<count) are the outputs r of splitmix64 started at
/// fnv1a64(name) ^ seed, mapped to u = (r >> 40) / 2^23 - 1 (24 bits, exact in Float, in [-1, 1)); then
/// - 1-D tensors named `...norm*.weight`: 1 + 0.1 u;   other 1-D tensors: 0.1 u;
/// - tensors of rank >= 2: u / sqrt(fan_in), fan_in = product of shape[1...];
/// all in Float arithmetic (correctly rounded, so NumPy computes the same bits).
///
///     try DeterministicWeights.fill(model.parameters, seed: 20261126)
public enum DeterministicWeights {
    public static func fnv1a64(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    public static func uniforms(seed: UInt64, count: Int) -> [Float] {
        var state = seed
        return (0 ..< count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(Double(z >> 40) / 8_388_608.0 - 1.0)
        }
    }

    public static func values(name: String, shape: [Int], seed: UInt64) -> [Float] {
        let count = shape.reduce(1, *)
        let u = uniforms(seed: fnv1a64(name) ^ seed, count: count)
        if shape.count == 1 {
            let parts = name.split(separator: ".")
            let isNormWeight = parts.count >= 2 && parts.last == "weight" && parts[parts.count - 2].hasPrefix("norm")
            let scale: Float = 0.1
            return isNormWeight ? u.map { 1 + scale * $0 } : u.map { scale * $0 }
        }
        let root = Float(shape.dropFirst().reduce(1, *)).squareRoot()
        return u.map { $0 / root }
    }

    /// Overwrites every parameter of `store` with its deterministic values.
    public static func fill(_ store: ParameterStore, seed: UInt64) throws(EngineError) {
        var all: [String: [Float]] = [:]
        for spec in store.layout.specs { all[spec.name] = values(name: spec.name, shape: spec.shape, seed: seed) }
        try store.load(all)
    }
}
