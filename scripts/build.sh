#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), then configures and builds the
# toolkit into build/ (Release). Extra arguments go to setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
