/// A layer group of a model: every parameter whose name starts with the same first component (`convs`, `lstm`,
/// `attn`, `head`, `trend_blocks`, `encoder`, …), as the float ranges it occupies in the parameter buffer
/// (consecutive parameters of a group merged into one range).
public struct ParameterGroup: Sendable, Equatable {
    public let name: String
    public let ranges: [Range<Int>]
    public var count: Int { ranges.reduce(0) { $0 + $1.count } }
}

extension ParameterLayout {
    /// The layer groups in order of first declaration.
    ///
    ///     layout.names          // ["fc.weight", "fc.bias", "head.linear.weight", "head.linear.bias"]
    ///     layout.groups.map(\.name)   // ["fc", "head"]
    public var groups: [ParameterGroup] {
        var order: [String] = [], ranges: [String: [Range<Int>]] = [:]
        for spec in specs {
            let name = String(spec.name.split(separator: ".", maxSplits: 1).first ?? Substring(spec.name))
            let range = spec.offset ..< spec.offset + spec.count
            if var list = ranges[name] {
                if list[list.count - 1].upperBound == range.lowerBound {
                    list[list.count - 1] = list[list.count - 1].lowerBound ..< range.upperBound
                } else {
                    list.append(range)
                }
                ranges[name] = list
            } else {
                order.append(name)
                ranges[name] = [range]
            }
        }
        return order.map { ParameterGroup(name: $0, ranges: ranges[$0]!) }
    }
}

/// Gradient norms per layer group: sqrt(sum g²) over each group's parameters, by the backend's
/// `reduce_sum_squares` (one call per contiguous range, results in one small device buffer, ONE copy to the host),
/// so it costs a pass over the gradients and one synchronisation — cheap enough every few steps.
///
///     let norms = try GradientNorms.perGroup(model.parameters)   // [("convs", 0.41), ("lstm", 1.2), …]
public enum GradientNorms {
    public static func perGroup(_ store: ParameterStore) throws(EngineError) -> [(name: String, norm: Double)] {
        guard let g = store.gradients else {
            throw .invalidState(context: "GradientNorms", message: "the parameter store has no gradient buffer")
        }
        let groups = store.layout.groups
        let rangeCount = groups.reduce(0) { $0 + $1.ranges.count }
        guard rangeCount > 0 else { return [] }
        let sums = try Tensor(zeros: [rangeCount], on: store.backend)
        var k = 0
        for group in groups {
            for range in group.ranges {
                try store.backend.reduceSumSquares(out: sums.view(offset: k, shape: [1]),
                                                   g.view(offset: range.lowerBound, shape: [range.count]), count: range.count)
                k += 1
            }
        }
        let host = try sums.toArray()
        k = 0
        return groups.map { group in
            var total = 0.0
            for _ in group.ranges { total += Double(host[k]); k += 1 }
            return (group.name, total.squareRoot())
        }
    }
}
