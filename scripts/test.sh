#!/usr/bin/env bash
# Builds the toolkit and runs the whole test suite through CTest.
# Extra arguments go to ctest (e.g. -R loader, -L slow).
set -euo pipefail
cd "$(dirname "$0")/.."
# python3-torch: a test loads an exported model with stock PyTorch.
scripts/build.sh --with-python
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
