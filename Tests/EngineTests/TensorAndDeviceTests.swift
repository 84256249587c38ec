import Foundation
import Testing
@testable import Engine

@Suite(.serialized) struct TensorAndDeviceTests {
    @Test func tensorRoundTripAndViews() throws {
        let x = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3], on: .cpu)
        #expect(try x.toArray() == [1, 2, 3, 4, 5, 6])
        let row = try x.view(offset: 3, shape: [3])
        #expect(try row.toArray() == [4, 5, 6])
        try row.copy(from: [7, 8, 9])
        #expect(try x.toArray() == [1, 2, 3, 7, 8, 9])
        #expect(try x.reshaped([3, 2]).shape == [3, 2])
        #expect(throws: EngineError.self) { try x.reshaped([4]) }
        #expect(throws: EngineError.self) { try x.view(offset: 4, shape: [3]) }
        #expect(throws: EngineError.self) { try Tensor([1, 2], shape: [3], on: .cpu) }
        let z = try Tensor(zeros: [0], on: .cpu)
        #expect(try z.toArray().isEmpty)
    }

    @Test func kernelErrorsCarryTheBackendMessage() throws {
        let a = try Tensor(zeros: [4], on: .cpu)
        // Too-small output is caught before the kernel runs.
        #expect(throws: EngineError.self) {
            try Backend.cpu.linearForward(out: a, input: a, weight: a, bias: nil, rows: 3, inFeatures: 2, outFeatures: 2)
        }
        // A negative step is rejected by the wrapper; a bad hyper-parameter by the kernel with its message.
        do {
            try Backend.cpu.dropoutForward(out: a, input: a, count: 4, p: 1.5, seed: 0, offset: 0)
            Issue.record("dropout with p = 1.5 should fail")
        } catch {
            guard case let .kernel(backend, operation, status, _) = error else { Issue.record("\(error)"); return }
            #expect(backend == "cpu" && operation == "dropout_fwd" && status == .invalidArgument)
        }
    }

    @Test func parameterStoreLayoutAndNamedAccess() throws {
        var layout = ParameterLayout()
        _ = try Linear(4, 3, name: "fc", layout: &layout)
        _ = try LayerNorm(3, name: "norm", layout: &layout)
        #expect(layout.names == ["fc.weight", "fc.bias", "norm.weight", "norm.bias"])
        #expect(layout.totalCount == 12 + 3 + 3 + 3)
        #expect(throws: EngineError.self) { _ = try Linear(4, 3, name: "fc", layout: &layout) }
        let store = try ParameterStore(layout: layout, backend: .cpu, seed: 5)
        let w = try store.value(named: "fc.weight").toArray()
        #expect(w.allSatisfy { abs($0) <= 0.5 } && Set(w).count == 12)
        #expect(try store.value(named: "norm.weight").toArray() == [1, 1, 1])
        #expect(try store.value(named: "norm.bias").toArray() == [0, 0, 0])
        // Same seed, same values; another seed, other values.
        #expect(try ParameterStore(layout: layout, backend: .cpu, seed: 5).values.toArray() == (try store.values.toArray()))
        #expect(try ParameterStore(layout: layout, backend: .cpu, seed: 6).values.toArray() != (try store.values.toArray()))
        try store.load(["norm.bias": [1, 2, 3]], requireAll: false)
        #expect(try store.value(named: "norm.bias").toArray() == [1, 2, 3])
        #expect(throws: EngineError.self) { try store.load(["fc.bias": [1]], requireAll: false) }
        #expect(throws: EngineError.self) { try store.load(["nope": [1]], requireAll: false) }
        let exported = try store.exportValues()
        #expect(exported.map(\.name) == layout.names && exported[3].values == [1, 2, 3])
    }

    @Test func loadingANonBackendLibraryExplainsWhy() throws {
        do {
            _ = try Backend.load(library: "/nonexistent/lib.so")
            Issue.record("a missing library cannot load")
        } catch {
            guard case let .unavailable(backend, reason) = error else { Issue.record("\(error)"); return }
            #expect(backend == "cuda" && reason.hasPrefix("cannot load /nonexistent/lib.so: ") && reason.contains("No such file"))
        }
        do {
            _ = try Backend.load(library: "libm.so.6")
            Issue.record("libm is not a backend")
        } catch {
            #expect(error.description.contains("is not an AITrader backend"))
        }
    }

    @Test func seededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        let xs = (0 ..< 100).map { _ in a.uniform(-1, 1) }
        #expect(xs == (0 ..< 100).map { _ in b.uniform(-1, 1) })
        #expect(xs.allSatisfy { $0 >= -1 && $0 < 1 })
        let mean = xs.reduce(0, +) / 100
        #expect(abs(mean) < 0.2)
    }

    @Test func dropoutStatisticsAndInferenceIdentity() throws {
        let store = try ParameterStore(layout: ParameterLayout(), backend: .cpu)
        let ctx = Context(parameters: store, training: true, dropoutSeed: 4)
        let drop = try Dropout(0.25)
        let x = try Tensor([Float](repeating: 1, count: 4000), shape: [4000], on: .cpu)
        let y1 = try drop.forward(x, ctx).toArray()
        let kept = y1.filter { $0 != 0 }
        #expect(abs(Double(kept.count) / 4000 - 0.75) < 0.03)
        #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        let y2 = try drop.forward(x, ctx).toArray()
        #expect(y1 != y2, "each call advances the Philox offset")
        #expect(ctx.dropoutOffset == 2)
        ctx.training = false
        let y3 = try drop.forward(x, ctx)
        #expect(y3.storage === x.storage)
        #expect(throws: EngineError.self) { try Dropout(1) }
    }

    @Test func activationMemoryIsReusedAcrossSteps() throws {
        var layout = ParameterLayout()
        let lstm = try LSTM(inputSize: 3, hiddenSize: 4, name: "lstm", layout: &layout)
        let store = try ParameterStore(layout: layout, backend: .cpu)
        let ctx = Context(parameters: store)
        let big = try Tensor(zeros: [4, 6, 3], on: .cpu), small = try Tensor(zeros: [1, 6, 3], on: .cpu)
        let y1 = try lstm.forward(big, ctx)
        let d1 = try lstm.backward(y1, ctx)
        let y2 = try lstm.forward(small, ctx)   // a smaller batch reuses the same allocation
        let d2 = try lstm.backward(y2, ctx)
        #expect(y1.storage === y2.storage && d1.storage === d2.storage)
        #expect(y2.shape == [1, 6, 4])
        var buffer = ActivationBuffer()
        let a = try buffer.tensor([10], on: .cpu)
        let b = try buffer.tensor([5], on: .cpu)
        #expect(a.storage === b.storage && buffer.capacity == 10)
        let c = try buffer.tensor([11], on: .cpu)
        #expect(c.storage !== a.storage && buffer.capacity == 11)
    }

    @Test func pytorchDefaultInitialisationBounds() throws {
        var layout = ParameterLayout()
        _ = try Linear(64, 32, name: "fc", layout: &layout)
        _ = try Conv1d(8, 16, kernelSize: 5, name: "conv", layout: &layout)
        _ = try LSTM(inputSize: 10, hiddenSize: 25, name: "lstm", layout: &layout)
        _ = try MultiHeadAttention(embedDim: 16, heads: 4, name: "attn", layout: &layout)
        let store = try ParameterStore(layout: layout, backend: .cpu, seed: 3)
        func bound(_ name: String) throws -> Float { try store.value(named: name).toArray().map(abs).max()! }
        let expected: [(String, Float)] = [
            ("fc.weight", 1 / 8), ("fc.bias", 1 / 8), ("conv.weight", 1 / Float(40).squareRoot()),
            ("lstm.weight_ih_l0", 1 / 5), ("lstm.bias_hh_l0", 1 / 5),
            ("attn.in_proj_weight", (6 / Float(16 + 48)).squareRoot()), ("attn.out_proj.weight", 1 / 4),
        ]
        for (name, b) in expected {
            let m = try bound(name)
            #expect(m <= b && m > 0.9 * b, "\(name): max |w| \(m), bound \(b)")
        }
        #expect(try store.value(named: "attn.in_proj_bias").toArray().allSatisfy { $0 == 0 })
        #expect(try store.value(named: "attn.out_proj.bias").toArray().allSatisfy { $0 == 0 })
    }
}

/// Device selection sets the CPU thread count: one of the serialized `ThreadCountTests`.
extension ThreadCountTests {
    @Test func deviceSelection() throws {
        #expect(try Devices.select(.cpu, threads: 1) === Backend.cpu)
        #expect(try Backend.cpu.info().threads == 1)
        try Backend.cpu.setThreads(2)
        #expect(throws: EngineError.self) { try Devices.select(device: "tpu") }
        let candidates = Devices.cudaLibraryCandidates(environment: ["AITRADER_CUDA_LIB": "/opt/x/libaitrader_cuda.so"])
        #expect(candidates.map(\.path) == ["/opt/x/libaitrader_cuda.so"])
        let searched = Devices.cudaLibraryCandidates(environment: [:])
        #expect(searched.last?.path == "libaitrader_cuda.so" && searched.count == 3)
        // Without a GPU library, `auto` falls back to the CPU and `cuda` explains why.
        if case .failure(let error) = Devices.cuda() {
            #expect(try Devices.select(.auto) === Backend.cpu)
            guard case let .unavailable(_, reason) = error else { Issue.record("\(error)"); return }
            #expect(!reason.isEmpty)
            #expect(throws: EngineError.self) { try Devices.select(.cuda) }
        }
    }
}
