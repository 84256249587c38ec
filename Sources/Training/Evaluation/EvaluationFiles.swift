import Common
import Foundation
import Simulation

/// The files of `aitrader evaluate --output DIR`, each written atomically:
///
/// - `evaluation.json`: the `EvaluationResult` (snake_case keys, sorted; non-finite figures are absent or null),
/// - `predictions.csv`: `timestamp,p_up,p_up_calibrated,alpha,beta,confidence,label,return,next_return` (ISO-8601
///   UTC; `p_up` is the network's, `p_up_calibrated` through the checkpoint's calibration; `return` is
///   the label horizon's log return, `next_return` the next bar's simple return the simulated trading earns),
/// - `report.html`: one self-contained page (inline SVG, no scripts, no external URLs): the table of figures with
///   intervals, the paired tests, the reliability diagram, the confidence histogram and the equity curves.
///
///     try EvaluationFiles.write(result, to: "evaluation/short_term")
public enum EvaluationFiles {
    public static func write(_ result: EvaluationResult, to directory: String) throws(TrainingError) {
        do {
            try AtomicFile.createDirectories(directory)
            try AtomicFile.write(Array(json(result).utf8), to: directory + "/evaluation.json")
            try AtomicFile.write(Array(csv(result).utf8), to: directory + "/predictions.csv")
            try AtomicFile.write(Array(EvaluationHTML(result: result).render().utf8), to: directory + "/report.html")
        } catch { throw .failed(context: "writing \(directory)", message: "\(error)") }
    }

    public static func json(_ result: EvaluationResult) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return ((try? encoder.encode(result)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }

    public static func csv(_ result: EvaluationResult) -> String {
        var s = "timestamp,p_up,p_up_calibrated,alpha,beta,confidence,label,return,next_return\n"
        for r in result.predictions {
            s += "\(UTCTime.iso8601(r.timestamp)),\(r.pUp),\(r.pUpCalibrated),\(r.alpha),\(r.beta),\(r.confidence),\(r.label),\(r.forwardReturn),\(r.nextReturn)\n"
        }
        return s
    }
}
