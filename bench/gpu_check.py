"""UNI2-h throughput on one CUDA GPU: model only vs the full pipeline from a slide to features.

Random weights (the architecture is what costs time), bf16 autocast. Measures, each as patches/s and
as a fraction of the compute bound (peak TFLOP/s / GFLOP per patch; ~790 TFLOP/s bf16 on an H200 and
334 GFLOP/patch give ~2,400 patches/s):
- model only: transform + forward on a GPU-resident uint8 batch, per batch size;
- patching only: `extract_patches` on a generated slide that needs resampling (0.499 um/px, so every
  patch is Lanczos-resampled), per number of reader threads: can the CPU side feed the GPU?
- slide to features: `vri_text.stream.stream_features` (reader threads cut patches while the GPU
  encodes them, patch store written on the side), per batch size and number of reader threads;
- from stores: `extract_features` over patch stores already on disk (the two-step path's second step).
Writes gpu_check.json and gpu_check.md to --out. `--dry-run` runs the same code paths with the tiny
encoder, a small slide and small settings on whatever device there is (CPU included) in well under a minute.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def _sync(dev):
    import torch
    if dev.type == 'cuda': torch.cuda.synchronize(dev)


def flops_per_patch(enc) -> float:
    "Forward FLOPs of one 224 px patch, counted by torch's FlopCounterMode (2 per multiply-add)."
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    x = torch.zeros(1, 224, 224, 3, dtype=torch.uint8)
    with FlopCounterMode(display=False) as fc:
        enc(x)
    return float(fc.get_total_flops())


def model_only(enc, batch_sizes, seconds: float, deadline: float) -> list:
    "patches/s of transform + forward on a GPU-resident uint8 batch, per batch size."
    import torch
    dev = torch.device(enc.device)
    rows = []
    for bs in batch_sizes:
        if time.monotonic() > deadline: rows.append(dict(batch_size=bs, skipped='time budget')); continue
        try:
            x = torch.randint(0, 256, (bs, 224, 224, 3), dtype=torch.uint8, device=dev)
            if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
            for _ in range(2): enc(x)  # warm-up (kernel selection, allocator)
            _sync(dev)
            n, t0 = 0, time.perf_counter()
            while True:
                enc(x); n += 1
                if n >= 3 and time.perf_counter() - t0 >= seconds: break
                if time.monotonic() > deadline: break
            _sync(dev)
            dt = time.perf_counter() - t0
            row = dict(batch_size=bs, iters=n, seconds=round(dt, 3), patches_per_s=round(n*bs/dt, 1))
            if dev.type == 'cuda': row['peak_mem_gib'] = round(torch.cuda.max_memory_allocated(dev)/2**30, 2)
        except torch.cuda.OutOfMemoryError as e:
            row = dict(batch_size=bs, error=f'out of memory: {str(e)[:120]}')
        finally:
            x = None
            if dev.type == 'cuda': torch.cuda.empty_cache()
        rows.append(row)
        print(f'  model-only bs={bs}: {row}', flush=True)
    return rows


def full_extraction(enc, tmp: Path, n_stores: int, per_store: int, batch_size: int, workers: int) -> dict:
    "patches/s of extract_features over freshly written synthetic patch stores."
    from vri_text.features import extract_features, write_test_store, load_features
    pdir = tmp/'patches'
    t0 = time.perf_counter()
    for i in range(n_stores): write_test_store(pdir/f'B{i:02d}.h5', n=per_store, seed=i)
    t_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = extract_features(pdir, enc, out_dir=tmp/'features', batch_size=batch_size, num_workers=workers, show_progress=False)
    dt = time.perf_counter() - t0
    n = n_stores*per_store
    f, bc, _ = load_features(s['dir'], 'B00')
    assert f.shape == (per_store, enc.out_dim) and len(bc) == per_store, (f.shape, len(bc))
    return dict(patches=n, stores=n_stores, batch_size=batch_size, workers=workers, seconds=round(dt, 3),
                patches_per_s=round(n/dt, 1), store_write_s=round(t_write, 1), computed=s['computed'])


def bench_slide(tmp: Path, side: int, pitch_um: float):
    "A generated slide at 0.499 um/px (every patch resampled) and a Sample with spots on a hex grid over it."
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from wsi_slide import write_wsi40x
    from bench_patching import hex_spots, make_sample
    wsi, mpp = write_wsi40x(tmp/f'slide{side}.tif', W=side, H=side, mpp=0.499)
    return make_sample(wsi, mpp, hex_spots(side, side, mpp, pitch_um), sid='gpucheck')


def patching_only(smp, tmp: Path, workers_list, deadline: float) -> list:
    "patches/s of extract_patches (tissue filter on) per number of reader threads."
    from vri_text.patching import PatchConfig, extract_patches
    rows = []
    for w in workers_list:
        if time.monotonic() > deadline: rows.append(dict(workers=w, skipped='time budget')); continue
        t0 = time.perf_counter()
        s = extract_patches(smp, tmp/'patch_only.h5', PatchConfig(workers=w, block_px=1024, min_tissue=0.25), force=True, verbose=False)
        dt = time.perf_counter() - t0
        rows.append(dict(workers=w, patches=s['kept'], spots=s['spots'], seconds=round(dt, 3), patches_per_s=round(s['kept']/dt, 1)))
        print(f'  patching only, {w} threads: {rows[-1]}', flush=True)
    return rows


def slide_pipeline(enc, smp, tmp: Path, batch_sizes, workers_list, deadline: float) -> list:
    "patches/s of stream_features (slide -> patches -> features, store written on the side) per batch size and reader threads."
    from vri_text.patching import PatchConfig
    from vri_text.stream import stream_features
    rows = []
    for w in workers_list:
        for bs in batch_sizes:
            if time.monotonic() > deadline: rows.append(dict(batch_size=bs, workers=w, skipped='time budget')); continue
            _sync(__import__('torch').device(enc.device))
            t0 = time.perf_counter()
            s = stream_features(smp, tmp/'stream', enc, config=PatchConfig(workers=w, block_px=1024, min_tissue=0.25), batch_size=bs, overwrite=True, show_progress=False)
            _sync(__import__('torch').device(enc.device))
            dt = time.perf_counter() - t0
            from vri_text.features import load_features
            n = len(load_features(s['dir'], smp.sample_id)[1])
            rows.append(dict(batch_size=bs, workers=w, patches=n, seconds=round(dt, 3), patches_per_s=round(n/dt, 1)))
            print(f'  slide to features, batch {bs}, {w} threads: {rows[-1]}', flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.environ.get('OUT') or 'bench/results', help='folder for gpu_check.json / .md')
    ap.add_argument('--batch-sizes', type=int, nargs='+', default=[64, 128, 256])
    ap.add_argument('--seconds', type=float, default=10, help='timed seconds per batch size (model-only)')
    ap.add_argument('--stores', type=int, default=8, help='synthetic patch stores for the full extraction')
    ap.add_argument('--patches-per-store', type=int, default=512)
    ap.add_argument('--workers', type=int, default=None, help='DataLoader workers (default: min(8, cpus-1))')
    ap.add_argument('--peak-tflops', type=float, default=790, help='bf16 TFLOP/s of the GPU (H200 measured: ~790)')
    ap.add_argument('--gflop-per-patch', type=float, default=334, help='nominal UNI2-h GFLOP per 224 px patch')
    ap.add_argument('--budget-s', type=float, default=240, help='stop starting new measurements after this many seconds')
    ap.add_argument('--threads', type=int, nargs='+', default=None, help='reader threads for the slide pipeline (default: 1, 4, 8, all cores)')
    ap.add_argument('--pipeline-batch-sizes', type=int, nargs='+', default=[128, 256])
    ap.add_argument('--slide-px', type=int, default=16384, help='side of the generated 0.499 um/px slide')
    ap.add_argument('--pitch-um', type=float, default=50, help='spot pitch on the slide (50 um: ~15k spots on its tissue)')
    ap.add_argument('--dry-run', action='store_true', help='tiny encoder, small sizes, any device: checks the code path only')
    a = ap.parse_args(argv)
    start = time.monotonic(); deadline = start + a.budget_s
    try:
        import torch
        import vri_text
        from vri_text.features import get_encoder
    except ImportError as e:
        sys.exit(f'gpu_check: cannot import {e.name}; install the package (pip install -e .) or run from the repo root with PYTHONPATH=.')
    cuda = torch.cuda.is_available()
    if not cuda and not a.dry_run: sys.exit('gpu_check: CUDA is not available on this machine; use --dry-run to check the code path on a CPU')
    if a.dry_run:
        a.batch_sizes, a.seconds, a.stores, a.patches_per_store = [b for b in a.batch_sizes if b <= 8] or [4, 8], min(a.seconds, 1.0), 2, 16
        a.pipeline_batch_sizes, a.slide_px, a.pitch_um, a.threads = [8], 2048, 100, [1, 2]
    workers = a.workers if a.workers is not None else max(0, min(8, (os.cpu_count() or 1) - 1))
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)
    threads = a.threads or sorted({1, min(4, ncpu), min(8, ncpu), ncpu})
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    env = dict(python=platform.python_version(), torch=torch.__version__, vri_text=vri_text.__version__, cpus=os.cpu_count(),
               device=torch.cuda.get_device_name(0) if cuda else 'cpu', cuda=torch.version.cuda if cuda else None)
    print('gpu_check', 'DRY RUN (tiny encoder: not a UNI2-h measurement)' if a.dry_run else '', env, flush=True)
    if cuda: torch.backends.cuda.matmul.allow_tf32 = True
    t0 = time.perf_counter()
    enc = get_encoder('tiny' if a.dry_run else 'uni2-h', weights='random', device='cuda' if cuda else 'cpu',
                      precision='bf16' if cuda else 'fp32')
    build_s = time.perf_counter() - t0
    print(f'  built {enc} ({enc.n_params/1e6:.1f}M parameters) in {build_s:.1f} s', flush=True)
    gflop = flops_per_patch(enc)/1e9
    mo = model_only(enc, a.batch_sizes, a.seconds, deadline)
    ok = [r for r in mo if 'patches_per_s' in r]
    best = max(ok, key=lambda r: r['patches_per_s']) if ok else None
    full, patch_rows, pipe = None, [], []
    with tempfile.TemporaryDirectory(prefix='gpu_check_') as d:
        t0 = time.perf_counter()
        smp = bench_slide(Path(d), a.slide_px, a.pitch_um)
        print(f'  slide {a.slide_px} px at 0.499 um/px, {smp.n_spots} spots, written in {time.perf_counter() - t0:.0f} s', flush=True)
        patch_rows = patching_only(smp, Path(d), threads, deadline)
        pipe = slide_pipeline(enc, smp, Path(d), a.pipeline_batch_sizes, threads, deadline)
        if best and time.monotonic() < deadline:
            full = full_extraction(enc, Path(d)/'stores', a.stores, a.patches_per_store, best['batch_size'], workers)
            print(f'  from stores: {full}', flush=True)
    bound = a.peak_tflops*1e3/a.gflop_per_patch  # patches/s
    res = dict(dry_run=a.dry_run, encoder=enc.id, n_params=enc.n_params, precision=enc.precision, env=env, build_s=round(build_s, 1),
               gflop_per_patch_measured=round(gflop, 4), gflop_per_patch_nominal=a.gflop_per_patch, peak_tflops=a.peak_tflops,
               bound_patches_per_s=round(bound, 1), bound_patches_per_s_measured_flops=round(a.peak_tflops*1e3/gflop, 1),
               model_only=mo, patching_only=patch_rows, slide_to_features=pipe, full_extraction=full,
               best_model_only_fraction_of_bound=round(best['patches_per_s']/bound, 3) if best else None,
               full_fraction_of_bound=round(full['patches_per_s']/bound, 3) if full else None,
               achieved_tflops_model_only=round(best['patches_per_s']*gflop/1e3, 1) if best else None,
               total_s=round(time.monotonic() - start, 1))
    (out/'gpu_check.json').write_text(json.dumps(res, indent=1))
    md = [f"# UNI2-h throughput check{' (DRY RUN: tiny encoder, not UNI2-h)' if a.dry_run else ''}", '',
          f"{env['device']}, torch {env['torch']}, {enc.id} ({enc.n_params/1e6:.1f}M parameters), {enc.precision}; "
          f"{gflop:.3g} GFLOP/patch measured (nominal {a.gflop_per_patch}); bound {bound:.0f} patches/s at {a.peak_tflops} TFLOP/s "
          f"({a.peak_tflops*1e3/gflop:.0f} with the measured FLOPs); fractions below are of the nominal bound.", '',
          '| what | batch | patches/s | fraction of bound | notes |', '| --- | --- | --- | --- | --- |']
    for r in mo:
        if 'patches_per_s' in r:
            md.append(f"| model only | {r['batch_size']} | {r['patches_per_s']:.1f} | {r['patches_per_s']/bound:.3f} | {(str(r['peak_mem_gib']) + ' GiB peak') if 'peak_mem_gib' in r else ''} |")
        else: md.append(f"| model only | {r['batch_size']} | - | - | {r.get('error') or r.get('skipped')} |")
    for r in patch_rows:
        if 'patches_per_s' in r: md.append(f"| patching only (CPU), {r['workers']} reader threads | - | {r['patches_per_s']:.1f} | {r['patches_per_s']/bound:.3f} | {r['patches']} of {r['spots']} spots kept |")
        else: md.append(f"| patching only (CPU), {r['workers']} reader threads | - | - | - | {r['skipped']} |")
    for r in pipe:
        if 'patches_per_s' in r: md.append(f"| slide to features (stream), {r['workers']} reader threads | {r['batch_size']} | {r['patches_per_s']:.1f} | {r['patches_per_s']/bound:.3f} | {r['patches']} patches, store written on the side |")
        else: md.append(f"| slide to features (stream), {r['workers']} reader threads | {r['batch_size']} | - | - | {r['skipped']} |")
    if full:
        md.append(f"| extraction from {full['stores']} stores | {full['batch_size']} | {full['patches_per_s']:.1f} | {full['patches_per_s']/bound:.3f} | "
                  f"{full['patches']} patches, {full['workers']} DataLoader workers |")
    md += ['', f"Total {res['total_s']} s."]
    (out/'gpu_check.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))
    return res


if __name__ == '__main__': main()
