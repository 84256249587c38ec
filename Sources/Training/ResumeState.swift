import Foundation

/// Where a run stands, written into its `last` checkpoint (metadata `training_state`, beside the AdamW moments as
/// tensors `training_state.adam_m` / `training_state.adam_v`) so a resumed run continues exactly where it stopped:
/// same epoch, same position in that epoch's data order, same optimizer and scheduler step, same dropout stream,
/// same early-stopping counters and top-k list.
///
///     {"epoch": 3, "batch": 17, "step": 209, "adam_steps": 209, "dropout_offset": 1254, ...}
struct ResumeState: Codable, Equatable {
    /// One of the top-k checkpoints: its validation loss, epoch (0-based) and file name in the checkpoint directory.
    struct Ranked: Codable, Equatable {
        var loss: Double
        var epoch: Int
        var file: String
    }

    /// The epoch in progress (0-based), or the next one at an epoch boundary.
    var epoch = 0
    /// The next batch of `epoch`'s data order.
    var batch = 0
    /// Optimizer steps taken over the whole run (the scheduler's position).
    var step = 0
    var adamSteps = 0
    var dropoutOffset: UInt64 = 0
    /// The epoch in progress' training loss so far: sum of per-sample losses and their count.
    var trainLossSum = 0.0
    var trainSamples = 0
    var bestLoss: Double?
    var bestEpoch: Int?
    var badEpochs = 0
    var topK: [Ranked] = []
    /// Training ended (the last epoch, or early stopping); resuming does nothing.
    var finished = false
    var stoppedEarly = false

    static let metadataKey = "training_state"
    static let mTensor = "training_state.adam_m"
    static let vTensor = "training_state.adam_v"

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func parse(_ text: String) throws -> ResumeState {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ResumeState.self, from: Data(text.utf8))
    }
}
