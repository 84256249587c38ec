#!/usr/bin/env bash
# Runs ON the GPU machine (device tool), after scripts/gpu_bundle.sh prepared build/gpu_bundle here:
#   1. builds libaitrader_cuda.so with the machine's nvcc (its CUDA matches its driver; the bundle's copy otherwise)
#   2. parity: every op forward + backward, CPU vs CUDA (exact fp32, then with TF32 allowed)
#   3. the kernels bench on both backends (JSON, benchmarks.md format)
#   4. the static aitrader: `devices`, then `bench --suite kernels|models --device cuda --json` (and cpu)
# Results go to $OUT (the device tool's folder) or build/gpu_check: env.txt, build.log, parity.txt,
# parity_tf32.txt, kernels_bench.json, devices.txt, aitrader_bench.json, summary.txt.
#
#   device tool: run(command="bash scripts/gpu_check.sh", carry=["build/gpu_bundle"], timeout_s=540)
set -uo pipefail
cd "$(dirname "$0")/.."
RESULTS=${OUT:-build/gpu_check}
mkdir -p "$RESULTS"
BUNDLE=build/gpu_bundle/bundle.tar.xz   # carried; unpacked into B (not carried back or forth)
B=build/gpu_run
SUMMARY=$RESULTS/summary.txt
: > "$SUMMARY"
exec 3>&1   # the run's own output (the device tool's output_tail), whatever a step redirects
note() { echo "$*" >> "$SUMMARY"; echo "$*" >&3; }
step() { # step NAME SECONDS COMMAND... : runs with a time limit, records the exit status
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS
    timeout "$limit" "$@"
    local rc=$?
    note "$name: exit $rc ($((SECONDS - t0)) s)"
    return $rc
}

rm -rf $B && mkdir -p $B
if [ -f $BUNDLE ]; then tar -C $B -xJf $BUNDLE; else note "missing $BUNDLE: run scripts/gpu_bundle.sh first"; exit 2; fi
{ nvidia-smi; echo; command -v nvcc && nvcc --version; ls -d /usr/local/cuda* 2>/dev/null; uname -a; } > "$RESULTS/env.txt" 2>&1

# cuBLAS for the run time: the ld.so cache, a CUDA toolkit, or the Python wheels (nvidia-cublas).
cublas=$(ldconfig -p | awk '/libcublas\.so\.1[0-9] /{print $NF; exit}')
[ -n "$cublas" ] || cublas=$(ls /usr/local/cuda/lib64/libcublas.so.1[0-9] /usr/local/cuda/targets/x86_64-linux/lib/libcublas.so.1[0-9] 2>/dev/null | head -1)
[ -n "$cublas" ] || cublas=$(find /usr /opt /root -xdev -name 'libcublas.so.1[0-9]' -path '*nvidia*' 2>/dev/null | sort -r | head -1)
note "cuBLAS: ${cublas:-not found}"
export LD_LIBRARY_PATH="$PWD/$B/lib${cublas:+:$(dirname "$cublas")}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

NVCC_BIN=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
LIB=$PWD/$B/libaitrader_cuda.so
if [ -n "$NVCC_BIN" ]; then
    if step "make cuda ($NVCC_BIN)" 300 make -j"$(nproc)" -C CKernels/cuda NVCC="$NVCC_BIN" > "$RESULTS/build.log" 2>&1; then
        LIB=$PWD/build/cuda/libaitrader_cuda.so
    fi
else
    note "no nvcc here: using the library built with the PyPI toolchain"
fi
note "library: $LIB"

step "parity (fp32)" 240 $B/bin/parity "$LIB" > "$RESULTS/parity.txt" 2>&1
note "$(tail -1 "$RESULTS/parity.txt")"
grep -qE "MISMATCH|ERROR" "$RESULTS/parity.txt" && note "$(grep -E "MISMATCH|ERROR" "$RESULTS/parity.txt" | head -20)"
step "parity (tf32)" 120 $B/bin/parity "$LIB" --tf32 > "$RESULTS/parity_tf32.txt" 2>&1
note "$(tail -1 "$RESULTS/parity_tf32.txt")"

step "cuda_bench" 180 $B/bin/cuda_bench "$LIB" > "$RESULTS/kernels_bench.json" 2>>"$SUMMARY"

if [ -x $B/bin/aitrader ]; then
    cp "$LIB" $B/bin/libaitrader_cuda.so   # "next to the executable" is one place the program looks
    step "aitrader devices" 60 $B/bin/aitrader devices > "$RESULTS/devices.txt" 2>&1
    note "$(cat "$RESULTS/devices.txt")"
    # GPU first (the point of the run), then the CPU baseline of the same binary on this machine's 16 cores.
    for run in "kernels cuda 90" "models cuda 150" "models cpu 120 --quick"; do
        set -- $run
        step "aitrader bench --suite $1 --device $2 ${4:-}" "$3" \
            $B/bin/aitrader bench --suite "$1" --device "$2" ${4:-} --json >> "$RESULTS/aitrader_bench.json" 2>>"$SUMMARY"
    done
fi
note "done: $(ls "$RESULTS" | tr '\n' ' ')"
