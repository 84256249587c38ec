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

/// max |a - b| / max(max |b|, 1e-3): infinity-norm relative error. The floor keeps gradients that are zero in
/// exact arithmetic (the key bias of attention: softmax ignores a per-row constant) from dividing rounding noise
/// by ~1e-17.
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "count \(a.count) vs \(b.count)")
    var diff = 0.0, scale = 0.0
    for i in a.indices {
        diff = max(diff, abs(Double(a[i]) - Double(b[i])))
        scale = max(scale, abs(Double(b[i])))
    }
    return diff / max(scale, 1e-3)
}

/// Runs a layer against its PyTorch fixture: forward output, input gradient and every parameter gradient.
/// Returns the largest relative error seen (and records a failure above `tolerance`).
@discardableResult
func checkParity(_ fixture: String, tolerance: Double = 1e-4, extra: [String: (any Layer) -> Tensor?] = [:],
                 build: (inout ParameterLayout) throws -> any Layer) throws -> Double {
    var worst = 0.0
    for backend in testBackends() {
        worst = max(worst, try checkParity(fixture, on: backend, tolerance: tolerance, extra: extra, build: build))
    }
    return worst
}

/// The CPU backend, plus the CUDA backend when its library loads here (a GPU machine with `make cuda` built or
/// AITRADER_CUDA_LIB set), so the same parity tests cover both.
func testBackends() -> [Backend] {
    if case .success(let cuda) = Devices.cuda() { return [.cpu, cuda] }
    return [.cpu]
}

func checkParity(_ fixture: String, on backend: Backend, tolerance: Double, extra: [String: (any Layer) -> Tensor?],
                 build: (inout ParameterLayout) throws -> any Layer) throws -> Double {
    let f = try LayerFixture(fixture)
    var layout = ParameterLayout()
    let layer = try build(&layout)
    let store = try ParameterStore(layout: layout, backend: backend)
    try store.load(f.parameters())
    let ctx = Context(parameters: store, training: true)
    let y = try layer.forward(f.tensor("input", on: backend), ctx)
    #expect(y.shape == (try f.shape("output")), "\(fixture) output shape")
    var worst = relativeError(try y.toArray(), try f.floats("output"))
    #expect(worst <= tolerance, "\(fixture) output error \(worst)")
    for (key, get) in extra {
        let t = try #require(get(layer))
        let e = relativeError(try t.toArray(), try f.floats(key))
        #expect(e <= tolerance, "\(fixture) \(key) error \(e)")
        worst = max(worst, e)
    }
    try store.zeroGradients()
    let dx = try layer.backward(f.tensor("dout", on: backend), ctx)
    let ex = relativeError(try dx.toArray(), try f.floats("dinput"))
    #expect(ex <= tolerance, "\(fixture) input gradient error \(ex)")
    worst = max(worst, ex)
    for name in layout.names {
        let e = relativeError(try store.gradient(named: name).toArray(), try f.floats("grad." + name))
        #expect(e <= tolerance, "\(fixture) gradient of \(name) error \(e)")
        worst = max(worst, e)
    }
    print("parity \(fixture) on \(backend.name): max relative error \(String(format: "%.2e", worst))")
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
        #expect(err <= tolerance, "\(label) \(what): analytic \(analytic) numeric \(numeric)")
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
