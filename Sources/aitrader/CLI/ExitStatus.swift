import Common
import Engine
import Features
import Foundation
import MarketData
import Models
import Prediction
import Robot
import Serving
import Simulation
import Training
import Venues

/// A command that ran and failed for a reason that is neither a usage error nor bad input data (a dataset failed to
/// update, nothing matched, too few bars in the range): exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// The exit statuses, documented in the README and in `aitrader --help`:
/// 0 success, 64 usage error (EX_USAGE), 65 bad input data (EX_DATAERR), 1 any other failure.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 64
    static let dataError: Int32 = 65

    /// The status for an error that ended a command.
    static func of(_ error: Error) -> Int32 {
        if let training = error as? TrainingError {
            switch training {
            case .config, .data, .checkpoint: return dataError
            case .nonFinite, .failed: return failure
            }
        }
        if let robot = error as? RobotError {
            switch robot {
            case .configuration, .sessionMismatch: return usage
            case .prediction: return dataError
            case .journal, .venue, .replayMismatch: return failure
            }
        }
        if let killSwitch = error as? KillSwitchError {
            switch killSwitch {
            case .authorizationUnavailable, .configuration: return usage
            case .state: return dataError
            case .unauthorized: return failure
            }
        }
        if let ensemble = error as? EnsembleBacktestError {
            switch ensemble {
            case .history: return dataError   // too little history before --start, as `predict --as-of` says it
            case .settings: return usage
            case .prediction(let e): return of(e)
            case .backtest(let e): return of(e)
            }
        }
        if let prediction = error as? PredictionError {
            if case .failed = prediction { return failure }
            return dataError
        }
        if let serving = error as? ServingError {
            if case .repository = serving { return dataError }
            return failure
        }
        switch error {
        case is UsageError: return usage
        case let e as StorageError:
            // A missing store or dataset, or a file system failure, is not bad data; a damaged or conflicting one is.
            switch e.kind {
            case .noStore, .notFound, .io, .database, .readOnly: return failure
            case .validation, .overlapConflict, .checksumMismatch, .invalidArgument, .parquet: return dataError
            }
        case let e as BacktestError:
            if case .invalidBar = e { return dataError }
            return failure
        case is DataError, is ParquetError, is ThriftError, is Snappy.Error, is PageCompression.Error,
             is RLEHybrid.Error, is YAMLError, is ConfigError, is ConfigurationError, is SafetensorsError,
             is ModelError, is FeatureError, is Timeframe.ParseError, is MarketCalendar.ParseError,
             is TimeZoneRule.ParseError, is TimeframeTransformer.ResampleError, is TimeframeSpacingError:
            return dataError
        default: return failure
        }
    }

    /// The error as the user reads it: the error's own description (each module's errors speak the user's terms),
    /// never an internal type name; Foundation's file errors as "no such file: PATH" and the like.
    static func message(_ error: Error) -> String {
        if let cocoa = error as? CocoaError {
            let path = cocoa.filePath ?? cocoa.url?.path ?? "the file"
            switch cocoa.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file: \(path)"
            case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied: \(path)"
            case .fileWriteOutOfSpace: return "no space left to write \(path)"
            case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: return "cannot read \(path) as text"
            default: return "cannot access \(path)"
            }
        }
        let text = String(describing: error)
        return text.hasPrefix("Error Domain=") ? (error as NSError).localizedDescription : text
    }
}
