import Testing
@testable import Engine

/// AdamW, OneCycleLR and global-norm clipping against torch.optim (fixture "optimizers").
@Suite(.serialized) struct OptimizerTests {
    func singleParameterStore(_ count: Int) throws -> ParameterStore {
        var layout = ParameterLayout()
        _ = try layout.declare("p", shape: [count], initializer: .constant(0))
        return try ParameterStore(layout: layout, backend: .cpu)
    }

    @Test func adamWMatchesTorch() throws {
        let f = try LayerFixture("optimizers")
        let store = try singleParameterStore(10)
        try store.values.copy(from: f.floats("adamw.start"))
        let opt = try AdamW(store, learningRate: 0.01)
        let grads = try f.floats("adamw.grads")
        for s in 0 ..< 5 {
            try store.gradients!.copy(from: Array(grads[s * 10 ..< s * 10 + 10]))
            try opt.step()
        }
        // Element-wise updates, no sums across elements: each step's few roundings (reduction 5·4, four
        // operations a step) relative to the values' scale near zero, 1e-5 relative otherwise.
        let e = elementwiseError(try store.values.toArray(), try f.floats("adamw.final"), rtol: 1e-5, reduction: 20)
        print("parity adamw (5 steps): \(e)")
        #expect(e.passed, "adamw final values: \(e)")
        #expect(opt.stepCount == 5)
    }

    @Test func oneCycleMatchesTorch() throws {
        let f = try LayerFixture("optimizers")
        let schedule = try OneCycleLR(maxLearningRate: 0.1, totalSteps: 20)
        let lr = try (0 ..< 20).map { Float(try schedule.learningRate(at: $0)) }
        let mom = try (0 ..< 20).map { Float(try schedule.momentum(at: $0)!) }
        // Schedules computed in Double and rounded to fp32 (as the fixture): one rounding each (reduction 1).
        let e1 = elementwiseError(lr, try f.floats("onecycle.lr"), rtol: 1e-6, reduction: 1)
        let e2 = elementwiseError(mom, try f.floats("onecycle.momentum"), rtol: 1e-6, reduction: 1)
        print("parity onecycle: lr \(e1), momentum \(e2)")
        #expect(e1.passed, "onecycle lr: \(e1)")
        #expect(e2.passed, "onecycle momentum: \(e2)")
        #expect(abs(try schedule.learningRate(at: 0) - 0.004) < 1e-12)
        #expect(throws: EngineError.self) { try schedule.learningRate(at: 21) }
        let store = try singleParameterStore(1)
        let opt = try AdamW(store)
        try schedule.apply(to: opt, step: 5)
        #expect(opt.learningRate == lr[5] && opt.beta1 == mom[5])
    }

    @Test func clippingMatchesTorch() throws {
        let f = try LayerFixture("optimizers")
        let store = try singleParameterStore(10)
        try store.gradients!.copy(from: f.floats("clip.grads"))
        let r = try GradientClipping.clip(store, maxNorm: 1)
        #expect(abs(r.norm - (try f.floats("clip.norm"))[0]) <= 1e-5 * r.norm)
        // clipped = g · (maxNorm / norm): the norm sums 10 squares (reduction 10), then one product.
        let clipped = elementwiseError(try store.gradients!.toArray(), try f.floats("clip.clipped"), rtol: 1e-5, reduction: 11)
        #expect(clipped.passed, "clipped gradients: \(clipped)")
        // Below the threshold nothing changes.
        let again = try GradientClipping.clip(store, maxNorm: 10)
        #expect(again.scale == 1)
    }
}
