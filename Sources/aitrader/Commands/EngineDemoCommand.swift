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
    static let options: [Option] = [
        Option("csv", .text, "FILE", "bars to learn from", required: true),
        Option("steps", .integer(1 ... 1_000_000), "N", "training steps", default: "60"),
        Option("batch", .integer(1 ... 65_536), "N", "windows per step", default: "64"),
        Option("window", .integer(2 ... 4096), "N", "bars per window", default: "32"),
        Option("horizon", .integer(1 ... 4096), "N", "bars ahead whose direction is predicted", default: "4"),
        Option("lr", .number(.positive), "X", "peak learning rate (OneCycleLR)", default: "0.003"),
        Option("seed", .integer(0 ... Int.max), "N", "seed of the weights and the batches", default: "1"),
        Option("timeframe", .timeframe, "", "the bars' timeframe", default: "1h"),
    ]
    static let discussion = """
        Windows of log returns and log high/low ranges (standardised) -> P(close in HORIZON bars > close now).
        First 80% of the windows train, the last 20% validate (chronological). Prints the training loss (mean Beta
        NLL; 0 = a uniform guess) every few steps and the validation loss and direction accuracy.
        """

    static func run(_ values: OptionValues) async throws {
        let csv = values.string("csv") ?? ""
        let steps = values.int("steps") ?? 60
        let batchSize = values.int("batch") ?? 64
        let window = values.int("window") ?? 32
        let horizon = values.int("horizon") ?? 4
        let lr = values.double("lr") ?? 3e-3
        let seed = UInt64(values.int("seed") ?? 1)
        let timeframe = values.timeframe("timeframe") ?? .h1
        let device = values.string("device") ?? "auto"
        let threads = values.int("threads")

        let symbol = ((csv as NSString).lastPathComponent as NSString).deletingPathExtension
        let bars = try CSVBarReader().read(path: csv, symbol: symbol, timeframe: timeframe)
        let data = try DirectionWindows(bars, window: window, horizon: horizon)
        guard data.trainCount > 0, !data.validationRange.isEmpty else {
            throw CommandFailure("\(csv): \(bars.count) bars make too few windows of \(window) + \(horizon) bars to train and validate")
        }
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
