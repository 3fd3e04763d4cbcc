#!/usr/bin/env bash
# UNI2-h throughput check on a CUDA machine (random weights, bf16): model-only patches/s at batch sizes 64/128/256,
# patching-only and slide-to-features (stream) patches/s at several batch sizes and reader-thread counts, extraction
# from stores, and the fraction of the ~2,400 patches/s H200 bound; then patching vs the plain loop with --cpus 1..N.
# Usage: bench/gpu_check.sh [OUT_DIR] [gpu_check.py options]   (e.g. --dry-run on a CPU)
# OUT_DIR defaults to $OUT, else bench/results. On a GPU it then records the 8-seed ensemble vs sequential
# row (bench_seeds.py --device cuda). Each step has its own timeout: at most 270 + 150 + 120 s, 9 minutes.
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
timeout 270 "$py" "$here/gpu_check.py" --out "$out" "$@"
# patching vs the plain loop, scaling with the machine's cores (the CPU side of feeding the GPU)
if [[ " $* " != *" --dry-run "* ]]; then
  ncpu=$(nproc); cpus=$(for c in 1 2 4 8 16 32; do [[ $c -le $ncpu ]] && echo -n "$c "; done)
  timeout 150 "$py" "$here/bench_patching.py" --cpus $cpus --reps 1 --work "$out/patching_work" --record "$out/patching_results.md" \
    --note "gpu_check.sh on $(hostname)" || echo "patching bench failed or timed out"
  rm -rf "$out/patching_work"
fi
# the eight seeds on the GPU, ensemble vs one after another (the row the CPU record lacks)
if [[ " $* " != *" --dry-run "* ]] && "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  timeout 120 "$py" "$here/bench_seeds.py" --device cuda --epochs 3 --out "$out/seeds_results.md" --note "gpu_check.sh" || echo "seed bench failed or timed out"
fi
