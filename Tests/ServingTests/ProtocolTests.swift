import Common
import Foundation
import Models
import Testing
@testable import Serving

/// The Open Inference Protocol routes against a served repository of small checkpoints: health, metadata, JSON and
/// binary inference compared with the in-process forward, and every refusal (malformed JSON, wrong shapes,
/// datatypes and feature counts, oversized bodies, unknown models and outputs, auth).
@Suite("Serving protocol", .serialized)
struct ProtocolTests {
    static let fixture = Result { try ServingFixture() }

    func serve(token: String? = nil, maxBodyBytes: Int = 1 << 20) throws -> (InferenceService, TestHTTPClient) {
        try Self.fixture.get().serve(token: token, maxBodyBytes: maxBodyBytes)
    }

    @Test("health, server metadata, model metadata, config, readiness and the repository index")
    func metadata() throws {
        let (service, client) = try serve()
        defer { service.shutdown() }
        #expect(try client.get("/v2/health/live").status == 200)
        #expect(try client.get("/v2/health/ready").status == 200)
        let server = try #require(try client.get("/v2").json as? [String: Any])
        #expect(server["name"] as? String == "aitrader")
        #expect((server["extensions"] as? [String])?.contains("binary_tensor_data") == true)

        let meta = try #require(try client.get("/v2/models/short_term").json as? [String: Any])
        #expect(meta["versions"] as? [String] == ["1"])
        let inputs = try #require(meta["inputs"] as? [[String: Any]])
        #expect(inputs.count == 1 && inputs[0]["name"] as? String == "x" && inputs[0]["datatype"] as? String == "FP32")
        #expect((inputs[0]["shape"] as? [Int]) == [-1, 24, 5])
        let outputs = try #require(meta["outputs"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(outputs == ["alpha", "beta", "p_up", "p_up_raw", "confidence", "direction"])
        let long = try #require(try client.get("/v2/models/long_term/versions/1").json as? [String: Any])
        #expect((long["inputs"] as? [[String: Any]])?.map { $0["name"] as? String } == ["x", "close"])
        let ensemble = try #require(try client.get("/v2/models/ensemble").json as? [String: Any])
        #expect((ensemble["inputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            == ["short_term_x", "medium_term_x", "long_term_x", "long_term_close", "adx", "volatility_percentile"])
        // One value per row is declared as Triton declares it (perf_analyzer sizes its requests from this): metadata
        // [-1, 1]; in the configuration dims [1] reshaped to [] (a Triton configuration never has empty dims).
        #expect((ensemble["inputs"] as? [[String: Any]])?.last?["shape"] as? [Int] == [-1, 1])
        #expect((ensemble["outputs"] as? [[String: Any]])?.first?["shape"] as? [Int] == [-1])
        let ensembleConfig = try #require(try client.get("/v2/models/ensemble/config").json as? [String: Any])
        let adx = try #require((ensembleConfig["input"] as? [[String: Any]])?.first { $0["name"] as? String == "adx" })
        #expect(adx["dims"] as? [Int] == [1] && (adx["reshape"] as? [String: Any])?["shape"] as? [Int] == [])
        #expect(adx["optional"] as? Bool == true)
        let config = try #require(try client.get("/v2/models/medium_term/config").json as? [String: Any])
        #expect(config["max_batch_size"] as? Int == 64)
        #expect((config["dynamic_batching"] as? [String: Any])?["max_queue_delay_microseconds"] as? Int == 200)

        #expect(try client.get("/v2/models/ensemble/ready").status == 200)
        #expect(try client.get("/v2/models/nope/ready").status == 404)
        #expect(try client.get("/v2/models/short_term/versions/2").status == 404)
        let index = try #require(try client.post("/v2/repository/index", json: "{}").json as? [[String: Any]])
        #expect(index.map { $0["name"] as? String } == ["short_term", "medium_term", "long_term", "ensemble"])
        #expect(index.allSatisfy { $0["state"] as? String == "READY" })
    }

    @Test("JSON and binary inference equal the in-process forward of each row", arguments: ModelType.allCases)
    func inferEqualsForward(model: ModelType) throws {
        let fixture = try Self.fixture.get()
        let (service, client) = try serve()
        defer { service.shutdown() }
        let rows = 3
        let (x, close, l) = try ServingFixture.inputs(model, rows: rows, seed: 7)
        var inputs: [(name: String, shape: [Int], values: [Float])] = [("x", [rows, l, 5], x)]
        if let close { inputs.append(("close", [rows, l], close)) }
        let reference = try fixture.reference(model, x: x, close: close, rows: rows)

        let json = try client.post("/v2/models/\(model.rawValue)/infer", json: InferBody.json(inputs, id: "r1"))
        #expect(json.status == 200, "\(json.text)")
        #expect((json.json as? [String: Any])?["id"] as? String == "r1")
        let (body, headerLength) = InferBody.binary(inputs, outputs: ["alpha", "beta", "p_up", "confidence", "direction"])
        let binary = try client.request("POST", "/v2/models/\(model.rawValue)/versions/1/infer",
                                        headers: ["Inference-Header-Content-Length": String(headerLength)], body: body)
        #expect(binary.status == 200, "\(binary.text)")
        #expect(binary.header("inference-header-content-length") != nil)
        for response in [json, binary] {
            let out = InferBody.outputs(response)
            for name in ["alpha", "beta", "p_up", "confidence", "direction"] {
                let got = try #require(out[name], "\(name) missing")
                #expect(got.shape == [rows])
                // Same rows in one pass vs one row per pass: equal up to float32 reordering (README: batching).
                for (a, b) in zip(got.values, reference[name]!) { #expect(abs(a - b) <= 6.1e-5 * max(1, abs(b)), "\(name)") }
            }
        }
        if model == .longTerm { #expect(InferBody.outputs(json)["forecast"]?.shape == [rows, 4]) }
    }

    @Test("the ensemble combines the three models' rows")
    func ensemble() throws {
        let (service, client) = try serve()
        defer { service.shutdown() }
        var inputs: [(name: String, shape: [Int], values: [Float])] = []
        for model in ModelType.allCases {
            let (x, close, l) = try ServingFixture.inputs(model, rows: 2, seed: 3)
            inputs.append(("\(model.rawValue)_x", [2, l, 5], x))
            if let close { inputs.append(("\(model.rawValue)_close", [2, l], close)) }
        }
        let plain = try client.post("/v2/models/ensemble/infer", json: InferBody.json(inputs))
        #expect(plain.status == 200, "\(plain.text)")
        let out = InferBody.outputs(plain)
        #expect(out["p_up"]?.shape == [2] && out["model_weight"]?.shape == [2, 3])
        for r in 0..<2 {
            let weights = out["model_weight"]!.values[(r * 3)..<(r * 3 + 3)]
            #expect(abs(weights.reduce(0, +) - 1) < 1e-5)
            let p = out["p_up"]!.values[r]
            #expect(p > 0 && p < 1)
        }
        inputs.append(("adx", [2], [40, 10]))
        inputs.append(("volatility_percentile", [2], [0.99, 0.2]))
        let withConditions = try client.post("/v2/models/ensemble/infer", json: InferBody.json(inputs))
        #expect(withConditions.status == 200, "\(withConditions.text)")
        let threshold = InferBody.outputs(withConditions)["confidence_threshold"]!.values
        #expect(threshold[0] > threshold[1])   // high volatility raises the threshold
        // The metadata's shape [-1, 1] for one value per row gives the same answer as [-1].
        inputs.removeLast(2)
        inputs.append(("adx", [2, 1], [40, 10]))
        inputs.append(("volatility_percentile", [2, 1], [0.99, 0.2]))
        let columns = try client.post("/v2/models/ensemble/infer", json: InferBody.json(inputs))
        #expect(columns.status == 200, "\(columns.text)")
        #expect(InferBody.outputs(columns)["confidence_threshold"]?.values == threshold)
        #expect(InferBody.outputs(columns)["p_up"]?.values == InferBody.outputs(withConditions)["p_up"]?.values)
        inputs.removeLast()
        inputs.append(("volatility_percentile", [1, 2], [0.99, 0.2]))
        let wrong = try client.post("/v2/models/ensemble/infer", json: InferBody.json(inputs))
        #expect(wrong.status == 400 && wrong.text.contains("input 'volatility_percentile': shape [1, 2]; ensemble expects [-1, 1] or [-1]"),
                "\(wrong.text)")
    }

    @Test("malformed and mismatched requests are 400 naming the input and what was expected")
    func badRequests() throws {
        let (service, client) = try serve()
        defer { service.shutdown() }
        let (x, _, _) = try ServingFixture.inputs(.shortTerm, rows: 1, seed: 1)
        let path = "/v2/models/short_term/infer"
        let cases: [(String, String)] = [
            ("{\"inputs\": [", "not valid JSON"),
            ("[1, 2]", "must be a JSON object"),
            ("{}", "no 'inputs'"),
            (InferBody.json([("x", [1, 24, 4], Array(x.prefix(96)))]), "input 'x': shape [1, 24, 4]; short_term expects [-1, 24, 5]"),
            (InferBody.json([("x", [1, 20, 5], Array(x.prefix(100)))]), "expects [-1, 24, 5]"),
            (InferBody.json([("x", [24, 5], Array(x.prefix(120)))]), "input 'x': shape [24, 5]"),
            (InferBody.json([("x", [1, 24, 5], x)], datatype: "FP64"), "input 'x': datatype FP64; short_term expects FP32"),
            (InferBody.json([("x", [1, 24, 5], Array(x.prefix(119)))]), "'data' holds 119 values, shape [1, 24, 5] needs 120"),
            (InferBody.json([("y", [1, 24, 5], x)]), "short_term has no input 'y' (its inputs: x)"),
            (InferBody.json([("x", [1, 24, 5], x)], outputs: ["attention"]), "short_term has no output 'attention'"),
            (InferBody.json([("x", [65, 24, 5], [Float](repeating: 0, count: 65 * 120))]), "at most 64 per request"),
            (#"{"inputs":[{"name":"x","datatype":"FP32","shape":[1,24,5],"data":["a"]}]}"#, "must hold numbers"),
            (#"{"inputs":[{"name":"x","datatype":"FP32","shape":[1,-24,5],"data":[]}]}"#, "whole numbers >= 0"),
            (#"{"inputs":[{"name":"x","datatype":"FP32","shape":[1,24,5],"data":[true]}]}"#, "must hold numbers"),
        ]
        for (body, expected) in cases {
            let response = try client.post(path, json: body)
            #expect(response.status == 400, "\(body.prefix(80))")
            #expect(response.errorMessage.contains(expected), "\(response.errorMessage) should say \(expected)")
        }
        let close = try client.post("/v2/models/long_term/infer", json: InferBody.json([("x", [1, 8, 5], Array(x.prefix(40)))]))
        #expect(close.status == 400 && close.errorMessage.contains("input 'close' is missing"))
        // A NaN sent in binary (JSON cannot carry one).
        var nan = x
        nan[7] = .nan
        let (body, length) = InferBody.binary([("x", [1, 24, 5], nan)], outputs: ["p_up"])
        let binary = try client.request("POST", path, headers: ["Inference-Header-Content-Length": String(length)], body: body)
        #expect(binary.status == 400 && binary.errorMessage.contains("element 7"))
        let lying = try client.request("POST", path, headers: ["Inference-Header-Content-Length": String(length)], body: Array(body.dropLast(4)))
        #expect(lying.status == 400 && lying.errorMessage.contains("binary_data_size"))
        let badLength = try client.request("POST", path, headers: ["Inference-Header-Content-Length": "99999999"], body: body)
        #expect(badLength.status == 400 && badLength.errorMessage.contains("Inference-Header-Content-Length"))
    }

    @Test("unknown models and paths are 404, wrong methods 405, oversized bodies 413")
    func refusals() throws {
        let (service, client) = try serve(maxBodyBytes: 4096)
        defer { service.shutdown() }
        let unknown = try client.post("/v2/models/gpt/infer", json: "{}")
        #expect(unknown.status == 404 && unknown.errorMessage.contains("unknown model 'gpt'"))
        #expect(try client.get("/v2/models/gpt").status == 404)
        #expect(try client.get("/v3/anything").status == 404)
        #expect(try client.get("/v2/models/short_term/infer").status == 405)
        #expect(try client.post("/v2/repository/models/gpt/load", json: "").status == 404)
        let big = try client.post("/v2/models/short_term/infer", json: String(repeating: " ", count: 10_000))
        #expect(big.status == 413 && big.errorMessage.contains("4096"))
        // The server still answers afterwards.
        #expect(try client.get("/v2/health/live").status == 200)
    }

    @Test("a bearer token guards everything but the health probes")
    func bearerToken() throws {
        let (service, client) = try serve(token: "s3cret")
        defer { service.shutdown() }
        #expect(try client.get("/v2/health/live").status == 200)
        let refused = try client.get("/v2/models/short_term")
        #expect(refused.status == 401 && refused.header("www-authenticate") == "Bearer")
        #expect(try client.get("/v2/models/short_term", headers: ["Authorization": "Bearer wrong"]).status == 401)
        #expect(try client.get("/v2/models/short_term", headers: ["Authorization": "Bearer s3cret"]).status == 200)
        #expect(try client.get("/metrics").status == 401)
    }

    @Test("/metrics counts requests by model and status, latency, batch sizes and the device")
    func metrics() throws {
        let (service, client) = try serve()
        defer { service.shutdown() }
        let (x, _, _) = try ServingFixture.inputs(.mediumTerm, rows: 2, seed: 2)
        #expect(try client.post("/v2/models/medium_term/infer", json: InferBody.json([("x", [2, 12, 5], x)])).status == 200)
        #expect(try client.post("/v2/models/medium_term/infer", json: "{").status == 400)
        let response = try client.get("/metrics")
        #expect(response.status == 200 && response.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = response.text
        #expect(text.contains(#"aitrader_inference_requests_total{model="medium_term",status="200"} 1"#))
        #expect(text.contains(#"aitrader_inference_requests_total{model="medium_term",status="400"} 1"#))
        #expect(text.contains(#"aitrader_inference_batch_size_bucket{model="medium_term",le="2"} 1"#))
        #expect(text.contains(#"aitrader_inference_request_duration_seconds_count{model="medium_term"} 2"#))
        #expect(text.contains(#"aitrader_inference_in_flight{model="medium_term"} 0"#))
        #expect(text.contains(#"aitrader_server_info{version=""#) && text.contains(#"device="cpu""#))
        #expect(text.contains(#"aitrader_model_ready{model="ensemble"} 1"#))
    }
}
