import Testing
@testable import Engine

/// Same seeds -> bit-identical losses over 20 AdamW steps of Conv1d -> ReLU -> Dropout -> LSTM -> last step ->
/// Linear (dropout active, OneCycleLR, clipping), at 1, 2 and 3 threads alike. The test changes the thread count,
/// so it is a member of `ThreadCountTests` (below); this type holds the network and the run.
struct DeterminismTests {
    final class TinyStack {
        let conv: Conv1d, relu = ActivationLayer(.relu), drop: Dropout, lstm: LSTM, pool = TimePool(.last), head: Linear
        let store: ParameterStore
        let ctx: Context

        init(seed: UInt64) throws {
            var layout = ParameterLayout()
            conv = try Conv1d(3, 6, kernelSize: 3, name: "conv", layout: &layout)
            drop = try Dropout(0.2)
            lstm = try LSTM(inputSize: 6, hiddenSize: 8, layers: 2, dropout: 0.1, name: "lstm", layout: &layout)
            head = try Linear(8, 1, name: "head", layout: &layout)
            store = try ParameterStore(layout: layout, backend: .cpu, seed: seed)
            ctx = Context(parameters: store, training: true, dropoutSeed: seed)
        }

        /// One step of MSE regression; returns the loss.
        func step(_ x: Tensor, _ target: [Float], _ opt: AdamW) throws -> Float {
            let h = try lstm.forward(drop.forward(relu.forward(conv.forward(x, ctx), ctx), ctx), ctx)
            let y = try head.forward(pool.forward(h, ctx), ctx)
            let out = try y.toArray()
            var loss: Float = 0
            var grad = [Float](repeating: 0, count: out.count)
            for i in out.indices {
                let d = out[i] - target[i]
                loss += d * d / Float(out.count)
                grad[i] = 2 * d / Float(out.count)
            }
            try store.zeroGradients()
            let dy = try Tensor(grad, shape: y.shape, on: .cpu)
            let dh = try pool.backward(head.backward(dy, ctx), ctx)
            try conv.backwardParametersOnly(relu.backward(drop.backward(lstm.backward(dh, ctx), ctx), ctx), ctx)
            let clip = try GradientClipping.scale(store, maxNorm: 1)
            try opt.step(gradientScale: clip.scale)
            return loss
        }
    }

    func run(seed: UInt64) throws -> [Float] {
        let net = try TinyStack(seed: seed)
        let opt = try AdamW(net.store, learningRate: 1e-2)
        let schedule = try OneCycleLR(maxLearningRate: 1e-2, totalSteps: 20)
        var rng = SeededGenerator(seed: 77)
        let xs = (0 ..< 8 * 12 * 3).map { _ in rng.uniform(-1, 1) }
        let x = try Tensor(xs, shape: [8, 12, 3], on: .cpu)
        let target = (0 ..< 8).map { b in xs[b * 36 ..< b * 36 + 36].reduce(0, +) / 36 * 4 }
        var losses: [Float] = []
        for k in 0 ..< 20 {
            try schedule.apply(to: opt, step: k)
            losses.append(try net.step(x, target, opt))
        }
        return losses
    }
}

extension ThreadCountTests {
    @Test func sameSeedBitIdenticalLossesForAnyThreadCount() throws {
        defer { try? Backend.cpu.setThreads(2) }
        let net = DeterminismTests()
        try Backend.cpu.setThreads(1)
        let one = try net.run(seed: 11)
        #expect(one.map(\.bitPattern) == (try net.run(seed: 11)).map(\.bitPattern), "1 thread, twice")
        try Backend.cpu.setThreads(2)
        let a = try net.run(seed: 11)
        #expect(a.map(\.bitPattern) == (try net.run(seed: 11)).map(\.bitPattern), "2 threads, twice")
        #expect(a.map(\.bitPattern) == one.map(\.bitPattern), "1 vs 2 threads: \(one) vs \(a)")
        try Backend.cpu.setThreads(3)
        let three = try net.run(seed: 11)
        #expect(three.map(\.bitPattern) == one.map(\.bitPattern), "1 vs 3 threads: \(one) vs \(three)")
        #expect(a.last! < a.first!, "training reduces the loss: \(a)")
        let c = try net.run(seed: 12)
        #expect(a != c, "another seed, other losses")
        print("determinism: 20 losses bit-identical at 1, 2 and 3 threads; first \(a.first!) last \(a.last!)")
    }
}
