import Testing
@testable import Common

@Suite struct YAMLTests {
    let text = """
    # data configuration
    data_root: ./data
    retries: 3
    backoff: 0.5
    verbose: yes
    empty:
    defaults: &base
      feed: iex
      adjustment: raw
    sources:
      - name: alpaca
        <<: *base
        feed: sip
      - {name: csv, path: "data/sample/EURUSD_H1.csv"}
    symbols: [EURUSD, GOOG]
    quoted: "123"
    """

    @Test func readsScalarsListsAndMappings() throws {
        let root = try YAMLNode.parse(text, file: "data.yaml")
        #expect(try root.string("data_root", default: "") == "./data")
        #expect(try root.int("retries", default: 0) == 3)
        #expect(try root.double("backoff", default: 0) == 0.5)
        #expect(try root.bool("verbose", default: false))
        #expect(root["empty"] == nil)
        #expect(try root.int("missing", default: 7) == 7)
        #expect(try root.require("symbols").sequence().map { try $0.string() } == ["EURUSD", "GOOG"])
        #expect(try root.require("quoted").string() == "123")
        #expect(root.keys.first == "data_root")
    }

    @Test func expandsAnchorsAndMergeKeysWithExplicitKeysWinning() throws {
        let root = try YAMLNode.parse(text, file: "data.yaml")
        let sources = try root.require("sources").sequence()
        #expect(try sources[0].string("feed", default: "") == "sip")
        #expect(try sources[0].string("adjustment", default: "") == "raw")
        #expect(try sources[1].string("path", default: "") == "data/sample/EURUSD_H1.csv")
    }

    @Test func errorsNameFileLineAndKeyPath() throws {
        let root = try YAMLNode.parse("a: 1\nsources:\n  - retries: three\n", file: "cfg.yaml")
        let item = try root.require("sources").sequence()[0]
        do {
            _ = try item.int("retries", default: 0)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "cfg.yaml:3:14: 'sources[0].retries': expected an integer, found 'three'")
        }
        #expect(throws: YAMLError.self) { try root.require("nope") }
        #expect(throws: YAMLError.self) { try root.checkKeys(["a"]) }
    }

    @Test func reportsSyntaxErrorsWithPosition() {
        do {
            _ = try YAMLNode.parse("a: [1, 2\nb: 3\n", file: "bad.yaml")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.file == "bad.yaml")
            #expect(error.line >= 1)
            #expect(error.message.hasPrefix("YAML syntax"))
        }
        #expect(throws: YAMLError.self) { try YAMLNode.parse("a: 1\n---\nb: 2\n") }
    }

    @Test func emptyDocumentIsAnEmptyMapping() throws {
        #expect(try YAMLNode.parse("").keys.isEmpty)
        #expect(try YAMLNode.parse("# only a comment\n").keys.isEmpty)
    }
}
