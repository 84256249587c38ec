import Foundation
import Testing
@testable import Engine

/// Reader and writer of the safetensors format against files written by huggingface `safetensors`
/// (tools/reference/safetensors_fixtures.py), plus exact round trips and validation errors.
@Suite struct SafetensorsTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/safetensors/\(name)", withExtension: nil))
        return url.path
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-\(getpid())-\(name)").path
    }

    @Test func readsEveryDTypeWrittenByPython() throws {
        let file = try SafetensorsFile(contentsOf: Self.fixture("dtypes.safetensors"))
        #expect(file.metadata == ["model_type": "fixture"])
        #expect(try file.tensor("f32").shape == [2, 3])
        #expect(try file.floats("f32") == [-1, -0.5, 0, 0.5, 1, 1.5])
        #expect(try file.floats("f64") == [Float(1.0 / 3.0), -2.5, Float(1e-40)])
        #expect(try file.floats("f16") == [1, -0.5, 65504, Float(0x1p-24)])
        #expect(try Array(file.floats("bf16").prefix(3)) == [1, -2, 3.140625])
        #expect(try file.tensor("bf16").shape == [2, 2])
        #expect(try file.floats("i64") == [-5, 0, Float(1 << 40)])
        #expect(try file.tensor("i64").int64s() == [-5, 0, 1 << 40])
        #expect(try file.floats("i32") == [7, -9])
        #expect(try file.tensor("scalar").shape == [])
        #expect(try file.floats("scalar") == [42])
    }

    @Test func bf16IsTheUpperHalfOfF32() throws {
        let file = try SafetensorsFile(contentsOf: Self.fixture("dtypes.safetensors"))
        let raw = try file.tensor("bf16").data
        let last = UInt32(raw[6]) << 16 | UInt32(raw[7]) << 24
        #expect(try file.floats("bf16")[3] == Float(bitPattern: last))
        #expect(abs(try file.floats("bf16")[3] / 1e30 - 1) < 0.01)
    }

    @Test func rewritingAPythonFileIsByteIdentical() throws {
        for name in ["dtypes.safetensors", "empty.safetensors"] {
            let path = try Self.fixture(name)
            let original = try SafetensorsFile.readBytes(path)
            let file = try SafetensorsFile(bytes: original, source: path)
            #expect(file.serialized() == original, "\(name)")
        }
    }

    @Test func readsATorchStateDictWithMetadata() throws {
        let file = try SafetensorsFile(contentsOf: Self.fixture("torch_state.safetensors"))
        #expect(file.metadata["model_type"] == "tiny")
        #expect(file.metadata["run_id"] == "run-0001")
        #expect(file.metadata["config"] == #"{"hidden": 2, "input": 3}"#)
        #expect(file.metadata["note"] == "quotes \" and \\ and newline\n and unicode \u{e9}\u{4e2d}")
        #expect(try file.tensor("lstm.weight_ih_l0").shape == [8, 3])
        #expect(try file.tensor("lstm.weight_hh_l0").shape == [8, 2])
        let text = try String(contentsOfFile: Self.fixture("torch_state_values.txt"), encoding: .utf8)
        var checked = 0
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            let expected = words.dropFirst().map { Float(Double($0)!) }
            #expect(try file.floats(String(words[0])) == expected, "\(words[0])")
            checked += 1
        }
        #expect(checked == 6)
        #expect(Set(file.tensors.keys).count == 6)
    }

    @Test func roundTripThroughDiskIsExact() throws {
        var file = SafetensorsFile(metadata: ["model_type": "short_term", "config": #"{"a":[1,2],"b":"x\"y"}"#,
                                              "z": "last", "control": "\u{1}\t\u{7f}"])
        var values: [Float] = (0..<1000).map { Float(sin(Double($0))) * 1e3 }
        values += [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        file.tensors["weights"] = SafetensorsTensor(shape: [2, 503], floats: values)
        file.tensors["a.bias"] = SafetensorsTensor(shape: [3], floats: [1, 2, 3])
        file.tensors["step"] = SafetensorsTensor(shape: [1], int64s: [123_456_789_012])
        file.tensors["empty"] = SafetensorsTensor(shape: [0, 4], floats: [])
        let path = Self.temporaryPath("roundtrip.safetensors")
        defer { unlink(path) }
        try file.write(to: path)
        let back = try SafetensorsFile(contentsOf: path)
        #expect(back == file)
        let backValues = try back.floats("weights")
        #expect(backValues.map(\.bitPattern) == values.map(\.bitPattern))
        let bytes = try SafetensorsFile.readBytes(path)
        #expect(back.serialized() == bytes)
        #expect((Int(bytes[0]) | Int(bytes[1]) << 8) % 8 == 0, "header padded to a multiple of 8")
    }

    @Test func writerLaysOutTensorsLikeTheReference() throws {
        // Same tensors as the Python fixture, built in Swift: identical bytes.
        let python = try SafetensorsFile(contentsOf: Self.fixture("dtypes.safetensors"))
        var mine = SafetensorsFile(metadata: ["model_type": "fixture"])
        for (name, t) in python.tensors { mine.tensors[name] = try SafetensorsTensor(dtype: t.dtype, shape: t.shape, data: t.data) }
        mine.tensors["f32"] = SafetensorsTensor(shape: [2, 3], floats: [-1, -0.5, 0, 0.5, 1, 1.5])
        #expect(mine.serialized() == (try SafetensorsFile.readBytes(Self.fixture("dtypes.safetensors"))))
    }

    // MARK: validation

    static func header(_ json: String, data: [UInt8]) -> [UInt8] {
        let h = Array(json.utf8)
        let length: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) }
        return length + h + data
    }

    @Test func rejectsTruncatedFiles() throws {
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(bytes: [1, 2, 3]) }
        let good = SafetensorsFile(tensors: ["x": SafetensorsTensor(shape: [4], floats: [1, 2, 3, 4])]).serialized()
        do {
            _ = try SafetensorsFile(bytes: Array(good.dropLast(3)), source: "cut.safetensors")
            Issue.record("a truncated file was accepted")
        } catch {
            #expect(error.description.contains("cut.safetensors"))
            #expect(error.description.contains("'x'"))
        }
        do {
            _ = try SafetensorsFile(bytes: Array(good.prefix(20)), source: "cut.safetensors")
            Issue.record("a truncated header was accepted")
        } catch {
            guard case .truncated = error else { Issue.record("expected .truncated, got \(error)"); return }
        }
    }

    /// Random corruption of a checkpoint-like file (header JSON with metadata, three tensors) gives a file or a
    /// SafetensorsError, never a trap; odd rounds corrupt only the JSON header. Seeded; AITRADER_FUZZ_ROUNDS for a
    /// longer search.
    @Test func survivesRandomCorruption() throws {
        let rounds = ProcessInfo.processInfo.environment["AITRADER_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 400
        let file = SafetensorsFile(tensors: ["lstm.weight_ih_l0": SafetensorsTensor(shape: [8, 4], floats: (0 ..< 32).map(Float.init)),
                                            "head.bias": SafetensorsTensor(shape: [2], floats: [0.5, -0.5]),
                                            "x": SafetensorsTensor(shape: [1, 3], floats: [1, 2, 3])],
                                   metadata: ["format": "pt", "model_type": "short_term", "config": #"{"hidden":256}"#])
        let clean = file.serialized()
        let headerLength = clean[0 ..< 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        for round in 0 ..< rounds {
            var rng = SeededGenerator(seed: UInt64(round))
            var bytes = clean
            let range = round % 2 == 1 ? 8 ..< 8 + headerLength : 0 ..< bytes.count
            for _ in 0 ..< Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: range, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            _ = try? SafetensorsFile(bytes: bytes, source: "fuzz.safetensors")
        }
    }

    @Test func rejectsOverlappingGappedAndMisSizedOffsets() {
        let data = [UInt8](repeating: 0, count: 16)
        let overlapping = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"c":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#
        let gap = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#
        let size = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#
        let beyond = #"{"a":{"dtype":"F32","shape":[5],"data_offsets":[0,20]}}"#
        for (json, words) in [(overlapping, ["'b'", "overlaps", "'a'"]), (gap, ["'b'", "gap"]),
                              (size, ["'a'", "needs 3 x 4"]), (beyond, ["'a'", "outside"])] {
            do {
                _ = try SafetensorsFile(bytes: Self.header(json, data: data), source: "bad.safetensors")
                Issue.record("accepted \(json)")
            } catch {
                guard case .badOffsets = error else { Issue.record("expected .badOffsets, got \(error)"); continue }
                for w in words { #expect(error.description.contains(w), "\(error.description) lacks \(w)") }
            }
        }
    }

    @Test func rejectsBadJSONWithItsPosition() {
        do {
            _ = try SafetensorsFile(bytes: Self.header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},}"#, data: [0, 0, 0, 0]))
            Issue.record("accepted bad JSON")
        } catch {
            guard case let .badJSON(_, offset, _) = error else { Issue.record("expected .badJSON, got \(error)"); return }
            #expect(offset == 54)  // the "}" after the trailing comma
        }
        for json in [#"{"a":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}}"#,
                     #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
                     #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#,
                     #"{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                     #"[1,2]"#, #"{"a":"b" "c"}"#, #"{"a":"\q"}"#] {
            #expect(throws: SafetensorsError.self, "\(json)") { try SafetensorsFile(bytes: Self.header(json, data: [0, 0, 0, 0])) }
        }
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(contentsOf: "/nonexistent/file.safetensors") }
    }

    @Test func missingTensorNamesTheFile() throws {
        let file = try SafetensorsFile(contentsOf: Self.fixture("dtypes.safetensors"))
        #expect(throws: SafetensorsError.missingTensor(source: try Self.fixture("dtypes.safetensors"), tensor: "nope")) {
            try file.tensor("nope")
        }
    }

    @Test func halfFloatConversionIsExact() {
        #expect(SafetensorsTensor.halfToFloat(0x3C00) == 1)
        #expect(SafetensorsTensor.halfToFloat(0xC000) == -2)
        #expect(SafetensorsTensor.halfToFloat(0x7BFF) == 65504)
        #expect(SafetensorsTensor.halfToFloat(0x0001) == 0x1p-24)
        #expect(SafetensorsTensor.halfToFloat(0x8000).sign == .minus)
        #expect(SafetensorsTensor.halfToFloat(0x7C00) == .infinity)
        #expect(SafetensorsTensor.halfToFloat(0x7E00).isNaN)
    }
}
