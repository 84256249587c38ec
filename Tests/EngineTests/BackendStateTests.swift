import CKernels
import Testing
@testable import Engine

/// Backend options and error texts, tensor copies, the row-scale and dropout-backward kernels, parameter-store
/// and optimizer state (AdamW resume/reset, OneCycleLR's three-phase schedule as torch defines it).
@Suite(.serialized) struct BackendStateTests {
    // MARK: backend

    @Test func backendOptionsAndKernelErrorText() throws {
        let cpu = Backend.cpu
        #expect(cpu.hostMemory)
        #expect(cpu.description == "Backend(cpu, built-in)")
        try cpu.setOption(CK_OPT_ALLOW_TF32, 0)   // exact fp32 is what the CPU does anyway
        try cpu.sync()
        do {
            try cpu.setOption(CK_OPT_ALLOW_TF32, 1)
            Issue.record("the CPU backend accepted TF32")
        } catch {
            guard case let .kernel(backend, operation, status, message) = error else { Issue.record("\(error)"); return }
            #expect(backend == "cpu" && operation == "set_option" && status == .unsupported)
            #expect(message.contains("no TF32"), "\(message)")
            #expect(error.description == "cpu: set_option failed (unsupported): \(message)")
        }
        do {
            try cpu.setOption(ck_option(rawValue: 99), 1)
            Issue.record("an unknown option was accepted")
        } catch {
            guard case let .kernel(_, _, status, message) = error else { Issue.record("\(error)"); return }
            #expect(status == .invalidArgument && status.description == "invalid argument")
            #expect(message == "set_option: unknown option 99")
        }
        #expect(throws: EngineError.invalidArgument(context: "Backend.setThreads", message: "threads must be >= 1, got 0")) {
            try cpu.setThreads(0)
        }
        #expect(KernelStatus(CK_ERR_OUT_OF_MEMORY).description == "out of memory")
        #expect(KernelStatus(CK_ERR_DEVICE).description == "device error")
        #expect(KernelStatus(CK_ERR_UNAVAILABLE).description == "unavailable")
    }

    // MARK: tensors

    @Test func movedTensorIsAnIndependentCopy() throws {
        let x = try Tensor([1, 2, 3, 4], shape: [2, 2], on: .cpu)
        let y = try x.moved(to: .cpu)
        #expect(y.shape == [2, 2] && y.backend === Backend.cpu)
        try y.copy(from: [9, 9, 9, 9])
        #expect(try x.toArray() == [1, 2, 3, 4])
        #expect(try y.toArray() == [9, 9, 9, 9])
        #expect(throws: EngineError.shapeMismatch(context: "Tensor.copy(from:)", message: "3 values into [2, 2]")) {
            try x.copy(from: [1, 2, 3])
        }
        #expect(throws: EngineError.shapeMismatch(context: "Tensor.copy(from: Tensor)", message: "[3] into [2, 2]")) {
            try x.copy(from: try Tensor(zeros: [3], on: .cpu))
        }
        #expect(x.description == "Tensor([2, 2], cpu, offset 0)")
    }

    // MARK: kernels without a layer of their own

    @Test func rowScaleForwardAndBackward() throws {
        // out (N, C) = x (N, C) * w (N); dx = dout * w; dw[r] = sum_c dout[r, c] * x[r, c].
        let x: [Float] = [1, 2, 3, -4, 5, 0.5], w: [Float] = [2, -0.25], dOut: [Float] = [1, -1, 0.5, 2, 0, 4]
        let cpu = Backend.cpu
        let out = try Tensor(zeros: [2, 3], on: cpu)
        let xt = try Tensor(x, shape: [2, 3], on: cpu), wt = try Tensor(w, shape: [2], on: cpu)
        try cpu.rowScaleForward(out: out, xt, wt, rows: 2, columns: 3)
        #expect(try out.toArray() == [2, 4, 6, 1, -1.25, -0.125])
        let dx = try Tensor(zeros: [2, 3], on: cpu), dw = try Tensor(zeros: [2], on: cpu)
        try cpu.rowScaleBackward(dX: dx, dW: dw, dOut: try Tensor(dOut, shape: [2, 3], on: cpu), xt, wt,
                                 rows: 2, columns: 3)
        #expect(try dx.toArray() == [2, -2, 1, -0.5, 0, -1])
        let g = try dw.toArray()
        #expect(abs(g[0] - (1 - 2 + 1.5)) < 1e-6 && abs(g[1] - (-8 + 0 + 2)) < 1e-6, "\(g)")
        #expect(throws: EngineError.self) { try cpu.rowScaleForward(out: out, xt, wt, rows: 3, columns: 3) }
    }

    @Test func dropoutBackwardReusesTheForwardMask() throws {
        let n = 4096, p: Float = 0.3, seed: UInt64 = 1234, offset: UInt64 = 77
        let cpu = Backend.cpu
        let ones = try Tensor([Float](repeating: 1, count: n), shape: [n], on: cpu)
        let kept = try Tensor(zeros: [n], on: cpu)
        try cpu.dropoutForward(out: kept, input: ones, count: n, p: p, seed: seed, offset: offset)
        let mask = try kept.toArray()   // 0 or 1/(1-p)
        let g = (0 ..< n).map { Float($0 % 7) - 3 }
        let dInput = try Tensor(zeros: [n], on: cpu)
        try cpu.dropoutBackward(dInput: dInput, dOut: try Tensor(g, shape: [n], on: cpu), count: n, p: p, seed: seed,
                                offset: offset)
        let d = try dInput.toArray()
        for i in 0 ..< n {
            #expect(mask[i] == 0 || abs(mask[i] - 1 / (1 - p)) < 1e-6)
            #expect(abs(d[i] - g[i] * mask[i]) <= 1e-6 * abs(g[i] * mask[i]), "element \(i)")
        }
        let dropped = Double(mask.filter { $0 == 0 }.count) / Double(n)
        #expect(abs(dropped - Double(p)) < 0.03, "dropped \(dropped)")
        // Another offset is another mask (the Philox stream moves on).
        try cpu.dropoutForward(out: kept, input: ones, count: n, p: p, seed: seed, offset: offset + UInt64(n))
        #expect(try kept.toArray() != mask)
    }

    // MARK: parameter store and optimizer state

    func store(_ count: Int, gradients: Bool = true) throws -> ParameterStore {
        var layout = ParameterLayout()
        _ = try layout.declare("p", shape: [count], initializer: .constant(0))
        return try ParameterStore(layout: layout, backend: .cpu, withGradients: gradients)
    }

    @Test func parameterStoreRejectsUnknownNamesAndMissingGradients() throws {
        let training = try store(3)
        #expect(throws: EngineError.invalidArgument(context: "ParameterStore", message: "no parameter named 'q'")) {
            try training.value(named: "q")
        }
        #expect(throws: EngineError.self) { try training.gradient(named: "q") }
        #expect(throws: EngineError.invalidArgument(context: "ParameterStore.load", message: "missing parameter 'p'")) {
            try training.load([:])
        }
        let inference = try store(3, gradients: false)
        #expect(inference.gradient(inference.layout.id(named: "p")!) == nil)
        #expect(throws: EngineError.invalidState(context: "ParameterStore", message: "store was created without gradients")) {
            try inference.gradient(named: "p")
        }
        #expect(throws: EngineError.self) { try AdamW(inference) }
        #expect(throws: EngineError.self) { try AdamW(training, learningRate: -1) }
        #expect(throws: EngineError.self) { try AdamW(training, beta1: 1) }
    }

    /// Steps 4...6 from restored moments and step count are those of an optimizer that never stopped; after
    /// `reset`, a step is a fresh optimizer's first step.
    @Test func adamWResumesFromRestoredStateAndResets() throws {
        let n = 8
        let start = (0 ..< n).map { Float($0) * 0.25 - 1 }
        func gradients(_ step: Int) -> [Float] { (0 ..< n).map { Float(($0 * 3 + step * 5) % 11) * 0.1 - 0.5 } }
        func run(_ opt: AdamW, steps: Range<Int>) throws {
            for s in steps {
                try opt.store.gradients!.copy(from: gradients(s))
                try opt.step()
            }
        }
        let reference = try store(n)
        try reference.values.copy(from: start)
        let uninterrupted = try AdamW(reference, learningRate: 0.05)
        try run(uninterrupted, steps: 0 ..< 6)

        let first = try store(n)
        try first.values.copy(from: start)
        let before = try AdamW(first, learningRate: 0.05)
        try run(before, steps: 0 ..< 3)
        let resumedStore = try store(n)
        try resumedStore.values.copy(from: try first.values.toArray())
        let resumed = try AdamW(resumedStore, learningRate: 0.05)
        try resumed.restore(m: try before.m.toArray(), v: try before.v.toArray(), stepCount: before.stepCount)
        #expect(resumed.stepCount == 3)
        try run(resumed, steps: 3 ..< 6)
        #expect(try resumedStore.values.toArray() == (try reference.values.toArray()))
        #expect(try resumed.m.toArray() == (try uninterrupted.m.toArray()))
        // Without the moments (a fresh optimizer at step 3), the result differs: the state matters.
        let naive = try AdamW(try store(n), learningRate: 0.05)
        try naive.store.values.copy(from: try first.values.toArray())
        try run(naive, steps: 3 ..< 6)
        #expect(try naive.store.values.toArray() != (try reference.values.toArray()))

        try resumed.reset()
        #expect(resumed.stepCount == 0)
        #expect(try resumed.m.toArray().allSatisfy { $0 == 0 } && (try resumed.v.toArray()).allSatisfy { $0 == 0 })
        try resumedStore.values.copy(from: start)
        try run(resumed, steps: 0 ..< 1)
        let fresh = try store(n)
        try fresh.values.copy(from: start)
        try run(try AdamW(fresh, learningRate: 0.05), steps: 0 ..< 1)
        #expect(try resumedStore.values.toArray() == (try fresh.values.toArray()))
        #expect(throws: EngineError.self) { try resumed.restore(m: [], v: [], stepCount: -1) }
    }

    /// torch's `three_phase=True`: up to max_lr at pct_start, back to initial_lr at 2 * pct_start, then down to
    /// initial_lr / final_div_factor; momentum mirrors the first two phases and stays at max_momentum.
    @Test func oneCycleThreePhaseBoundaries() throws {
        let s = try OneCycleLR(maxLearningRate: 0.1, totalSteps: 100, pctStart: 0.25, threePhase: true)
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(1, abs(b)) }
        #expect(close(try s.learningRate(at: 0), 0.004))
        #expect(close(try s.learningRate(at: 24), 0.1))
        #expect(close(try s.learningRate(at: 36), (0.1 + 0.004) / 2))
        #expect(close(try s.learningRate(at: 48), 0.004))
        #expect(close(try s.learningRate(at: 99), 0.004 / 1e4))
        #expect(close(try s.momentum(at: 24)!, 0.85))
        #expect(close(try s.momentum(at: 48)!, 0.95))
        #expect(close(try s.momentum(at: 70)!, 0.95))
        // Linear annealing: halfway through the warm-up is the arithmetic mean.
        let linear = try OneCycleLR(maxLearningRate: 1, totalSteps: 11, pctStart: 1, annealing: .linear, divFactor: 2)
        #expect(close(try linear.learningRate(at: 5), 0.75))
        #expect(throws: EngineError.self) { try OneCycleLR(maxLearningRate: 0, totalSteps: 10) }
        #expect(throws: EngineError.self) { try OneCycleLR(maxLearningRate: 1, totalSteps: 10, pctStart: 2) }
    }
}
