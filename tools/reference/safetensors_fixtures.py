#!/usr/bin/env python3
"""Safetensors fixtures for Tests/EngineTests (reader/writer of Sources/Engine/Safetensors).

Written by the reference `safetensors` package (huggingface, the format's own implementation), so the Swift
reader is checked against the files PyTorch users produce, and the Swift writer against its byte layout.

    .venv/bin/python tools/reference/safetensors_fixtures.py Tests/EngineTests/Fixtures/safetensors

Files:
  dtypes.safetensors   one tensor per dtype the engine reads, values from simple formulas the test recomputes:
                       f32 (2,3) = arange(6) * 0.5 - 1; f64 (3,) = [1/3, -2.5, 1e-40]; f16 (4,) = [1, -0.5, 65504, 6e-8];
                       bf16 (2,2) = [1, -2, 3.140625, 1e30 rounded]; i64 (3,) = [-5, 0, 2**40]; i32 (2,) = [7, -9];
                       scalar f32 () = 42; metadata {"model_type": "fixture"} (one key: byte-identical rewrite).
  torch_state.safetensors  a tiny torch state dict (nn.LSTM + nn.Linear) through safetensors.torch.save_file,
                       with several metadata keys (Python writes them in random order: parsed, not byte-compared).
  empty.safetensors    no tensors, no metadata.
"""
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch


def main(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    tensors = {
        "f32": (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3),
        "f64": np.array([1 / 3, -2.5, 1e-40], dtype=np.float64),
        "f16": np.array([1, -0.5, 65504, 6e-8], dtype=np.float16),
        "i64": np.array([-5, 0, 2**40], dtype=np.int64),
        "i32": np.array([7, -9], dtype=np.int32),
        "scalar": np.array(42, dtype=np.float32),
    }
    save_numpy(tensors, os.path.join(out_dir, "dtypes_numpy.safetensors"), metadata={"model_type": "fixture"})
    # bf16 has no numpy dtype: add it through torch and write everything with the torch writer.
    torch_tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items() if k != "scalar"}
    torch_tensors["scalar"] = torch.tensor(42.0)  # shape (): np.ascontiguousarray would make it (1,)
    torch_tensors["bf16"] = torch.tensor([1.0, -2.0, 3.140625, 1e30], dtype=torch.bfloat16).reshape(2, 2)
    save_torch(torch_tensors, os.path.join(out_dir, "dtypes.safetensors"), metadata={"model_type": "fixture"})
    os.remove(os.path.join(out_dir, "dtypes_numpy.safetensors"))

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 2, batch_first=True)
    head = torch.nn.Linear(2, 1)
    state = {f"lstm.{k}": v.detach().contiguous() for k, v in lstm.state_dict().items()}
    state.update({f"head.{k}": v.detach().contiguous() for k, v in head.state_dict().items()})
    save_torch(state, os.path.join(out_dir, "torch_state.safetensors"),
               metadata={"model_type": "tiny", "run_id": "run-0001", "config": '{"hidden": 2, "input": 3}',
                         "note": 'quotes " and \\ and newline\n and unicode \u00e9\u4e2d'})
    # Expected values for the torch state, as plain float32 text the Swift test parses.
    with open(os.path.join(out_dir, "torch_state_values.txt"), "w") as f:
        for k in sorted(state):
            v = state[k].numpy().astype(np.float32).ravel()
            f.write(k + " " + " ".join(repr(float(x)) for x in v) + "\n")

    save_torch({}, os.path.join(out_dir, "empty.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Tests/EngineTests/Fixtures/safetensors")
