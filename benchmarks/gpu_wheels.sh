#!/usr/bin/env bash
# Wheels of the test tools for the GPU machine (Python 3.12, no network there):
#   bash benchmarks/gpu_wheels.sh [DIR]        # default .gpu-wheels (git-ignored)
# then carry DIR to the machine and run: bash benchmarks/gpu_check.sh OUT --wheels DIR
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.gpu-wheels}
python3 -m pip download -q --only-binary :all: --python-version 3.12 --platform manylinux2014_x86_64 \
  --platform any -d "$dir" pytest hypothesis
ls "$dir"
