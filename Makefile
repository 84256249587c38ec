# AITrader — `make demo` and `make test` are all a fresh Debian machine needs (see README.md).
SHELL := /bin/bash
SWIFT ?= swift
SWIFT_FLAGS ?=
APT_PACKAGES := libopenblas-dev libsqlite3-dev libzstd-dev libyaml-dev libmicrohttpd-dev libwebsockets-dev
# The reference Python (tools/reference/requirements*.txt) in the project's venv; tests and benchmarks find it
# through AITRADER_PYTHON, else $(VENV)/bin/python (Common/ReferencePython.swift).
VENV ?= .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps pydeps reference-venv build release test test-asan test-c test-fakes soak-paper test-mlflow test-serving bench-serving coverage bench demo clean cuda-toolchain cuda cuda-check cuda-bench cuda-ci

# CUDA backend (optional; nothing else needs it). nvcc from PATH, /usr/local/cuda, or PyPI wheels in $(CUDA_VENV).
CUDA_VENV ?= .venv-cuda
CUDA_WHEELS := "nvidia-cuda-nvcc==13.*" "nvidia-cuda-crt==13.*" "nvidia-cuda-runtime==13.*" "nvidia-cuda-cccl==13.*" \
               "nvidia-nvvm==13.*" "nvidia-cublas==13.*"
CUDA_LIB := $(abspath build/cuda/libaitrader_cuda.so)

all: build

## deps: install the system C libraries the package links against (apt-get), if any is missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then \
	    echo "Missing system packages:$$missing. Run as root: apt-get update && apt-get install -y$$missing"; exit 1; fi; \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## pydeps: the project's .venv with the pinned reference libraries the live interop tests compare against
## (tools/reference/requirements-ci.txt: pyarrow, TA-Lib, pandas, backtesting.py; no PyTorch). Fails when they
## cannot be installed: CI must not lose its references silently.
pydeps:
	@python3 -c "import ensurepip, venv" 2>/dev/null || { echo "Installing: python3-venv"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv; }
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check -r tools/reference/requirements-ci.txt
	@$(VENV)/bin/python -c "import pyarrow, talib, pandas, backtesting; print('reference python:', '$(VENV)/bin/python', \
	  'pyarrow', pyarrow.__version__, 'ta-lib', talib.__version__, 'pandas', pandas.__version__, \
	  'backtesting', backtesting.__version__)"

## reference-venv: the full reference environment in .venv (requirements.txt: + PyTorch, scikit-learn, empyrical,
## Optuna) for regenerating fixtures (tools/reference/*_fixtures.py) and the reference benchmarks.
reference-venv: pydeps
	@$(VENV)/bin/pip install -q --disable-pip-version-check -r tools/reference/requirements.txt

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

release: deps
	$(SWIFT) build -c release $(SWIFT_FLAGS)

## test-c: the C backend's own tests (no Swift needed): CPU ops, and the backend loader on fake libraries
## (plus the real CUDA library when built: without a GPU it must load and report why).
test-c: deps
	$(MAKE) -C CKernels/tests cpu portable coretypes loader

## cuda-toolchain: nvcc + CUDA runtime + cuBLAS headers from PyPI wheels (about 1 GB, 20 s) in $(CUDA_VENV).
cuda-toolchain:
	@[ -x $(CUDA_VENV)/bin/python ] || python3 -m venv $(CUDA_VENV)
	@ls $(CUDA_VENV)/lib/python3*/site-packages/nvidia/cu13/bin/nvcc >/dev/null 2>&1 || \
	  $(CUDA_VENV)/bin/pip install -q $(CUDA_WHEELS)

## cuda: build/cuda/libaitrader_cuda.so (sm_80, sm_90, compute_90 PTX; static cudart; cuBLAS loaded at run time).
cuda:
	$(MAKE) -j$$(nproc) -C CKernels/cuda CUDA_VENV=$(abspath $(CUDA_VENV))

## cuda-check: CPU vs CUDA parity of every op (needs a GPU; exit 2 = backend unavailable, with the reason).
cuda-check: cuda
	$(MAKE) -C CKernels/tests parity
	cd CKernels/tests && ./parity $(CUDA_LIB)

## cuda-bench: the kernels suite timed on both backends, one JSON document per backend.
cuda-bench: cuda
	$(MAKE) -C CKernels/tests cuda_bench
	cd CKernels/tests && ./cuda_bench $(CUDA_LIB)

## cuda-ci: what CI runs without a GPU: install the wheels, build the library, and check the fallback path.
## parity exits 2 only for "the library is fine, this machine has no GPU"; a library that does not load, is not a
## backend or has another ABI exits 1 and fails (checked on the stand-ins first).
cuda-ci: deps cuda-toolchain cuda
	$(MAKE) -C CKernels/tests loader parity
	cd CKernels/tests && { ./parity ./libfake_badabi.so; [ $$? = 1 ]; } && { ./parity ./libfake_nodevice.so; [ $$? = 2 ]; }
	cd CKernels/tests && { ./parity $(CUDA_LIB); rc=$$?; [ $$rc = 2 ] || [ $$rc = 0 ]; }

test: deps test-c
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_FLAGS)

## test-asan: the Swift suite built with AddressSanitizer in .build-asan (C modules included; about 2.5 min to build
## and 8 to run on 2 cores). Not part of `make test`: run it after touching unsafe pointers, C shims or child processes
## (it found CI's one-off SIGSEGV: descriptors leaked by the tests, read past by Foundation's Process.run).
test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan $(SWIFT_FLAGS)
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --scratch-path .build-asan $(SWIFT_FLAGS)

## test-fakes: the fake Alpaca broker's own tests (integrations/alpaca/testing; Python standard library only, about
## 20 s). Not part of `make test`.
test-fakes:
	python3 -m unittest discover -s integrations/alpaca/testing -p 'test_*.py'

## soak-paper: 30 trading days of hourly EURUSD bars through `aitrader deploy --mode paper --broker alpaca` against the
## fake Alpaca broker at an accelerated clock, with seeded random transport faults (429 storms, 5xx, orders accepted
## but never answered, stream drops and silences, partial fills) and kill -9 of the robot at seeded moments; fails
## unless journal = broker = positions with 0 lost and 0 duplicated orders and no secret in the session or its log.
## The report (orders, fills, faults, memory and file descriptors over time) goes to results/soak_paper.json.
soak-paper: build
	@mkdir -p results
	python3 tools/soak/paper_soak.py --aitrader "$$($(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)/aitrader" \
	  --days 30 --kills 8 --seed 1 --out results/soak_paper.json

## test-mlflow: the MLflow tracker against a real `mlflow server` on 127.0.0.1 (mlflow==3.18.0 in .venv-mlflow, about
## 5 minutes to install the first time; skipped with a clear message when pip cannot install it; a server that does
## not start or a failing test is a failure). scripts/test-mlflow.sh.
test-mlflow: deps
	SWIFT="$(SWIFT)" SWIFT_FLAGS="$(SWIFT_FLAGS)" scripts/test-mlflow.sh

## test-serving: `aitrader serve` checked with Triton's own tools: tritonclient[http]==2.73.0 (pip, in .venv-serving) calls
## every endpoint, JSON and binary, and compares outputs with `aitrader model forward`; perf_analyzer smoke runs (Triton's
## binary from tritonclient 2.40.0's wheel, scripts/install-perf-analyzer.sh). Each part is skipped with a clear message
## when it cannot be installed here. scripts/test-serving.sh.
test-serving: deps
	SWIFT="$(SWIFT)" SWIFT_FLAGS="$(SWIFT_FLAGS)" scripts/test-serving.sh

## bench-serving: the serve benchmark suite (JSON) plus perf_analyzer concurrency sweeps (1, 4, 16, 64; batching on and
## off; scripts/install-perf-analyzer.sh); CSVs in results/perf_serving. scripts/perf-serving.sh.
bench-serving: release
	scripts/perf-serving.sh

## coverage: line coverage per module, Swift suite (llvm-cov, build in .build-coverage) and C tests (gcov); fails when a
## module is below its threshold (COVERAGE_MIN=90 for Sources/ modules, COVERAGE_CLI_MIN=80 for the aitrader CLI,
## COVERAGE_C_MIN=90 for CKernels/). scripts/coverage.py.
coverage: deps
	SWIFT="$(SWIFT)" SWIFT_FLAGS="$(SWIFT_FLAGS)" VENV="$(VENV)" python3 scripts/coverage.py

bench: release
	@for s in kernels models training data indicators backtest serve; do .build/release/aitrader bench --suite $$s --json; done

## demo: the main job end to end on the bundled sample data.
demo: release
	./scripts/demo.sh

clean:
	rm -rf .build .build-coverage build/cuda
