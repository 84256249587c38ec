import Foundation

/// The one-cycle learning-rate policy exactly as `torch.optim.lr_scheduler.OneCycleLR` with its defaults:
/// warm-up from max_lr/div_factor to max_lr over the first pct_start of the steps, then annealing to
/// initial_lr/final_div_factor, both with cosine annealing; momentum (Adam's beta1) cycles inversely between
/// max_momentum and base_momentum. Step k (0-based) of training uses `learningRate(at: k)`, like torch's
/// scheduler stepped after each optimizer step.
///
///     let schedule = try OneCycleLR(maxLearningRate: 1e-3, totalSteps: 1000)
///     try schedule.apply(to: optimizer, step: k)     // sets lr and beta1 before optimizer.step()
public struct OneCycleLR: Sendable, Equatable {
    public enum Annealing: Sendable, Equatable { case cosine, linear }

    public let maxLearningRate: Double
    public let totalSteps: Int
    public let pctStart: Double
    public let annealing: Annealing
    public let divFactor: Double
    public let finalDivFactor: Double
    public let threePhase: Bool
    public let cycleMomentum: Bool
    public let baseMomentum: Double
    public let maxMomentum: Double

    public init(maxLearningRate: Double, totalSteps: Int, pctStart: Double = 0.3, annealing: Annealing = .cosine,
                divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false,
                cycleMomentum: Bool = true, baseMomentum: Double = 0.85, maxMomentum: Double = 0.95) throws(EngineError) {
        guard totalSteps > 0 else { throw .invalidArgument(context: "OneCycleLR", message: "totalSteps must be positive, got \(totalSteps)") }
        guard pctStart >= 0, pctStart <= 1 else { throw .invalidArgument(context: "OneCycleLR", message: "pctStart must be in [0, 1], got \(pctStart)") }
        guard maxLearningRate > 0, divFactor > 0, finalDivFactor > 0 else {
            throw .invalidArgument(context: "OneCycleLR", message: "maxLearningRate, divFactor and finalDivFactor must be positive")
        }
        self.maxLearningRate = maxLearningRate
        self.totalSteps = totalSteps
        self.pctStart = pctStart
        self.annealing = annealing
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
        self.threePhase = threePhase
        self.cycleMomentum = cycleMomentum
        self.baseMomentum = baseMomentum
        self.maxMomentum = maxMomentum
    }

    public var initialLearningRate: Double { maxLearningRate / divFactor }
    public var minLearningRate: Double { initialLearningRate / finalDivFactor }

    private struct Phase { let end: Double; let lr: (Double, Double); let momentum: (Double, Double) }

    private var phases: [Phase] {
        let warm = pctStart * Double(totalSteps) - 1
        if threePhase {
            return [Phase(end: warm, lr: (initialLearningRate, maxLearningRate), momentum: (maxMomentum, baseMomentum)),
                    Phase(end: 2 * pctStart * Double(totalSteps) - 2, lr: (maxLearningRate, initialLearningRate),
                          momentum: (baseMomentum, maxMomentum)),
                    Phase(end: Double(totalSteps) - 1, lr: (initialLearningRate, minLearningRate),
                          momentum: (maxMomentum, maxMomentum))]
        }
        return [Phase(end: warm, lr: (initialLearningRate, maxLearningRate), momentum: (maxMomentum, baseMomentum)),
                Phase(end: Double(totalSteps) - 1, lr: (maxLearningRate, minLearningRate), momentum: (baseMomentum, maxMomentum))]
    }

    private func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        switch annealing {
        case .cosine: end + (start - end) / 2 * (cos(Double.pi * pct) + 1)
        case .linear: (end - start) * pct + start
        }
    }

    private func values(at step: Int) throws(EngineError) -> (lr: Double, momentum: Double) {
        guard step >= 0, step <= totalSteps else {
            throw .invalidState(context: "OneCycleLR", message: "step \(step) is past the schedule's \(totalSteps) total steps")
        }
        var start = 0.0
        let all = phases
        for (i, phase) in all.enumerated() {
            if Double(step) <= phase.end || i == all.count - 1 {
                let pct = (Double(step) - start) / (phase.end - start)
                return (anneal(phase.lr.0, phase.lr.1, pct), anneal(phase.momentum.0, phase.momentum.1, pct))
            }
            start = phase.end
        }
        return (minLearningRate, maxMomentum)
    }

    /// The learning rate of step `step` (0-based; valid through `totalSteps`, as torch).
    public func learningRate(at step: Int) throws(EngineError) -> Double { try values(at: step).lr }

    /// Adam's beta1 at step `step` when momentum cycles (else nil).
    public func momentum(at step: Int) throws(EngineError) -> Double? {
        cycleMomentum ? try values(at: step).momentum : nil
    }

    /// Sets the optimizer's learning rate (and beta1 when momentum cycles) for step `step`.
    public func apply(to optimizer: AdamW, step: Int) throws(EngineError) {
        let v = try values(at: step)
        optimizer.learningRate = Float(v.lr)
        if cycleMomentum { optimizer.beta1 = Float(v.momentum) }
    }
}
