#!/usr/bin/env bash
# UNI2-h throughput check on a CUDA machine (random weights, bf16, batch sizes 64/128/256):
# model-only and full-extraction patches/s, and the fraction of the ~2,400 patches/s H200 bound.
# Usage: bench/gpu_check.sh [OUT_DIR] [gpu_check.py options]   (e.g. --dry-run on a CPU)
# OUT_DIR defaults to $OUT, else bench/results. Finishes in under 6 minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="${OUT:-$root/bench/results}"
if [[ $# -gt 0 && "$1" != -* ]]; then out="$1"; shift; fi
py="${PYTHON:-python}"
if [[ -z "${PYTHON:-}" && -x "$root/.venv/bin/python" ]]; then py="$root/.venv/bin/python"; fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export VRI_TEXT_PROGRESS=0
exec timeout 350 "$py" "$here/gpu_check.py" --out "$out" "$@"
