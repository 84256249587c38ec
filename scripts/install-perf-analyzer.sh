#!/usr/bin/env bash
# Makes $1/bin/perf_analyzer (default .venv-serving) NVIDIA Triton's load tool, for make test-serving and
# make bench-serving. Exits 0 when it runs, 1 with the reason on stderr when it cannot be had here.
#
# The PyPI package perf-analyzer is an empty placeholder (0.1.0, no binary). The binary is the one
# tritonclient's manylinux wheels shipped up to $PERF_ANALYZER_WHEEL (tritonclient-X.data/data/bin/perf_analyzer).
# It needs two shared libraries that are not in that wheel:
# - libb64.so.0d: Debian's libb64-0d, installed here with apt-get when it is missing.
# - libcudart.so.12: it links the CUDA runtime even for HTTP against a CPU server. That comes from the PyPI wheel
#   nvidia-cuda-runtime-cu12 (no GPU or driver needed to load it).
# Both wheels are only downloaded and unpacked into $1/perf_analyzer/, so the venv's own tritonclient is untouched.
# $1/bin/perf_analyzer is a wrapper that sets LD_LIBRARY_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv-serving}"
WHEEL="${PERF_ANALYZER_WHEEL:-tritonclient==2.40.0}"
CUDART="${PERF_ANALYZER_CUDART:-nvidia-cuda-runtime-cu12==12.9.79}"
PIP_TIMEOUT="${SERVING_PIP_TIMEOUT:-600}"
why() { echo "perf_analyzer is not available: $1" >&2; exit 1; }

works() { "$VENV/bin/perf_analyzer" --version >/dev/null 2>&1; }
works && exit 0

[ "$(uname -m)" = x86_64 ] || why "its binary is built for x86_64 only (this machine is $(uname -m))"
if ! dpkg -s libb64-0d >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  { [ -z "$sudo" ] || command -v sudo >/dev/null; } || why "the Debian package libb64-0d is missing (apt-get install libb64-0d as root)"
  echo "Installing: libb64-0d (for perf_analyzer)"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libb64-0d; } >/dev/null \
    || why "apt-get could not install libb64-0d"
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || why "cannot create $VENV"
dir="$VENV/perf_analyzer"
download="$(mktemp -d)"
trap 'rm -rf "$download"' EXIT
timeout "$PIP_TIMEOUT" "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary :all: \
    --platform manylinux1_x86_64 --platform manylinux2014_x86_64 -d "$download" "$WHEEL" "$CUDART" >/dev/null 2>&1 \
  || why "pip could not download $WHEEL and $CUDART"
rm -rf "$dir" && mkdir -p "$dir/lib"
"$VENV/bin/python" - "$download" "$dir" <<'PY'
import pathlib, sys, zipfile
download, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wanted = {"/bin/perf_analyzer": out / "perf_analyzer", "/lib/libcudart.so.12": out / "lib" / "libcudart.so.12"}
for wheel in download.glob("*.whl"):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            for suffix, target in wanted.items():
                if name.endswith(suffix):
                    target.write_bytes(z.read(name))
                    target.chmod(0o755)
missing = [str(t) for t in wanted.values() if not t.exists()]
if missing:
    sys.exit("perf_analyzer is not available: the wheels did not contain " + ", ".join(missing))
PY
cat >"$VENV/bin/perf_analyzer" <<EOF
#!/usr/bin/env bash
# Triton's perf_analyzer from $WHEEL, with the CUDA runtime it links (scripts/install-perf-analyzer.sh).
here="\$(cd "\$(dirname "\$0")/../perf_analyzer" && pwd)"
LD_LIBRARY_PATH="\$here/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$here/perf_analyzer" "\$@"
EOF
chmod +x "$VENV/bin/perf_analyzer"
works || why "$("$VENV/bin/perf_analyzer" --version 2>&1 | head -1)"
echo "perf_analyzer: $("$VENV/bin/perf_analyzer" --version 2>&1 | head -1) in $VENV/bin"
