#!/usr/bin/env bash
# Installs what the toolkit needs from Debian's archive, and nothing else.
# Idempotent: when every package is present it only checks, in about a second.
# Usage: scripts/setup.sh [--with-python] [--with-onnxruntime] [--with-plot] [--with-sanitizers]
#   --with-python      python3-torch, python3-onnx, python3-opencv: the tests load exported
#                      models with stock PyTorch, ONNX's checker and OpenCV's DNN module
#   --with-onnxruntime npm's onnxruntime-node (ONNX Runtime's CPU library, with nodejs and npm)
#                      into build/npm: the tests and benchmarks run the ONNX export with it
#   --with-plot        python3-matplotlib: the inference benchmark draws its chart
#   --with-sanitizers  clang, its sanitizer and libFuzzer runtimes, llvm-symbolizer (llvm-14):
#                      scripts/test_sanitized.sh
set -euo pipefail

packages=(cmake g++ make ccache pkg-config
  libtorch-dev libopencv-dev libcxxopts-dev nlohmann-json3-dev catch2
  libgloo-dev libopenblas0-pthread ffmpeg libonnx-dev libprotobuf-dev)
onnxruntime=""
for arg in "$@"; do
  case "$arg" in
    --with-python) packages+=(python3-torch python3-onnx python3-opencv) ;;
    --with-onnxruntime) packages+=(nodejs npm); onnxruntime=1 ;;
    --with-plot) packages+=(python3-matplotlib) ;;
    --with-sanitizers) packages+=(clang libclang-rt-14-dev llvm-14) ;;
    *) echo "setup.sh: unknown option '$arg' (known: --with-python, --with-onnxruntime, --with-plot, --with-sanitizers)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  # Node.js may come from elsewhere than Debian's package: a working node and npm will do.
  if [[ ($p == nodejs || $p == npm) && "$status" != "install ok installed" ]] &&
    command -v "${p/nodejs/node}" >/dev/null; then
    continue
  fi
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch multiplies matrices through whichever libblas.so.3 is selected;
# the reference BLAS is ~30x slower than OpenBLAS on these machines.
blas_dir=/usr/lib/$(gcc -print-multiarch)
openblas="$blas_dir/openblas-pthread/libblas.so.3"
current=$(readlink -f "$blas_dir/libblas.so.3" 2>/dev/null || true)
if [[ -e "$openblas" && "$current" != "$(readlink -f "$openblas")" ]]; then
  echo "setup: selecting OpenBLAS as libblas.so.3" >&2
  $sudo update-alternatives --set "libblas.so.3-$(gcc -print-multiarch)" "$openblas" >/dev/null
fi
if [[ -e "$openblas" ]]; then
  echo "setup: ok (BLAS: $(readlink -f "$blas_dir/libblas.so.3"))" >&2
else
  echo "setup: OpenBLAS not found at $openblas" >&2
  exit 1
fi

# ONNX Runtime's CPU library, as npm's onnxruntime-node carries it. Its install
# script only fetches optional GPU binaries from a host outside the package
# registry, so it is skipped (--ignore-scripts); the CPU library is in the package.
ort_version=1.30.0
ort_dir=build/npm
if [[ -n "$onnxruntime" ]]; then
  cd "$(dirname "$0")/.."
  installed=$(node -p "require('./$ort_dir/node_modules/onnxruntime-node/package.json').version" 2>/dev/null || true)
  if [[ "$installed" != "$ort_version" ]]; then
    echo "setup: installing onnxruntime-node@$ort_version into $ort_dir" >&2
    mkdir -p "$ort_dir"
    npm install --prefix "$ort_dir" --ignore-scripts --no-audit --no-fund --silent \
      "onnxruntime-node@$ort_version" >&2
  fi
fi
