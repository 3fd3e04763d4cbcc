#!/usr/bin/env bash
# UNI2-h throughput check on a CUDA machine (random weights, bf16, batch sizes 64/128/256):
# model-only and full-extraction patches/s, and the fraction of the ~2,400 patches/s H200 bound.
# Usage: bench/gpu_check.sh [OUT_DIR] [gpu_check.py options]   (e.g. --dry-run on a CPU)
# OUT_DIR defaults to $OUT, else bench/results. On a GPU it then records the 8-seed ensemble vs sequential
# row (bench_seeds.py --device cuda). Finishes in under 10 minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
out="${OUT:-$root/bench/results}"
if [[ $# -gt 0 && "$1" != -* ]]; then out="$1"; shift; fi
py="${PYTHON:-python}"
if [[ -z "${PYTHON:-}" && -x "$root/.venv/bin/python" ]]; then py="$root/.venv/bin/python"; fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export VRI_TEXT_PROGRESS=0
mkdir -p "$out"
timeout 350 "$py" "$here/gpu_check.py" --out "$out" "$@"
# the eight seeds on the GPU, ensemble vs one after another (the row the CPU record lacks)
if [[ " $* " != *" --dry-run "* ]] && "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  timeout 200 "$py" "$here/bench_seeds.py" --device cuda --epochs 3 --out "$out/seeds_results.md" --note "gpu_check.sh" || echo "seed bench failed or timed out"
fi
