import Foundation

/// The repository root, found from this file's location (tests run from any directory): the bridge script, its fake
/// `MetaTrader5` module, the fake Alpaca server and `configs/` are found from it.
enum Samples {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}
