#!/usr/bin/env bash
# Runs benchmarks/gpu.py on a lent GPU machine, whose python3 (3.12) has torch, transformers and
# Pillow but no diffusers: diffusers travels as wheels in .whl/ (docs/benchmarks.md says how).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 benchmarks/gpu.py --json "${OUT:-/tmp}/gpu.json" "$@" 2>&1 | tee "${OUT:-/tmp}/gpu.log"
