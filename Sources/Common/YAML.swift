import CYAML
import Foundation

/// A YAML document parsed by the system libyaml into a tree that remembers where every node came from, so
/// configuration errors can name the file, line and key:
///
///     let config = try YAMLNode.load(path: "configs/data.yaml")
///     let root = try config.string("data_root", default: "./data")
///     for source in try config.require("sources").sequence() { ... }
///     // configs/data.yaml:7:12: 'retries': expected an integer, found 'three'
///
/// Supports the YAML 1.1 that configuration files use: block and flow mappings and sequences, quoted and plain
/// scalars, comments, anchors and aliases. Merge keys (`<<`) are expanded. Several documents in one stream are
/// rejected.
public struct YAMLNode: Sendable, CustomStringConvertible {
    public enum Value: Sendable {
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([(key: String, value: YAMLNode)])
    }

    public let value: Value
    public let file: String
    /// 1-based position of the node's start.
    public let line: Int
    public let column: Int
    /// The key path from the document root, e.g. `sources[1].retries` (for messages).
    public let path: String

    public var description: String {
        switch value {
        case .scalar(let s, _): return s
        case .sequence(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .mapping(let pairs): return "{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }

    public var location: String { "\(file):\(line):\(column)" }

    func error(_ message: String) -> YAMLError {
        YAMLError(file: file, line: line, column: column, message: path.isEmpty ? message : "'\(path)': \(message)")
    }

    // MARK: loading

    public static func load(path: String) throws(YAMLError) -> YAMLNode {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw YAMLError(file: path, line: 0, column: 0, message: "cannot read file: \(error.localizedDescription)")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses YAML text. An empty document gives an empty mapping.
    public static func parse(_ text: String, file: String = "<yaml>") throws(YAMLError) -> YAMLNode {
        var builder = YAMLTreeBuilder(file: file)
        return try builder.build(text)
    }

    // MARK: navigation

    public var isNull: Bool {
        if case .scalar(let s, let plain) = value, plain, ["", "~", "null", "Null", "NULL"].contains(s) { return true }
        return false
    }

    /// The value under `key` in a mapping, or nil when absent or null.
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = value, let node = pairs.last(where: { $0.key == key })?.value,
              !node.isNull else { return nil }
        return node
    }

    public var keys: [String] {
        if case .mapping(let pairs) = value { return pairs.map(\.key) }
        return []
    }

    public func require(_ key: String) throws(YAMLError) -> YAMLNode {
        guard case .mapping = value else { throw error("expected a mapping with key '\(key)'") }
        guard let node = self[key] else { throw error("missing required key '\(key)'") }
        return node
    }

    /// Throws if the mapping has keys outside `allowed` (catches typos in configuration files).
    public func checkKeys(_ allowed: [String]) throws(YAMLError) {
        guard case .mapping(let pairs) = value else { return }
        for pair in pairs where !allowed.contains(pair.key) {
            throw pair.value.error("unknown key (allowed: \(allowed.joined(separator: ", ")))")
        }
    }

    public func mapping() throws(YAMLError) -> [(key: String, value: YAMLNode)] {
        guard case .mapping(let pairs) = value else { throw error("expected a mapping, found \(kind)") }
        return pairs
    }

    public func sequence() throws(YAMLError) -> [YAMLNode] {
        if isNull { return [] }
        guard case .sequence(let items) = value else { throw error("expected a list, found \(kind)") }
        return items
    }

    public func string() throws(YAMLError) -> String {
        guard case .scalar(let s, _) = value else { throw error("expected a value, found \(kind)") }
        return s
    }

    public func double() throws(YAMLError) -> Double {
        let s = try string()
        switch s.lowercased() {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        default: break
        }
        guard let v = Double(s.replacingOccurrences(of: "_", with: "")), v.isFinite else {
            throw error("expected a number, found '\(s)'")
        }
        return v
    }

    public func int() throws(YAMLError) -> Int {
        let s = try string()
        guard let v = Int(s.replacingOccurrences(of: "_", with: "")) else { throw error("expected an integer, found '\(s)'") }
        return v
    }

    public func bool() throws(YAMLError) -> Bool {
        let s = try string()
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, found '\(s)'")
        }
    }

    // Typed look-ups with defaults: absent (or null) keys give the default, present ones must parse.
    public func string(_ key: String, default fallback: String) throws(YAMLError) -> String {
        try self[key]?.string() ?? fallback
    }
    public func double(_ key: String, default fallback: Double) throws(YAMLError) -> Double {
        try self[key]?.double() ?? fallback
    }
    public func int(_ key: String, default fallback: Int) throws(YAMLError) -> Int {
        try self[key]?.int() ?? fallback
    }
    public func bool(_ key: String, default fallback: Bool) throws(YAMLError) -> Bool {
        try self[key]?.bool() ?? fallback
    }

    var kind: String {
        switch value {
        case .scalar: isNull ? "null" : "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}

/// A YAML syntax or configuration error with its position.
public struct YAMLError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Builds a `YAMLNode` tree from libyaml's event stream.
private struct YAMLTreeBuilder {
    let file: String
    var anchors: [String: YAMLNode] = [:]

    init(file: String) { self.file = file }

    private enum Frame {
        case sequence(items: [YAMLNode], line: Int, column: Int, anchor: String?, path: String)
        case mapping(pairs: [(key: String, value: YAMLNode)], pendingKey: String?, line: Int, column: Int,
                     anchor: String?, path: String)
    }

    mutating func build(_ text: String) throws(YAMLError) -> YAMLNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(file: file, line: 0, column: 0, message: "libyaml: cannot initialise parser")
        }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(YAMLError) -> YAMLNode in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return try run(&parser)
        }
    }

    private func childPath(_ stack: [Frame]) -> String {
        guard let top = stack.last else { return "" }
        switch top {
        case .sequence(let items, _, _, _, let path): return "\(path)[\(items.count)]"
        case .mapping(_, let key, _, _, _, let path): return path.isEmpty ? (key ?? "") : "\(path).\(key ?? "")"
        }
    }

    private mutating func run(_ parser: inout yaml_parser_t) throws(YAMLError) -> YAMLNode {
        var stack: [Frame] = []
        var root: YAMLNode?
        var documents = 0

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? "syntax error"
                let context = parser.context.map { " " + String(cString: $0) } ?? ""
                throw YAMLError(file: file, line: Int(parser.problem_mark.line) + 1,
                                column: Int(parser.problem_mark.column) + 1, message: "YAML syntax: \(problem)\(context)")
            }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1
            var finished: YAMLNode?

            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root ?? YAMLNode(value: .mapping([]), file: file, line: 1, column: 1, path: "")
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw YAMLError(file: file, line: line, column: column,
                                    message: "more than one YAML document in this file")
                }
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
                let plain = s.style == YAML_PLAIN_SCALAR_STYLE
                // A scalar in key position of a mapping becomes the pending key.
                if case .mapping(let pairs, nil, let l, let c, let a, let p)? = stack.last {
                    stack[stack.count - 1] = .mapping(pairs: pairs, pendingKey: text, line: l, column: c, anchor: a, path: p)
                    continue
                }
                let node = YAMLNode(value: .scalar(text, plain: plain), file: file, line: line, column: column,
                                    path: childPath(stack))
                if let anchor = s.anchor { anchors[String(cString: anchor)] = node }
                finished = node
            case YAML_ALIAS_EVENT:
                let name = String(cString: event.data.alias.anchor)
                guard let node = anchors[name] else {
                    throw YAMLError(file: file, line: line, column: column, message: "unknown alias *\(name)")
                }
                if case .mapping(let pairs, nil, let l, let c, let a, let p)? = stack.last {
                    guard case .scalar(let key, _) = node.value else {
                        throw YAMLError(file: file, line: line, column: column, message: "alias *\(name) used as a key")
                    }
                    stack[stack.count - 1] = .mapping(pairs: pairs, pendingKey: key, line: l, column: c, anchor: a, path: p)
                    continue
                }
                finished = node
            case YAML_SEQUENCE_START_EVENT:
                try rejectComplexKey(stack, line, column)
                let anchor = event.data.sequence_start.anchor.map { String(cString: $0) }
                stack.append(.sequence(items: [], line: line, column: column, anchor: anchor, path: childPath(stack)))
            case YAML_MAPPING_START_EVENT:
                try rejectComplexKey(stack, line, column)
                let anchor = event.data.mapping_start.anchor.map { String(cString: $0) }
                stack.append(.mapping(pairs: [], pendingKey: nil, line: line, column: column, anchor: anchor,
                                      path: childPath(stack)))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                let node: YAMLNode
                let anchor: String?
                switch stack.removeLast() {
                case .sequence(let items, let l, let c, let a, let p):
                    node = YAMLNode(value: .sequence(items), file: file, line: l, column: c, path: p)
                    anchor = a
                case .mapping(let pairs, _, let l, let c, let a, let p):
                    node = YAMLNode(value: .mapping(pairs), file: file, line: l, column: c, path: p)
                    anchor = a
                }
                if let anchor { anchors[anchor] = node }
                finished = node
            default:
                break
            }

            guard let node = finished else { continue }
            if stack.isEmpty {
                root = node
                continue
            }
            switch stack[stack.count - 1] {
            case .sequence(var items, let l, let c, let a, let p):
                items.append(node)
                stack[stack.count - 1] = .sequence(items: items, line: l, column: c, anchor: a, path: p)
            case .mapping(var pairs, let key?, let l, let c, let a, let p):
                if key == "<<" {
                    // Merge key: copy the referenced mapping's pairs (explicit keys win later via last-match look-up
                    // only if they come after; YAML says explicit keys always win, so insert merged pairs first).
                    let merged = (try? node.mapping()) ?? []
                    pairs.insert(contentsOf: merged.filter { m in !pairs.contains { $0.key == m.key } }, at: 0)
                } else {
                    pairs.append((key: key, value: node))
                }
                stack[stack.count - 1] = .mapping(pairs: pairs, pendingKey: nil, line: l, column: c, anchor: a, path: p)
            case .mapping(_, nil, _, _, _, _):
                throw YAMLError(file: file, line: node.line, column: node.column, message: "mapping key must be a scalar")
            }
        }
    }

    private func rejectComplexKey(_ stack: [Frame], _ line: Int, _ column: Int) throws(YAMLError) {
        if case .mapping(_, nil, _, _, _, _)? = stack.last {
            throw YAMLError(file: file, line: line, column: column, message: "mapping key must be a scalar")
        }
    }
}
