/// Text from outside (vendor and broker error messages, file contents echoed in errors) made safe to print on a
/// terminal: control characters other than newline and tab become U+FFFD, so no escape sequence reaches the terminal.
enum Sanitized {
    static func terminal(_ text: String, limit: Int = 4000) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(limit) {
            let v = scalar.value
            if v == 0x0A || v == 0x09 || (v >= 0x20 && v != 0x7F && !(0x80 ... 0x9F).contains(v)) {
                out.append(scalar)
            } else {
                out.append("\u{FFFD}")
            }
        }
        return String(out) + (text.unicodeScalars.count > limit ? " …" : "")
    }
}
