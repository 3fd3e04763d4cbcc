"""Benchmark: ms per patch of the CPU encoders on one core, side by side and interleaved: the v1 handcrafted
encoder (taken from a git revision), today's `handcrafted` (v2), the `colour` control and the `tiny` ViT,
on synthetic_he patches and on patches of the real slide CMU-1-Small-Region.svs (read with openslide).

    .venv/bin/python bench/bench_encoders.py [--n 32] [--reps 3] [--cpu 0] [--old-rev 7025f07] [--note TEXT]

Appends rows to bench/encoders_results.md. The process is pinned to one CPU with one thread (as a
DataLoader worker of the default-scale run is); CPU time (process_time) is the figure to compare,
wall time is shown beside it. Not a test: nbdev_test never runs it."""
import os
for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[_v] = '1'
import argparse, datetime as dt, statistics, time
from pathlib import Path
import numpy as np
from _record import cpu_model, load_old

ROOT = Path(__file__).resolve().parent.parent
SLIDE = ROOT.parent/'shared'/'data'/'CMU-1-Small-Region.svs'

def real_patches(n:int, seed:int=0) -> np.ndarray:
    "`n` 224 px level-0 patches of CMU-1 (0.499 um/px) with at least half tissue, at random positions."
    import openslide
    rng, out = np.random.default_rng(seed), []
    with openslide.OpenSlide(str(SLIDE)) as sl:
        w, h = sl.dimensions
        while len(out) < n:
            x, y = int(rng.integers(0, w - 224)), int(rng.integers(0, h - 224))
            p = np.asarray(sl.read_region((x, y), 0, (224, 224)).convert('RGB'))
            if (p.min(-1) < 204).mean() >= 0.5: out.append(p)
    return np.stack(out)

def timed(fn, imgs):
    "(cpu ms per patch, wall ms per patch) of one call."
    c, w = time.process_time(), time.perf_counter()
    fn(imgs)
    return (time.process_time() - c)*1e3/len(imgs), (time.perf_counter() - w)*1e3/len(imgs)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=32, help='patches per batch (and per data set)')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--cpu', type=int, default=0, help='the CPU to pin to')
    ap.add_argument('--old-rev', default='7025f07', help='git revision holding the v1 handcrafted encoder')
    ap.add_argument('--note', default='')
    ap.add_argument('--out', default=str(Path(__file__).with_name('encoders_results.md')))
    a = ap.parse_args()
    os.sched_setaffinity(0, {a.cpu})
    import torch; torch.set_num_threads(1)
    from vri_text import features as F
    old = load_old(a.old_rev, 'features')
    encs = {'handcrafted v1': lambda x: old.handcrafted_features(x), 'handcrafted v2': F.handcrafted_features,
            'colour': F.colour_features, 'tiny ViT': F.get_encoder('tiny', device='cpu')}
    data = {'synthetic_he': F.synthetic_he(a.n, seed=7)}
    if SLIDE.exists(): data['CMU-1'] = real_patches(a.n)
    else: print(f'{SLIDE} not found: real-slide patches skipped')
    for fn in encs.values(): fn(data['synthetic_he'][:2])  # imports, first-call costs
    res = {(e, d): [] for e in encs for d in data}
    for _ in range(a.reps):  # interleaved, so load changes hit every encoder alike
        for d, imgs in data.items():
            for e, fn in encs.items(): res[e, d].append(timed(fn, imgs))
    load = os.getloadavg()[0]
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in res.items()}
    for (e, d), (c, w) in med.items(): print(f'{e:>15} on {d:>12}: {c:6.1f} ms/patch CPU, {w:6.1f} ms/patch wall')
    cpu = cpu_model()
    out = Path(a.out)
    if not out.exists():
        out.write_text('# CPU encoders: ms per patch on one core\n\nWritten by `bench/bench_encoders.py`: one process pinned to one CPU, '
                       'one thread; medians over interleaved repetitions of one batch; CPU time (process_time) with wall time beside it. '
                       'v1 is the handcrafted encoder of the git revision named in the row (fitted to the synthetic generator), '
                       'v2 the general one. The budget is 40 ms per patch on one core (about 8,600 patches on 2 cores at the default scale).\n\n'
                       '| date | machine | load (1 min) | patches | encoder | ms/patch CPU | ms/patch wall | ratio to v1 (CPU) | note |\n'
                       '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n')
    with out.open('a') as f:
        for (e, d), (c, w) in med.items():
            ratio = c/med['handcrafted v1', d][0]
            f.write(f"| {dt.datetime.now():%Y-%m-%d %H:%M} | {cpu}, {os.cpu_count()} cores | {load:.2f} | {a.n} x {d} | {e} | {c:.1f} | {w:.1f} | "
                    f"{ratio:.2f} | old = {a.old_rev}; {a.reps} reps{'; ' + a.note if a.note else ''} |\n")
    print(f'appended to {out}')
