#!/usr/bin/env python3
"""make demo: a few requests to a running `aitrader serve` with only Python's standard library: the server and model
metadata, one JSON infer request per model on seeded standard-normal windows (the shape of scaled features; real
windows come from the feature store), the answers, and a few lines of /metrics.

    python3 tools/serving/demo_client.py --url http://127.0.0.1:8000
"""
import argparse
import json
import random
import urllib.error
import urllib.request


def call(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    args = parser.parse_args()
    rng = random.Random(7)
    status, text = call(args.url + "/v2")
    print(f"GET /v2 -> {status} {text}")
    for model in ["short_term", "medium_term", "long_term", "ensemble"]:
        _, text = call(f"{args.url}/v2/models/{model}")
        meta = json.loads(text)
        inputs = []
        for spec in meta["inputs"]:
            if spec["name"] in ("adx", "volatility_percentile"):
                continue
            shape = [2] + spec["shape"][1:]
            count = 1
            for d in shape:
                count *= d
            close = spec["name"].endswith("close")
            data = [1 + rng.gauss(0, 0.01) if close else rng.gauss(0, 1) for _ in range(count)]
            inputs.append({"name": spec["name"], "datatype": "FP32", "shape": shape, "data": data})
            print(f"  {model}: input {spec['name']} {spec['shape']} -> sending {shape}")
        wanted = ["p_up", "confidence", "direction"] + (["agreement", "model_p_up"] if model == "ensemble" else [])
        status, text = call(f"{args.url}/v2/models/{model}/infer",
                            {"id": f"demo-{model}", "inputs": inputs, "outputs": [{"name": n} for n in wanted]})
        answer = json.loads(text)
        if status != 200:
            print(f"POST /v2/models/{model}/infer -> {status}: {answer}")
            continue
        parts = ", ".join(f"{o['name']} {[round(v, 4) if isinstance(v, float) else v for v in o['data']]}" for o in answer["outputs"])
        print(f"POST /v2/models/{model}/infer -> {status}: {parts}")
    status, text = call(f"{args.url}/v2/models/short_term/infer", {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3], "data": [0, 0, 0]}]})
    print(f"a wrong shape -> {status}: {json.loads(text)['error']}")
    _, metrics = call(args.url + "/metrics")
    print("GET /metrics (excerpt):")
    for line in metrics.splitlines():
        if line.startswith(("aitrader_inference_requests_total", "aitrader_server_info", "aitrader_inference_batch_size_count")):
            print("  " + line)


if __name__ == "__main__":
    main()
