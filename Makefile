# AITrader — `make demo` and `make test` are all a fresh Debian machine needs (see README.md).
SHELL := /bin/bash
SWIFT ?= swift
SWIFT_FLAGS ?=
APT_PACKAGES := libopenblas-dev libsqlite3-dev libzstd-dev libyaml-dev
# Python reference tools for live interop tests (pyarrow, ta-lib); optional, installed in a venv by `make pydeps`.
VENV ?= .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps pydeps build release test test-c bench demo clean

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

## pydeps: a virtual environment with the cheap wheels the live interop tests use (no PyTorch).
pydeps:
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import pyarrow, talib" 2>/dev/null || $(VENV)/bin/pip install -q pyarrow ta-lib numpy pandas

build: deps
	$(SWIFT) build $(SWIFT_FLAGS)

release: deps
	$(SWIFT) build -c release $(SWIFT_FLAGS)

## test-c: the C backend's own tests (no Swift needed).
test-c: deps
	$(MAKE) -C CKernels/tests cpu

test: deps test-c
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	AITRADER_PYTHON=$(abspath $(VENV))/bin/python $(SWIFT) test --skip-build $(SWIFT_FLAGS)

bench: release
	@for s in kernels models data indicators backtest; do .build/release/aitrader bench --suite $$s --json; done

## demo: the main job end to end on the bundled sample data.
demo: release
	./scripts/demo.sh

clean:
	rm -rf .build
