"""UNI2-h throughput on one CUDA GPU: model-only rate and full extraction rate from patch stores.

Random weights (the architecture is what costs time), bf16 autocast. Reports patches/s per batch
size, the measured GFLOP per patch, and the fraction of the compute bound
(peak TFLOP/s / GFLOP per patch; ~790 TFLOP/s bf16 on an H200 and 334 GFLOP/patch give ~2,400
patches/s). Writes gpu_check.json and gpu_check.md to --out. `--dry-run` runs the same code path
with the tiny encoder on whatever device there is (CPU included) in a few seconds.
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.environ.get('OUT') or 'bench/results', help='folder for gpu_check.json / .md')
    ap.add_argument('--batch-sizes', type=int, nargs='+', default=[64, 128, 256])
    ap.add_argument('--seconds', type=float, default=15, help='timed seconds per batch size (model-only)')
    ap.add_argument('--stores', type=int, default=8, help='synthetic patch stores for the full extraction')
    ap.add_argument('--patches-per-store', type=int, default=512)
    ap.add_argument('--workers', type=int, default=None, help='DataLoader workers (default: min(8, cpus-1))')
    ap.add_argument('--peak-tflops', type=float, default=790, help='bf16 TFLOP/s of the GPU (H200 measured: ~790)')
    ap.add_argument('--gflop-per-patch', type=float, default=334, help='nominal UNI2-h GFLOP per 224 px patch')
    ap.add_argument('--budget-s', type=float, default=330, help='stop starting new measurements after this many seconds')
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
    workers = a.workers if a.workers is not None else max(0, min(8, (os.cpu_count() or 1) - 1))
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
    full = None
    if best and time.monotonic() < deadline:
        with tempfile.TemporaryDirectory(prefix='gpu_check_') as d:
            full = full_extraction(enc, Path(d), a.stores, a.patches_per_store, best['batch_size'], workers)
        print(f'  full extraction: {full}', flush=True)
    bound = a.peak_tflops*1e3/a.gflop_per_patch  # patches/s
    res = dict(dry_run=a.dry_run, encoder=enc.id, n_params=enc.n_params, precision=enc.precision, env=env, build_s=round(build_s, 1),
               gflop_per_patch_measured=round(gflop, 4), gflop_per_patch_nominal=a.gflop_per_patch, peak_tflops=a.peak_tflops,
               bound_patches_per_s=round(bound, 1), bound_patches_per_s_measured_flops=round(a.peak_tflops*1e3/gflop, 1),
               model_only=mo, full_extraction=full,
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
    if full:
        md.append(f"| extraction from {full['stores']} stores | {full['batch_size']} | {full['patches_per_s']:.1f} | {full['patches_per_s']/bound:.3f} | "
                  f"{full['patches']} patches, {full['workers']} workers |")
    md += ['', f"Total {res['total_s']} s."]
    (out/'gpu_check.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))
    return res


if __name__ == '__main__': main()
