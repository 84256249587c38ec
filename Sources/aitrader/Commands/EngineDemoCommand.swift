import Common
import Engine
import Foundation
import MarketData

/// `aitrader engine demo`: trains a tiny Conv1d -> LSTM -> Beta-head network on windows of a CSV's bars to
/// predict the next bars' direction, printing the falling loss. Shows the engine end to end: device selection,
/// one parameter buffer, layers forward/backward, dropout, AdamW + OneCycleLR + clipping, Beta NLL.
enum EngineDemoCommand: AITraderCommand {
    static let path = ["engine", "demo"]
    static let summary = "train a tiny Conv1d-LSTM Beta-head direction model on a CSV (engine demo)"
    static var usage: String {
        """
        Usage: aitrader engine demo --csv FILE [--steps 60] [--batch 64] [--window 32] [--horizon 4]
                                    [--lr 0.003] [--seed 1] [--timeframe 1h] [--device auto|cpu|cuda] [--threads N]
          Windows of log returns and log high/low ranges (standardised) -> P(close in HORIZON bars > close now).
          First 80% of the windows train, the last 20% validate (chronological). Prints the training loss (mean
          Beta NLL; 0 = a uniform guess) every few steps and the validation loss and direction accuracy.
        """
    }

    static func run(_ arguments: ParsedArguments) async throws {
        let csv = try arguments.require("csv")
        let steps = try arguments.int("steps") ?? 60
        let batchSize = try arguments.int("batch") ?? 64
        let window = try arguments.int("window") ?? 32
        let horizon = try arguments.int("horizon") ?? 4
        let lr = try arguments.double("lr") ?? 3e-3
        let seed = UInt64(try arguments.int("seed") ?? 1)
        let timeframeText = arguments.string("timeframe") ?? "1h"
        let device = arguments.string("device") ?? "auto"
        let threads = try arguments.int("threads")
        try arguments.finish()
        guard steps > 0, batchSize > 0, window > 1, horizon > 0, lr > 0 else {
            throw UsageError("--steps, --batch, --horizon and --lr must be positive and --window > 1")
        }
        guard let timeframe = Timeframe(rawValue: timeframeText) else { throw UsageError("unknown --timeframe '\(timeframeText)'") }

        let symbol = ((csv as NSString).lastPathComponent as NSString).deletingPathExtension
        let bars = try CSVBarReader().read(path: csv, symbol: symbol, timeframe: timeframe)
        let data = try DirectionWindows(bars, window: window, horizon: horizon)
        let backend = try Devices.select(device: device, threads: threads)
        let info = try backend.info()
        let net = try DirectionNetwork(backend: backend, seed: seed)
        let optimizer = try AdamW(net.store, learningRate: Float(lr))
        let schedule = try OneCycleLR(maxLearningRate: lr, totalSteps: steps)
        print("engine demo: \(bars.count) bars of \(symbol), \(data.trainCount) training / \(data.validationRange.count) "
            + "validation windows of \(window) bars, horizon \(horizon); \(net.store.layout.totalCount) parameters on "
            + "\(backend.name) (\(info.name))")

        var rng = SeededGenerator(seed: seed &+ 1000)
        var running: [Float] = []
        let every = max(1, steps / 12)
        let start = Date()
        for step in 0 ..< steps {
            let samples = (0 ..< batchSize).map { _ in Int(rng.next() % UInt64(data.trainCount)) }
            let (x, labels) = data.batch(samples)
            try schedule.apply(to: optimizer, step: step)
            let (loss, _) = try net.evaluate(x: x, labels: labels, window: window, train: true)
            let clip = try GradientClipping.scale(net.store, maxNorm: 1)
            try optimizer.step(gradientScale: clip.scale)
            running.append(loss)
            if (step + 1) % every == 0 || step == steps - 1 {
                let recent = running.suffix(every)
                let mean = recent.reduce(0, +) / Float(recent.count)
                print(String(format: "step %4d/%d  train loss %8.4f  lr %.2e  grad norm %.3f", step + 1, steps, mean,
                             optimizer.learningRate, clip.norm))
            }
        }
        let seconds = Date().timeIntervalSince(start)

        // Validation in inference mode (dropout off), in chunks.
        let validation = Array(data.validationRange)
        var lossSum = 0.0, correct = 0, ups = 0
        for chunkStart in stride(from: 0, to: validation.count, by: 256) {
            let chunk = Array(validation[chunkStart ..< min(chunkStart + 256, validation.count)])
            let (x, labels) = data.batch(chunk)
            let (loss, pUp) = try net.evaluate(x: x, labels: labels, window: window, train: false)
            lossSum += Double(loss) * Double(chunk.count)
            for (p, label) in zip(pUp, labels) {
                if (p > 0.5 ? 1 : 0) == Int(label) { correct += 1 }
                if label == 1 { ups += 1 }
            }
        }
        let n = Double(validation.count)
        let majority = max(Double(ups), n - Double(ups)) / n
        print(String(format: "validation: loss %.4f, direction accuracy %.1f%% (majority class %.1f%%), %d windows; "
                     + "training %.1f s (%.1f ms/step)", lossSum / n, 100 * Double(correct) / n, 100 * majority,
                     validation.count, seconds, 1000 * seconds / Double(steps)))
    }
}
