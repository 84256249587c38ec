/// Which post-hoc calibration maps a model's raw p(up) to a probability (the training config's `calibration` key;
/// `Trainer` fits it on the validation split and stores it in every checkpoint it writes):
///
/// | method        | map                                   | fitted parameters                          |
/// |---------------|---------------------------------------|--------------------------------------------|
/// | `platt`       | σ(a · logit p + b)                    | a, b minimising the log loss (Newton)      |
/// | `temperature` | σ(logit p / T) = σ(a · logit p)       | a = 1 / T minimising the log loss (Newton) |
/// | `isotonic`    | the increasing step-and-line function | pool-adjacent-violators (sklearn's)        |
/// | `none`        | p                                     | nothing                                    |
///
/// `platt` is the default: two parameters cannot overfit a few thousand validation samples, it is monotone (it
/// never reorders predictions, so the direction calls and the confidence ranking survive), and unlike `temperature`
/// its intercept corrects a shifted mean (a network whose p(up) is pulled towards 0.5 and off the base rate).
/// `isotonic` is more flexible but steps: many raw values map to the same calibrated one.
///
///     CalibrationMethod(rawValue: "platt")   // .platt
public enum CalibrationMethod: String, Sendable, Codable, CaseIterable, Equatable {
    case platt
    case temperature
    case isotonic
    case none
}
