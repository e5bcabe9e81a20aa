#!/usr/bin/env bash
# Installs what the toolkit needs from Debian's archive, and nothing else.
# Idempotent: when every package is present it only checks, in about a second.
# Usage: scripts/setup.sh [--with-python] [--with-plot] [--with-sanitizers]
#   --with-python      python3-torch: the tests load exported models with stock PyTorch
#   --with-plot        python3-matplotlib: the inference benchmark draws its chart
#   --with-sanitizers  clang, its sanitizer and libFuzzer runtimes, llvm-symbolizer (llvm-14):
#                      scripts/test_sanitized.sh
set -euo pipefail

packages=(cmake g++ make ccache pkg-config
  libtorch-dev libopencv-dev libcxxopts-dev nlohmann-json3-dev catch2
  libgloo-dev libopenblas0-pthread ffmpeg)
for arg in "$@"; do
  case "$arg" in
    --with-python) packages+=(python3-torch) ;;
    --with-plot) packages+=(python3-matplotlib) ;;
    --with-sanitizers) packages+=(clang libclang-rt-14-dev llvm-14) ;;
    *) echo "setup.sh: unknown option '$arg' (known: --with-python, --with-plot, --with-sanitizers)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
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
