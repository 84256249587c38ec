import Common
import Foundation

/// Broker credentials kept in a file instead of the environment: `NAME=value` lines (blank lines and `#` comments
/// ignored, surrounding quotes stripped), named as the environment would name them (`APCA_API_KEY_ID`,
/// `APCA_API_SECRET_KEY`, `AITRADER_MT5_TOKEN`, ...). The file must belong to the user running AITrader and be
/// readable by nobody else (mode 0600 or 0400): a file others can read is refused before a value is read. Values
/// never appear in errors or descriptions.
///
///     // ~/.aitrader/alpaca-paper.env (chmod 600):
///     //   APCA_API_KEY_ID=PK...
///     //   APCA_API_SECRET_KEY=...
///     let values = try CredentialsFile.load("~/.aitrader/alpaca-paper.env")
///     let merged = ProcessInfo.processInfo.environment.merging(values) { _, file in file }
public enum CredentialsFile {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public static func load(_ path: String) throws(Error) -> [String: String] {
        let expanded = (path as NSString).expandingTildeInPath
        let data: Data
        do { data = try PrivateFile.read(expanded, strict: true) } catch {
            switch error {
            case .cannotStat(let why): throw Error(description: "credentials file \(path): \(why)")
            case .notRegularFile: throw Error(description: "credentials file \(path) is not a regular file")
            case .readableByOthers(let mode):
                throw Error(description: "credentials file \(path) can be read by other users (mode \(mode)); "
                            + "run `chmod 600 \(path)` — it holds secrets")
            case .ownedByAnotherUser(let uid):
                throw Error(description: "credentials file \(path) belongs to another user (uid \(uid)); it must be yours")
            case .cannotRead(let why): throw Error(description: "cannot read credentials file \(path): \(why)")
            }
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Error(description: "cannot read credentials file \(path): it is not UTF-8 text")
        }
        var values: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "=") else {
                throw Error(description: "\(path):\(n + 1): expected NAME=value")
            }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw Error(description: "\(path):\(n + 1): '\(UntrustedText.sanitized(name, limit: 40))' is not a variable name")
            }
            values[name] = value
        }
        return values
    }
}
