"""Benchmark: `extract_features` with the `handcrafted` encoder (a numpy encoder: it runs inside the DataLoader
workers) at 1, 2, ... workers, side by side and interleaved on the same patch stores, checking that every worker
count writes the same features bit for bit. This is the step that dominates the README's main job on CPU.

    .venv/bin/python bench/bench_features.py --stores /path/to/patches [--max-stores 8] [--workers 1 2] [--reps 2] [--note TEXT]

`--stores` is a folder of patch stores (for instance `$VRI_TEXT_HOME/demo-default/patches` after `vri_text demo`);
without it, 8 stores are made from a small synthetic cohort under /tmp. Appends rows to bench/features_results.md.
Not a test: nbdev_test never runs it."""
import os
for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[_v] = '1'
import argparse, datetime as dt, shutil, statistics, tempfile, time
from pathlib import Path
import numpy as np
from _record import append_record, cpu_model

HEADER = """# Feature extraction: workers for a numpy encoder

`bench/bench_features.py`: `extract_features(stores, 'handcrafted', num_workers=w)` into a fresh folder per run,
worker counts interleaved within each repetition, same stores; wall time per run and its ratio to 1 worker
(median over repetitions). `identical` says whether every run wrote the same features as the 1-worker run.

| date | machine | load (1 min) | stores | patches | workers | wall s (median) | patches/s | speed-up vs 1 worker | identical | note |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
"""

def synthetic_stores(root:Path, n:int) -> Path:
    "Patch stores of a small synthetic cohort (tiny-scale grid), made once under `root`."
    from vri_text.synthetic import make_cohort
    from vri_text.patching import extract_cohort_patches
    if not (root/'patches').is_dir():
        coh = make_cohort(root/'cohort', n_samples=n, grid=14)
        extract_cohort_patches(coh, root/'patches')
    return root/'patches'

def read_all(folder:Path) -> dict:
    import h5py
    out = {}
    for p in sorted(folder.glob('*.h5')):
        with h5py.File(p, 'r') as f: out[p.name] = f['features'][:]
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--stores', default=None, help='a folder of patch stores (default: a small synthetic cohort under /tmp)')
    ap.add_argument('--max-stores', type=int, default=8)
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--note', default='')
    ap.add_argument('--out', default=str(Path(__file__).with_name('features_results.md')))
    a = ap.parse_args()
    from vri_text.features import extract_features
    src = Path(a.stores) if a.stores else synthetic_stores(Path(tempfile.gettempdir())/'vri_bench_features', a.max_stores)
    stores = sorted(p for p in src.glob('*.h5') if not p.name.startswith('.'))[:a.max_stores]
    if not stores: raise SystemExit(f'no patch stores in {src}')
    import h5py
    n = sum(h5py.File(p, 'r')['img'].shape[0] for p in stores)
    work = Path(tempfile.mkdtemp(prefix='vri_bench_feat_'))
    times, ref, same = {w: [] for w in a.workers}, None, {w: True for w in a.workers}
    load0 = os.getloadavg()[0]
    try:
        for r in range(a.reps):
            for w in (a.workers if r % 2 == 0 else a.workers[::-1]):   # interleaved, order alternating
                out = work/f'w{w}'; shutil.rmtree(out, ignore_errors=True)
                t = time.perf_counter()
                extract_features(stores, 'handcrafted', out_dir=out, num_workers=w, show_progress=False)
                times[w].append(time.perf_counter() - t)
                got = read_all(out/'handcrafted_v2')
                if ref is None: ref = got
                same[w] &= got.keys() == ref.keys() and all(np.array_equal(got[k], ref[k]) for k in ref)
                print(f'rep {r} workers {w}: {times[w][-1]:.1f} s')
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = (load0 + os.getloadavg()[0])/2
    base = statistics.median(times[a.workers[0]])
    stamp, machine = dt.datetime.now().strftime('%Y-%m-%d %H:%M'), f'{cpu_model()}, {os.cpu_count()} cores'
    rows = ''.join(f'| {stamp} | {machine} | {load:.2f} | {len(stores)} | {n} | {w} | {statistics.median(times[w]):.1f} | '
                   f'{n/statistics.median(times[w]):.1f} | {base/statistics.median(times[w]):.2f} | {"yes" if same[w] else "NO"} | '
                   f'{a.reps} reps; {a.note} |\n' for w in a.workers)
    print(rows)
    append_record(a.out, HEADER, rows)
