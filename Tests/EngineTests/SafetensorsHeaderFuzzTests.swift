import Common
import Foundation
import Testing
@testable import Engine

/// Structure-aware fuzzing of a safetensors header: the JSON is rebuilt with each tensor's `shape` and
/// `data_offsets` set to hostile numbers (negative, 2^31, 2^62, Int64.max, 20-digit, exponent and fractional
/// literals, products that overflow, off-by-one offsets) while the rest stays valid. Each file must read to a
/// SafetensorsError, or to tensors whose data matches their shapes — never a trap or a huge allocation. Seeded;
/// AITRADER_FUZZ_ROUNDS for a longer search (default 400).
@Suite struct SafetensorsHeaderFuzzTests {
    static var rounds: Int { ProcessInfo.processInfo.environment["AITRADER_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 400 }

    static let hostile = ["-1", "0", "1", "2", "3", "4", "8", "12", "2147483648", "4611686018427387904",
                          "9223372036854775807", "9223372036854775808", "18446744073709551616", "99999999999999999999",
                          "1e3", "1.5", "-0", "4294967296", "3037000500"]

    @Test func hostileShapesAndOffsets() {
        // Three F32 tensors tiling 6 + 2 + 3 floats = 44 bytes.
        let tensors: [(name: String, shape: [String], offsets: [String])] =
            [("a", ["2", "3"], ["0", "24"]), ("b", ["2"], ["24", "32"]), ("c", ["1", "3"], ["32", "44"])]
        let data = [UInt8](repeating: 0x3F, count: 44)
        let seed = SplitMix64.testSeed()
        var rng = SplitMix64(seed: seed)
        for round in 0..<Self.rounds {
            var t = tensors
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let i = Int(rng.next() % 3)
                let value = Self.hostile[Int(rng.next() % UInt64(Self.hostile.count))]
                if rng.next() % 2 == 0 {
                    let k = Int(rng.next() % UInt64(t[i].shape.count + 1))
                    if k == t[i].shape.count { t[i].shape.append(value) } else { t[i].shape[k] = value }
                } else {
                    t[i].offsets[Int(rng.next() % 2)] = value
                }
            }
            let json = "{\"__metadata__\":{\"format\":\"pt\"}," + t.map {
                "\"\($0.name)\":{\"dtype\":\"F32\",\"shape\":[\($0.shape.joined(separator: ","))],\"data_offsets\":[\($0.offsets.joined(separator: ","))]}"
            }.joined(separator: ",") + "}"
            let header = Array(json.utf8)
            let bytes = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header + data
            do {
                let file = try SafetensorsFile(bytes: bytes, source: "fuzz.safetensors")
                for (name, tensor) in file.tensors {
                    #expect(tensor.data.count == tensor.elementCount * 4, "round \(round) '\(name)' (AITRADER_TEST_SEED=\(seed)): \(json)")
                }
            } catch {
                #expect("\(error)".contains("fuzz.safetensors"), "round \(round) (AITRADER_TEST_SEED=\(seed)): \(error)")
            }
        }
    }
}
