#!/usr/bin/env bash
# Builds the toolkit and runs the whole test suite through CTest.
# Extra arguments go to ctest: -L fast runs the cases a developer runs on every
# change (no whole training runs, live streams or full disks), -L slow the rest,
# -R REGEX the cases whose names match.
set -euo pipefail
cd "$(dirname "$0")/.."
# python3-torch, python3-onnx, python3-opencv and onnxruntime-node: tests load
# the exported models with stock PyTorch, ONNX's checker, OpenCV and ONNX Runtime.
scripts/build.sh --with-python --with-onnxruntime
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
