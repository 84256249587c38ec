#!/usr/bin/env python3
"""Checks a running `aitrader serve` with NVIDIA's own client, tritonclient[http]: every endpoint, JSON and binary
tensors, the repository extension, the error answers, and every horizon model's outputs against
`aitrader model forward` on the same inputs (make test-serving; scripts/test-serving.sh starts the server).

    python tools/serving/tritonclient_check.py --url 127.0.0.1:8000 --aitrader .build/debug/aitrader \
        --inputs Tests/ModelsTests/Fixtures --work "$(mktemp -d)"

Inputs: <inputs>/<model>_small_io.safetensors (x, and close for long_term), the windows the PyTorch reference
fixtures were computed on. Exit status 0 when every check passes, 1 with the failed checks listed.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

MODELS = ["short_term", "medium_term", "long_term"]
failures = []
passed = 0


def check(condition, what):
    global passed
    if condition:
        passed += 1
    else:
        failures.append(what)
        print(f"FAILED: {what}", file=sys.stderr)


def read_safetensors(path):
    """{name: float32 array} of a safetensors file (F32/F64 tensors), without the safetensors package."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        start, end = t["data_offsets"]
        dtype = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}[t["dtype"]]
        out[name] = np.frombuffer(data[8 + n + start:8 + n + end], dtype=dtype).reshape(t["shape"]).astype(np.float32)
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def infer(client, model, arrays, binary_in, binary_out, outputs):
    inputs = []
    for name, array in arrays.items():
        i = httpclient.InferInput(name, list(array.shape), "FP32")
        i.set_data_from_numpy(array.astype(np.float32), binary_data=binary_in)
        inputs.append(i)
    requested = [httpclient.InferRequestedOutput(o, binary_data=binary_out) for o in outputs]
    return client.infer(model, inputs, outputs=requested, request_id="check-1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--aitrader", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    client = httpclient.InferenceServerClient(url=args.url)

    check(client.is_server_live(), "server live")
    check(client.is_server_ready(), "server ready")
    meta = client.get_server_metadata()
    check(meta["name"] == "aitrader" and "binary_tensor_data" in meta["extensions"], f"server metadata {meta}")
    index = client.get_model_repository_index()
    check(sorted(m["name"] for m in index) == sorted(MODELS + ["ensemble"]) and all(m["state"] == "READY" for m in index),
          f"repository index {index}")

    per_model_alpha = {}
    windows = {}
    for model in MODELS:
        check(client.is_model_ready(model), f"{model} ready")
        m = client.get_model_metadata(model)
        config = client.get_model_config(model)
        check(m["inputs"][0]["name"] == "x" and m["inputs"][0]["shape"][0] == -1, f"{model} metadata {m}")
        io = read_safetensors(os.path.join(args.inputs, f"{model}_small_io.safetensors"))
        arrays = {"x": io["x"]}
        if model == "long_term":
            arrays["close"] = io["close"]
        windows[model] = arrays
        rows = io["x"].shape[0]
        check(io["x"].shape[1:] == tuple(m["inputs"][0]["shape"][1:]), f"{model}: fixture shape {io['x'].shape} vs {m['inputs'][0]['shape']}")
        # The reference: aitrader model forward on the same windows and the checkpoint the server serves.
        checkpoint = config["parameters"]["checkpoints"]["string_value"]
        given = os.path.join(args.work, f"{model}_in.safetensors")
        reference = os.path.join(args.work, f"{model}_out.safetensors")
        write_safetensors(given, arrays)
        subprocess.run([args.aitrader, "model", "forward", "--checkpoint", checkpoint, "--input", given, "--output", reference,
                        "--device", "cpu", "--quiet"], check=True, stdout=subprocess.DEVNULL)
        expected = read_safetensors(reference)
        for binary_in in (False, True):
            for binary_out in (False, True):
                result = infer(client, model, arrays, binary_in, binary_out, ["alpha", "beta", "p_up_raw", "direction"])
                alpha, beta = result.as_numpy("alpha"), result.as_numpy("beta")
                label = f"{model} (binary in {binary_in}, out {binary_out})"
                check(alpha.shape == (rows,) and result.get_response()["id"] == "check-1", f"{label}: shape {alpha.shape}")
                # Same rows, same checkpoint: equal up to float32 reordering of one pass vs chunks (README: batching).
                check(np.allclose(alpha, expected["alpha"], rtol=6.1e-5, atol=1e-7), f"{label}: alpha {alpha} vs model forward {expected['alpha']}")
                check(np.allclose(beta, expected["beta"], rtol=6.1e-5, atol=1e-7), f"{label}: beta vs model forward")
                check(np.allclose(result.as_numpy("p_up_raw"), alpha / (alpha + beta), rtol=1e-6), f"{label}: p_up_raw")
                check(result.as_numpy("direction").dtype == np.int32, f"{label}: direction dtype")
        per_model_alpha[model] = expected["alpha"]

    # The ensemble on the same windows (rows: the smallest fixture's).
    rows = min(a["x"].shape[0] for a in windows.values())
    arrays = {f"{m}_{k}": v[:rows] for m, a in windows.items() for k, v in a.items()}
    result = infer(client, "ensemble", arrays, True, True, ["p_up", "confidence", "model_alpha", "model_weight", "agreement"])
    model_alpha = result.as_numpy("model_alpha")
    check(model_alpha.shape == (rows, 3), f"ensemble model_alpha shape {model_alpha.shape}")
    for k, m in enumerate(MODELS):
        check(np.allclose(model_alpha[:, k], per_model_alpha[m][:rows], rtol=6.1e-5), f"ensemble part {m} vs model forward")
    check(np.allclose(result.as_numpy("model_weight").sum(axis=1), 1, atol=1e-5), "ensemble weights sum to 1")
    p = result.as_numpy("p_up")
    check(((p > 0) & (p < 1)).all(), "ensemble p_up in (0, 1)")

    # Errors come back as InferenceServerException with the server's message.
    bad = windows["short_term"]["x"][:, :, :-1]
    try:
        infer(client, "short_term", {"x": bad}, False, False, ["alpha"])
        check(False, "wrong feature count accepted")
    except InferenceServerException as e:
        check("input 'x'" in e.message() and "expects" in e.message(), f"wrong feature count message: {e.message()}")
    try:
        client.get_model_metadata("no_such_model")
        check(False, "unknown model accepted")
    except InferenceServerException as e:
        check("unknown model" in e.message(), f"unknown model message: {e.message()}")

    # Repository extension: unload, then load again.
    client.unload_model("medium_term")
    check(not client.is_model_ready("medium_term"), "medium_term unloaded")
    client.load_model("medium_term")
    check(client.is_model_ready("medium_term"), "medium_term loaded again")

    from importlib.metadata import version
    print(f"tritonclient check: {passed} checks passed, {len(failures)} failed (tritonclient {version('tritonclient')})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
