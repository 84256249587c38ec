import Common
import MarketData

/// The three horizon models by the names configs and the CLI use: the one horizon kind of Common (`ModelType`),
/// which the models, their checkpoints and training share. A model's window length comes from its model
/// configuration (`sequence_length`), not from here.
///
///     let kind = try ModelKind(parsing: "medium_term")   // .mediumTerm
public typealias ModelKind = ModelType

extension ModelType {
    public init(parsing text: String, location: String? = nil) throws(FeatureError) {
        guard let kind = ModelType(rawValue: text.lowercased()) else {
            throw FeatureError(location: location, reason: "unknown model '\(text)' (expected short_term, medium_term or long_term)")
        }
        self = kind
    }
}

/// A trading profile: which bar timeframe each model runs on. Shared by feature computation, training and the
/// robot, loaded from `configs/features/profiles.yaml`:
///
///     profiles:
///       scalper:  {short_term: 5m, medium_term: 15m, long_term: 1h}
///       trader:   {short_term: 1h, medium_term: 4h,  long_term: 1d}
///       investor: {short_term: 1d, medium_term: 1d,  long_term: 1w}
///
///     let trader = try TradingProfile.named("trader", in: try TradingProfile.load(path: "configs/features/profiles.yaml"))
///     trader.timeframe(for: .mediumTerm)   // .h4
public struct TradingProfile: Sendable, Equatable {
    public let name: String
    public let timeframes: [ModelKind: Timeframe]

    public init(name: String, timeframes: [ModelKind: Timeframe]) {
        precondition(ModelKind.allCases.allSatisfy { timeframes[$0] != nil }, "a profile names a timeframe for every model")
        self.name = name
        self.timeframes = timeframes
    }

    public func timeframe(for model: ModelKind) -> Timeframe { timeframes[model]! }

    /// Every profile in a profiles file, in file order.
    public static func load(path: String) throws(FeatureError) -> [TradingProfile] {
        try FeatureError.loadingYAML(path: path, parse)
    }

    public static func parse(_ root: YAMLNode) throws -> [TradingProfile] {
        try root.checkKeys(["profiles"])
        var out: [TradingProfile] = []
        for (name, node) in try root.require("profiles").mapping() {
            try node.checkKeys(ModelKind.allCases.map(\.rawValue))
            var timeframes: [ModelKind: Timeframe] = [:]
            for kind in ModelKind.allCases {
                let value = try node.require(kind.rawValue)
                do {
                    timeframes[kind] = try Timeframe(parsing: value.string())
                } catch let error as Timeframe.ParseError {
                    throw FeatureError(location: value.location, reason: "profiles.\(name).\(kind): \(error)")
                }
            }
            out.append(TradingProfile(name: name, timeframes: timeframes))
        }
        return out
    }

    public static func named(_ name: String, in profiles: [TradingProfile]) throws(FeatureError) -> TradingProfile {
        guard let p = profiles.first(where: { $0.name == name }) else {
            throw FeatureError(reason: "unknown profile '\(name)' (known: \(profiles.map(\.name).joined(separator: ", ")))")
        }
        return p
    }
}
