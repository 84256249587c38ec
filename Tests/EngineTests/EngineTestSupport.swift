import Foundation
import Testing
@testable import Engine

/// A PyTorch layer fixture written by tools/reference/engine_fixtures.py.
struct LayerFixture {
    let file: SafetensorsFile
    let name: String

    init(_ name: String) throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/engine/\(name)", withExtension: "safetensors"))
        file = try SafetensorsFile(contentsOf: url.path)
        self.name = name
    }

    func floats(_ key: String) throws -> [Float] { try file.floats(key) }
    func shape(_ key: String) throws -> [Int] { try file.tensor(key).shape }
    func tensor(_ key: String, on backend: Backend = .cpu) throws -> Tensor {
        try Tensor(floats(key), shape: shape(key), on: backend)
    }

    /// Every `param.<name>` as a state dict.
    func parameters() throws -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for key in file.tensors.keys where key.hasPrefix("param.") {
            out[String(key.dropFirst(6))] = try floats(key)
        }
        return out
    }
}

/// The worst element of an element-wise comparison with a reference, numpy.allclose style: element i passes when
/// |got − want| ≤ atol + rtol·|want|; `ratio` is the largest |got − want| / (atol + rtol·|want|), so ≤ 1 passes.
struct ElementwiseError: CustomStringConvertible {
    var ratio = 0.0
    var index = -1
    var got: Float = 0, want: Float = 0
    var atol: Double, rtol: Double

    var passed: Bool { ratio <= 1 }
    var description: String {
        index < 0 ? "no elements"
            : String(format: "worst element [%d]: got %.9g, want %.9g (|diff| %.3g vs atol %.3g + rtol %.0e·|want|; ratio %.3g)",
                     index, got, want, abs(Double(got) - Double(want)), atol, rtol, ratio)
    }
}

/// fp32's unit roundoff, 2⁻²⁴.
let fp32Roundoff = 0x1p-24

/// The absolute tolerance of an fp32 result whose elements are sums of at most `reduction` products, against an
/// exact (float64) reference: a sum of n terms computed in fp32 is within ≈ n·u·Σ|terms| of the exact one
/// (u = 2⁻²⁴), and the terms are taken to be of the order of `scale`, the reference tensor's largest magnitude (or
/// of a related tensor's, for a result that is zero in exact arithmetic). This is what an element near zero by
/// cancellation may be off by; elements of the tensor's own order are held to `rtol` instead.
func fp32SumTolerance(reduction: Int, scale: Double) -> Double {
    Double(max(reduction, 1)) * fp32Roundoff * scale
}

/// Compares `a` with the reference `b` element by element: |a_i − b_i| ≤ atol + rtol·|b_i|, with
/// atol = `fp32SumTolerance(reduction:scale:)` of the reference's largest magnitude (or of `scale` if given).
func elementwiseError(_ a: [Float], _ b: [Float], rtol: Double, reduction: Int, scale: Double? = nil) -> ElementwiseError {
    precondition(a.count == b.count, "count \(a.count) vs \(b.count)")
    let reference = scale ?? b.reduce(0) { max($0, abs(Double($1))) }
    var worst = ElementwiseError(atol: fp32SumTolerance(reduction: reduction, scale: reference), rtol: rtol)
    for i in a.indices {
        let d = abs(Double(a[i]) - Double(b[i]))
        var r = d / (worst.atol + rtol * abs(Double(b[i])))
        if d == 0 { r = 0 } else if r.isNaN { r = .infinity }
        if r > worst.ratio || worst.index < 0 {
            worst.ratio = r; worst.index = i; worst.got = a[i]; worst.want = b[i]
        }
    }
    return worst
}

/// Runs a layer against its PyTorch fixture: forward output, input gradient and every parameter gradient, each
/// element within atol + `tolerance`·|want| (`elementwiseError`). atol allows fp32 sums of up to `reduction` terms
/// (default: the input's plus the parameters' element count, a bound on the length of any one sum in a forward or
/// backward pass of these small layers: sums run over batch·time rows, features or a parameter's fan-in).
/// `exactZeros`: parameter gradients that are zero in exact arithmetic (attention's key bias: softmax ignores a
/// per-row constant); the reference then holds rounding noise and ours must be within the atol of the layer's
/// gradient scale, the size of the terms that cancel. Returns the largest error ratio seen (≤ 1 passes).
@discardableResult
func checkParity(_ fixture: String, tolerance: Double = 1e-4, reduction: Int? = nil, exactZeros: Set<String> = [],
                 extra: [String: (any Layer) -> Tensor?] = [:],
                 build: (inout ParameterLayout) throws -> any Layer) throws -> Double {
    var worst = 0.0
    for backend in testBackends() {
        worst = max(worst, try checkParity(fixture, on: backend, tolerance: tolerance, reduction: reduction,
                                           exactZeros: exactZeros, extra: extra, build: build))
    }
    return worst
}

/// The CPU backend, plus the CUDA backend when its library loads here (a GPU machine with `make cuda` built or
/// AITRADER_CUDA_LIB set), so the same parity tests cover both.
func testBackends() -> [Backend] {
    if case .success(let cuda) = Devices.cuda() { return [.cpu, cuda] }
    return [.cpu]
}

func checkParity(_ fixture: String, on backend: Backend, tolerance: Double, reduction: Int?, exactZeros: Set<String>,
                 extra: [String: (any Layer) -> Tensor?],
                 build: (inout ParameterLayout) throws -> any Layer) throws -> Double {
    let f = try LayerFixture(fixture)
    var layout = ParameterLayout()
    let layer = try build(&layout)
    let n = try reduction ?? (f.floats("input").count + layout.totalCount)
    let store = try ParameterStore(layout: layout, backend: backend)
    try store.load(f.parameters())
    let ctx = Context(parameters: store, training: true)
    var worst = 0.0
    func compare(_ got: [Float], _ key: String, scale: Double? = nil) throws {
        let e = elementwiseError(got, try f.floats(key), rtol: tolerance, reduction: n, scale: scale)
        #expect(e.passed, "\(fixture) on \(backend.name) \(key): \(e)")
        worst = max(worst, e.ratio)
    }
    let y = try layer.forward(f.tensor("input", on: backend), ctx)
    #expect(y.shape == (try f.shape("output")), "\(fixture) output shape")
    try compare(try y.toArray(), "output")
    for (key, get) in extra {
        let t = try #require(get(layer))
        try compare(try t.toArray(), key)
    }
    try store.zeroGradients()
    let dx = try layer.backward(f.tensor("dout", on: backend), ctx)
    try compare(try dx.toArray(), "dinput")
    let gradientScale = try layout.names.map { try f.floats("grad." + $0).reduce(0.0) { max($0, abs(Double($1))) } }
        .max() ?? 0
    for name in layout.names {
        try compare(try store.gradient(named: name).toArray(), "grad." + name,
                    scale: exactZeros.contains(name) ? gradientScale : nil)
    }
    print("parity \(fixture) on \(backend.name): worst element at \(String(format: "%.2f", worst)) of its tolerance")
    return worst
}

/// Finite-difference gradient check of a layer in fp32: loss = sum(output * w) with fixed random w, evaluated in
/// Double on the host; central differences with step `h` on `samples` coordinates of the input and of every
/// parameter. Dropout streams are reset before every forward so the mask is the same in each evaluation.
@discardableResult
func checkGradients(_ label: String, inputShape: [Int], seed: UInt64 = 3, h: Float = 1e-2, samples: Int = 12,
                    tolerance: Double = 2e-2, build: (inout ParameterLayout) throws -> any Layer) throws -> Double {
    var layout = ParameterLayout()
    let layer = try build(&layout)
    let store = try ParameterStore(layout: layout, backend: .cpu, seed: seed)
    let ctx = Context(parameters: store, training: true, dropoutSeed: 99)
    var rng = SeededGenerator(seed: seed + 1)
    let n = inputShape.reduce(1, *)
    var xv = (0 ..< n).map { _ in rng.uniform(-1, 1) }
    let x = try Tensor(xv, shape: inputShape, on: .cpu)

    ctx.resetDropout(seed: 99)
    let y0 = try layer.forward(x, ctx)
    let w = (0 ..< y0.count).map { _ in rng.uniform(-1, 1) }
    func loss() throws -> Double {
        ctx.resetDropout(seed: 99)
        let y = try layer.forward(x, ctx).toArray()
        return zip(y, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    ctx.resetDropout(seed: 99)
    _ = try layer.forward(x, ctx)
    try store.zeroGradients()
    let dx = try layer.backward(Tensor(w, shape: y0.shape, on: .cpu), ctx).toArray()
    let grads = try store.gradients!.toArray()

    var worst = 0.0
    func compare(_ analytic: Double, _ numeric: Double, _ what: String) {
        let err = abs(analytic - numeric) / max(abs(analytic), abs(numeric), 1e-1)
        worst = max(worst, err)
        #expect(err <= tolerance, "\(label) \(what): analytic \(analytic) numeric \(numeric) (seed \(seed))")
    }
    for _ in 0 ..< samples {
        let i = Int(rng.next() % UInt64(n))
        let keep = xv[i]
        xv[i] = keep + h; try x.copy(from: xv); let up = try loss()
        xv[i] = keep - h; try x.copy(from: xv); let down = try loss()
        xv[i] = keep; try x.copy(from: xv)
        compare(Double(dx[i]), (up - down) / (2 * Double(h)), "input[\(i)]")
    }
    var values = try store.values.toArray()
    for spec in layout.specs {
        for _ in 0 ..< min(samples, spec.count) {
            let i = spec.offset + Int(rng.next() % UInt64(spec.count))
            let keep = values[i]
            values[i] = keep + h; try store.values.copy(from: values); let up = try loss()
            values[i] = keep - h; try store.values.copy(from: values); let down = try loss()
            values[i] = keep; try store.values.copy(from: values)
            compare(Double(grads[i]), (up - down) / (2 * Double(h)), "\(spec.name)[\(i - spec.offset)]")
        }
    }
    print("finite differences \(label): max relative error \(String(format: "%.2e", worst))")
    return worst
}
