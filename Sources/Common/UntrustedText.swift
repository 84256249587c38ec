/// Makes text from outside (a data vendor's or broker's error message, a bridge reply, a server header) safe to
/// put in our error messages and on the user's terminal: ANSI/VT escape sequences (CSI, OSC, DCS, ...) are removed
/// whole, every other C0/C1 control character and DEL is dropped except newline and tab (a carriage return too: it
/// could overwrite the line), Unicode bidi overrides are dropped, and the result is capped at `limit` characters (`…` marks the cut).
///
///     UntrustedText.sanitized("bad key\u{1B}[2J\u{1B}]0;pwned\u{07}!")   // "bad key!"
///     UntrustedText.sanitized(String(repeating: "x", count: 10_000)).count   // 501 (500 + "…")
///
/// The CLI's error printer can run every message through it as a last line of defence; the sources already
/// sanitise what the vendor sent before it enters a `SourceError`.
public enum UntrustedText {
    /// Characters kept by default: enough for any real vendor message, small enough for a terminal line or three.
    public static let defaultLimit = 500

    public static func sanitized(_ text: some StringProtocol, limit: Int = defaultLimit) -> String {
        let limit = max(0, limit)
        var out = String.UnicodeScalarView()
        var kept = 0
        var scalars = Array(text.unicodeScalars)[...]
        while let c = scalars.first {
            scalars = scalars.dropFirst()
            let v = c.value
            if v == 0x1B || v == 0x9B || v == 0x9D || v == 0x90 || v == 0x98 || v == 0x9E || v == 0x9F {
                scalars = skipEscape(introducer: v, rest: scalars)
                continue
            }
            let isControl = v < 0x20 || (0x7F...0x9F).contains(v)
            if isControl && c != "\n" && c != "\t" { continue }
            if (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) { continue }   // bidi overrides
            if kept == limit {
                out.append("…")
                break
            }
            out.append(c)
            kept += 1
        }
        return String(out)
    }

    /// Drops the rest of an escape sequence started by `introducer` (ESC or an 8-bit C1 introducer).
    private static func skipEscape(introducer: UInt32, rest: ArraySlice<Unicode.Scalar>) -> ArraySlice<Unicode.Scalar> {
        var rest = rest
        var kind = introducer
        if introducer == 0x1B {
            guard let next = rest.first else { return rest }
            switch next {
            case "[": kind = 0x9B
            case "]": kind = 0x9D
            case "P": kind = 0x90
            case "X": kind = 0x98
            case "^": kind = 0x9E
            case "_": kind = 0x9F
            default:
                // ESC followed by intermediates (0x20-0x2F) and one final byte (0x30-0x7E).
                while let c = rest.first, (0x20...0x2F).contains(c.value) { rest = rest.dropFirst() }
                if let c = rest.first, (0x30...0x7E).contains(c.value) { rest = rest.dropFirst() }
                return rest
            }
            rest = rest.dropFirst()
        }
        if kind == 0x9B {
            // CSI: parameter and intermediate bytes, then one final byte 0x40-0x7E.
            while let c = rest.first, (0x20...0x3F).contains(c.value) { rest = rest.dropFirst() }
            if let c = rest.first, (0x40...0x7E).contains(c.value) { rest = rest.dropFirst() }
            return rest
        }
        // OSC, DCS, SOS, PM, APC: a string ended by BEL, ST (ESC \) or the 8-bit ST (0x9C).
        while let c = rest.first {
            rest = rest.dropFirst()
            if c.value == 0x07 || c.value == 0x9C { break }
            if c.value == 0x1B {
                if rest.first == "\\" { rest = rest.dropFirst() }
                break
            }
        }
        return rest
    }
}
