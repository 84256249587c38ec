#!/usr/bin/env bash
# Prepares, on a machine WITHOUT a GPU, everything scripts/gpu_check.sh needs on the GPU machine (which has
# nvcc and the NVIDIA driver but no Swift, no OpenBLAS and no network):
#   build/gpu_bundle/bin/{parity,cuda_bench}   the C parity check and kernels bench (CPU side linked to OpenBLAS)
#   build/gpu_bundle/bin/aitrader              the static release binary (scripts/build_static.sh)
#   build/gpu_bundle/lib/*.so.*                OpenBLAS, gfortran, SQLite, zstd, libyaml for those programs
#   build/gpu_bundle/libaitrader_cuda.so       a CUDA library built here, used only if the GPU machine has no nvcc
# packed as build/gpu_bundle/bundle.tar.xz (the device tool carries at most 64 MiB with the work tree).
#
#   scripts/gpu_bundle.sh            # then, with the device tool: run `bash scripts/gpu_check.sh`,
#                                    # carry ["build/gpu_bundle"], timeout_s 540
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/gpu_bundle
STAGE=$B/stage
rm -rf "$B"
mkdir -p "$STAGE/bin" "$STAGE/lib"

echo "== CUDA library (fallback copy) and C programs"
make cuda-toolchain cuda
make -C CKernels/tests parity cuda_bench
cp build/cuda/libaitrader_cuda.so "$STAGE/"
cp CKernels/tests/parity CKernels/tests/cuda_bench "$STAGE/bin/"

echo "== static aitrader"
if [ "${SKIP_STATIC:-0}" != 1 ]; then
    [ -x build/static/aitrader ] && [ "${REBUILD_STATIC:-0}" != 1 ] || scripts/build_static.sh build/static
    cp build/static/aitrader "$STAGE/bin/"
    cp build/static/lib/* "$STAGE/lib/" 2>/dev/null || true
fi

system_lib='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|libutil\.so|libstdc\+\+\.so|libgcc_s\.so)'
for exe in "$STAGE"/bin/*; do
    ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | while read -r name path; do
        [[ $name =~ $system_lib ]] || [ -e "$STAGE/lib/$name" ] || cp -L "$path" "$STAGE/lib/$name"
    done
done
for exe in "$STAGE"/bin/*; do
    if LD_LIBRARY_PATH="$STAGE/lib" ldd "$exe" | grep -q "not found"; then
        echo "error: $exe has unresolved libraries" >&2; exit 1
    fi
done
du -sh "$STAGE"/* "$STAGE"/lib/*
tar -C "$STAGE" -cJf "$B/bundle.tar.xz" .
rm -rf "$STAGE"
size=$(du -m "$B/bundle.tar.xz" | cut -f1)
echo "bundle: $B/bundle.tar.xz (${size} MiB; the device tool carries 64 MiB with the work tree)"
[ "$size" -lt 58 ] || { echo "error: bundle too large for the device tool" >&2; exit 1; }
