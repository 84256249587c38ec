/// The version `aitrader --version` prints and every checkpoint records as its `code_version`.
///
///     AITraderVersion.string   // "0.7.0"
public enum AITraderVersion {
    public static let string = "0.7.0"
}
