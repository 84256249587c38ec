#!/usr/bin/env bash
# Builds a release `aitrader` that runs on a Linux x86-64 machine without a Swift toolchain (the GPU machine):
# the Swift runtime and Foundation linked in statically (--static-swift-stdlib), symbols stripped, and the
# system C libraries it still needs (OpenBLAS and its Fortran runtime, SQLite, zstd, libyaml, libcurl and what
# they pull in) copied beside it.
#
#   scripts/build_static.sh [OUT]            # default OUT = build/static
#   OUT/aitrader, OUT/lib/*.so.*             # run as: LD_LIBRARY_PATH=OUT/lib OUT/aitrader devices
#
# glibc, libstdc++ and libgcc_s are taken from the target machine (any glibc >= this machine's works).
# Prints the sizes: the device tool carries at most 64 MiB (scripts/gpu_bundle.sh packs and compresses them).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/static}
SWIFT=${SWIFT:-swift}

# The static FoundationNetworking (MarketData's HTTP client) links `-lcurl`: point the linker at the system's
# libcurl.so.4 through a private folder, so no libcurl -dev package is needed (the .so is copied below).
LINKDIR=$PWD/build/static-link
mkdir -p "$LINKDIR"
curl_so=$(ldconfig -p | awk '/libcurl\.so\.4 .*x86-64/{print $NF; exit}')
[ -n "$curl_so" ] && ln -sf "$curl_so" "$LINKDIR/libcurl.so"
FLAGS=(-c release --static-swift-stdlib -Xlinker -L"$LINKDIR")
echo "== swift build ${FLAGS[*]}"
$SWIFT build "${FLAGS[@]}" --product aitrader
BIN=$($SWIFT build "${FLAGS[@]}" --show-bin-path)/aitrader

rm -rf "$OUT"
mkdir -p "$OUT/lib"
strip -o "$OUT/aitrader" "$BIN"

# Shared libraries still needed, minus the ones every Linux has (glibc, the C++ runtime, the loader).
system_lib='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|libutil\.so|libstdc\+\+\.so|libgcc_s\.so)'
ldd "$OUT/aitrader" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | while read -r name path; do
    if [[ $name =~ $system_lib ]]; then continue; fi
    cp -L "$path" "$OUT/lib/$name"
done
# OpenBLAS is chosen through Debian's alternatives: copy the real file under the soname the binary asks for.
echo "== $OUT"
ls -la "$OUT" "$OUT/lib"
echo "aitrader: $(du -h "$OUT/aitrader" | cut -f1), libraries: $(du -ch "$OUT"/lib/* | tail -1 | cut -f1)"
if LD_LIBRARY_PATH="$OUT/lib" ldd "$OUT/aitrader" | grep -q "not found"; then
    echo "error: unresolved libraries:" >&2
    LD_LIBRARY_PATH="$OUT/lib" ldd "$OUT/aitrader" | grep "not found" >&2
    exit 1
fi
LD_LIBRARY_PATH="$OUT/lib" "$OUT/aitrader" devices
