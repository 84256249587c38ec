import Foundation

/// Small helpers for writing JSON by hand (ordered keys, exact number text), shared by reports and benchmarks.
public enum JSONText {
    /// A JSON string literal: `JSONText.quote("a\"b")` is `"a\"b"` with the quote escaped.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 { out += String(format: "\\u%04x", ch.value) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}
