import Testing
@testable import Common

@Suite struct UntrustedTextTests {
    @Test func removesEscapeSequencesWhole() {
        // CSI (clear screen, colours, cursor moves), OSC (window title, hyperlink) with BEL and ST terminators.
        #expect(UntrustedText.sanitized("bad key\u{1B}[2J\u{1B}]0;pwned\u{07}!") == "bad key!")
        #expect(UntrustedText.sanitized("\u{1B}[1;31mred\u{1B}[0m text") == "red text")
        #expect(UntrustedText.sanitized("a\u{1B}]8;;http://x\u{1B}\\link\u{1B}]8;;\u{1B}\\b") == "alinkb")
        #expect(UntrustedText.sanitized("a\u{1B}Pq#0;2;0;0;0\u{1B}\\b") == "ab")      // DCS (sixel)
        #expect(UntrustedText.sanitized("a\u{1B}(0b\u{1B}c") == "ab")                 // charset switch, reset
        #expect(UntrustedText.sanitized("a\u{9B}31mb\u{9D}2;t\u{9C}c") == "abc")      // 8-bit CSI and OSC
        #expect(UntrustedText.sanitized("trailing escape\u{1B}") == "trailing escape")
        #expect(UntrustedText.sanitized("unterminated\u{1B}]0;title") == "unterminated")
    }

    @Test func dropsControlCharactersButKeepsLinesAndText() {
        #expect(UntrustedText.sanitized("a\u{00}b\u{07}c\u{08}d\u{7F}e\u{85}f") == "abcdef")
        #expect(UntrustedText.sanitized("line 1\r\nline\t2") == "line 1\nline\t2")
        #expect(UntrustedText.sanitized("abc\u{202E}fed\u{2066}") == "abcfed")          // bidi overrides
        #expect(UntrustedText.sanitized("forbidden: naïve ünïcödé ✓ 東京") == "forbidden: naïve ünïcödé ✓ 東京")
    }

    @Test func capsLength() {
        let long = String(repeating: "x", count: 10_000)
        #expect(UntrustedText.sanitized(long) == String(repeating: "x", count: 500) + "…")
        #expect(UntrustedText.sanitized(long, limit: 3) == "xxx…")
        #expect(UntrustedText.sanitized("xyz", limit: 3) == "xyz")
        #expect(UntrustedText.sanitized("xyz", limit: -1) == "…")
        // Escapes do not count toward the limit, and cannot be cut in half by it.
        #expect(UntrustedText.sanitized("\u{1B}[31m" + "ab" + "\u{1B}[0m", limit: 2) == "ab")
    }

    @Test func outputNeverHoldsControlsForRandomInput() {
        let seed = SplitMix64.testSeed()
        var rng = SplitMix64(seed: seed)
        let alphabet: [Unicode.Scalar] = ["\u{1B}", "[", "]", "\\", "\u{07}", "\u{9B}", "\u{9C}", "\u{9D}", "a", "1", ";",
                                          "m", "\r", "\n", "\t", "\u{00}", "\u{7F}", "P", "é", "\u{202E}"]
        for round in 0..<2_000 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int(rng.next() % 40) { s.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let clean = UntrustedText.sanitized(String(s), limit: 30)
            let bad = clean.unicodeScalars.first { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value) }
            #expect(bad == nil, "round \(round): \(clean.debugDescription) (AITRADER_TEST_SEED=\(seed))")
            #expect(clean.unicodeScalars.count <= 31, "round \(round) (AITRADER_TEST_SEED=\(seed))")
        }
    }
}
