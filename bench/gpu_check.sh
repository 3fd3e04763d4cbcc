#!/usr/bin/env bash
# UNI2-h throughput check on a CUDA machine (random weights, bf16): model-only patches/s at batch sizes 64/128/256,
# patching-only and slide-to-features (stream) patches/s at several batch sizes and reader-thread counts, extraction
# from stores, and the fraction of the ~2,400 patches/s H200 bound; then patching vs the plain loop with --cpus 1..N.
# Usage: bench/gpu_check.sh [OUT_DIR] [gpu_check.py options]   (e.g. --dry-run on a CPU)
# OUT_DIR defaults to $OUT, else bench/results. On a GPU it then records the 8-seed ensemble vs sequential
# row (bench_seeds.py --device cuda). Each step has its own timeout: at most 270 + 150 + 120 s, 9 minutes.
# `bench/gpu_check.sh [OUT_DIR] --runbook` instead runs only the HEST colon runbook's tiny end-to-end on CUDA
# (nbs/11_hest_colon.ipynb with its #| gpu cells; at most 300 s), so each fits one device call.
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
runbook=0; args=(); for a in "$@"; do [[ "$a" == --runbook ]] && runbook=1 || args+=("$a"); done; set -- "${args[@]+"${args[@]}"}"
if [[ $runbook == 0 ]]; then
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
fi   # runbook == 0

# the HEST colon runbook (nbs/11_hest_colon.ipynb) end to end at the tiny scale on CUDA: synthetic HEST-layout mirror,
# UNI2-h (random weights) and the tiny Qwen2-VL in its #| gpu cells; its summary JSON keeps the measured UNI2-h patches/s
if [[ $runbook == 1 ]]; then
  "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || { echo "--runbook needs CUDA"; exit 1; }
  nbt="$(dirname "$py")/nbdev_test"; [[ -x "$nbt" ]] || nbt=nbdev_test
  ( cd "$root" && VRI_TEXT_HOME="$out/runbook_home" VRI_TEXT_ENCODER=uni2-h VRI_TEXT_WEIGHTS=random \
      VRI_TEXT_CAPTIONER=medvlm-r1 VRI_TEXT_CAPTIONER_WEIGHTS=random MPLBACKEND=Agg HF_HUB_OFFLINE=1 \
      timeout 300 "$nbt" --path nbs/11_hest_colon.ipynb --flags gpu ) > "$out/runbook_tiny_cuda.log" 2>&1 \
    && echo "HEST colon runbook, tiny, CUDA: passed" || echo "HEST colon runbook, tiny, CUDA: failed or timed out (see $out/runbook_tiny_cuda.log)"
  cp "$out/runbook_home/hest-colon-tiny/hest_colon_summary.json" "$out/runbook_tiny_cuda_summary.json" 2>/dev/null || true
  rm -rf "$out/runbook_home"
fi
