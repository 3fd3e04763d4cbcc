"""Benchmark (issue 25): the handcrafted encoder and the synthetic generator of a git revision before the speed-ups
against today's, side by side on the same inputs, interleaved, pinned to one CPU with one BLAS thread (as a
worker process of the main job runs them), and checked bit for bit.

    .venv/bin/python bench/bench_speedup.py [--old-rev 6d8dcb9] [--patches 256] [--samples 0 1 2 3] [--reps 3] [--cpu 0] [--note TEXT]

Encoder: `handcrafted_features` in batches of 64 on patches of the default-scale synthetic cohort (the samples
generated here), of the real slide CMU-1-Small-Region.svs (read with openslide) and `synthetic_he` patches, plus a
blank and an all-dark patch; ms per patch of CPU time (process_time), wall beside it; "identical": the float32
feature arrays of the two revisions are equal byte for byte. The first call (numba compiling its kernels, or loading
them from the cache) is timed apart. Generator: `synthetic._one_sample` at the default scale, seconds per sample;
"identical": every file both wrote (slide, Space Ranger outputs, truth arrays) is the same.
Appends rows to bench/speedup_results.md. Not a test: nbdev_test never runs it."""
import os
for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMBA_NUM_THREADS'): os.environ[_v] = '1'
import argparse, datetime as dt, shutil, statistics, tempfile, time
from pathlib import Path
import numpy as np
from _record import append_record, cpu_model, load_old
from bench_cohort import same_sample

ROOT = Path(__file__).resolve().parent.parent
SLIDE = ROOT.parent/'shared'/'data'/'CMU-1-Small-Region.svs'

def real_patches(n:int, seed:int=0) -> np.ndarray:
    "`n` 224 px level-0 patches of CMU-1 with at least half tissue, at random positions."
    import openslide
    rng, out = np.random.default_rng(seed), []
    with openslide.OpenSlide(str(SLIDE)) as sl:
        w, h = sl.dimensions
        while len(out) < n:
            x, y = int(rng.integers(0, w - 224)), int(rng.integers(0, h - 224))
            p = np.asarray(sl.read_region((x, y), 0, (224, 224)).convert('RGB'))
            if (p.min(-1) < 204).mean() >= 0.5: out.append(p)
    return np.stack(out)

def timed(fn, *args):
    "(result, cpu s, wall s) of one call."
    c, w = time.process_time(), time.perf_counter()
    r = fn(*args)
    return r, time.process_time() - c, time.perf_counter() - w

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--old-rev', default='6d8dcb9', help='git revision before the speed-ups')
    ap.add_argument('--patches', type=int, default=256, help='patches per data set (cohort, CMU-1, synthetic_he)')
    ap.add_argument('--samples', type=int, nargs='+', default=[0, 1, 2, 3], help='generator samples (2 is scanned at 40x)')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--cpu', type=int, default=0, help='the CPU to pin to')
    ap.add_argument('--note', default='')
    ap.add_argument('--out', default=str(Path(__file__).with_name('speedup_results.md')))
    a = ap.parse_args()
    os.sched_setaffinity(0, {a.cpu})
    from vri_text import features as F, synthetic as S
    from vri_text.patching import PatchConfig, extract_cohort_patches
    import h5py
    oldF, oldS = load_old(a.old_rev, 'features'), load_old(a.old_rev, 'synthetic')
    tmp = Path(tempfile.mkdtemp())
    load0 = os.getloadavg()[0]
    rows = []
    try:
        # --- the generator: old and new write the same samples, interleaved
        cfg = S.CohortSettings(n_samples=40)
        genes = S.make_genes(cfg.n_genes, cfg.n_svg, cfg.seed, stress_sd=cfg.stress_sd)
        pids = S._patients(cfg.n_samples)
        roots = {'old': tmp/'old', 'new': tmp/'new'}
        for r in roots.values(): r.mkdir(); genes.to_csv(r/'genes.csv', index=False)
        gen = {'old': oldS._one_sample, 'new': S._one_sample}
        for k in gen: gen[k](a.samples[0], roots[k], cfg, genes, pids[a.samples[0]])   # imports, first-call costs
        gt = {k: [] for k in gen}
        for rep in range(a.reps):
            for i in a.samples:
                for k in (('old', 'new') if rep % 2 == 0 else ('new', 'old')): gt[k].append(timed(gen[k], i, roots[k], cfg, genes, pids[i])[1:])
        same_gen = all(same_sample(roots['old'], roots['new'], f'SYN{i:02d}') for i in a.samples)
        # --- the encoder, on patches of those samples (new generator's), CMU-1 and synthetic_he
        man = tmp/'new'/'manifest.csv'
        import pandas as pd
        pd.DataFrame([dict(sample_id=f'SYN{i:02d}', patient_id=pids[i], path=f'SYN{i:02d}/outs', format='visium') for i in a.samples]).to_csv(man, index=False)
        from vri_text.data import Cohort
        extract_cohort_patches(Cohort.from_csv(man), tmp/'patches', PatchConfig())
        coh = np.concatenate([h5py.File(p)['img'][:] for p in sorted((tmp/'patches').glob('*.h5'))])[:a.patches]
        data = {'cohort': coh, 'synthetic_he': F.synthetic_he(a.patches, seed=7)}
        if SLIDE.exists(): data['CMU-1'] = real_patches(a.patches)
        else: print(f'{SLIDE} not found: real-slide patches skipped')
        edge = np.stack([np.full((224, 224, 3), 255, np.uint8), np.zeros((224, 224, 3), np.uint8)])
        enc = {'old': oldF.handcrafted_features, 'new': F.handcrafted_features}
        first = {k: timed(f, data['synthetic_he'][:2])[1] for k, f in enc.items()}   # imports; numba compiles or loads its cache
        et = {(k, d): [] for k in enc for d in data}
        same_enc = enc['old'](edge).tobytes() == enc['new'](edge).tobytes()
        for rep in range(a.reps):
            for d, x in data.items():
                out = {}
                for k in (('old', 'new') if rep % 2 == 0 else ('new', 'old')):
                    res, c, w = zip(*[timed(enc[k], x[i:i + 64]) for i in range(0, len(x), 64)])
                    out[k] = np.concatenate(res); et[k, d].append((sum(c)*1e3/len(x), sum(w)*1e3/len(x)))
                same_enc &= out['old'].tobytes() == out['new'].tobytes()
    finally: shutil.rmtree(tmp)
    load1 = os.getloadavg()[0]
    med = lambda v: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v))
    cpu, stamp, rev = f'{cpu_model()}, {os.cpu_count()} cores', f'{dt.datetime.now():%Y-%m-%d %H:%M}', f'old = {a.old_rev}'
    note = f"{a.reps} reps{'; ' + a.note if a.note else ''}"
    for d in data:
        (co, wo), (cn, wn) = med(et['old', d]), med(et['new', d])
        print(f'encoder on {d:>12}: old {co:6.1f} ms/patch CPU ({wo:6.1f} wall), new {cn:6.1f} ({wn:6.1f}): {co/cn:.2f}x')
        rows.append(f"| {stamp} | {cpu} | {load0:.2f} -> {load1:.2f} | handcrafted v2 | {len(data[d])} patches, {d} | {co:.1f} ms/patch ({wo:.1f}) | "
                    f"{cn:.1f} ms/patch ({wn:.1f}) | {co/cn:.2f} | {'yes' if same_enc else 'NO'} | {rev}; first call {first['old']:.1f} s old, {first['new']:.1f} s new; {note} |\n")
    (co, wo), (cn, wn) = med(gt['old']), med(gt['new'])
    print(f'generator: old {co:.2f} s/sample CPU ({wo:.2f} wall), new {cn:.2f} ({wn:.2f}): {co/cn:.2f}x; files identical: {same_gen}; encoder identical: {same_enc}')
    rows.append(f"| {stamp} | {cpu} | {load0:.2f} -> {load1:.2f} | generator (`_one_sample`) | samples {' '.join(map(str, a.samples))}, default scale | "
                f"{co:.2f} s/sample ({wo:.2f}) | {cn:.2f} s/sample ({wn:.2f}) | {co/cn:.2f} | {'yes' if same_gen else 'NO'} | {rev}; {note} |\n")
    append_record(a.out, '# Issue 25: the handcrafted encoder and the generator, before and after\n\nWritten by `bench/bench_speedup.py`: '
                  'one process pinned to one CPU, one BLAS thread; medians over interleaved repetitions on the same inputs; CPU time '
                  '(process_time) with wall time in brackets. "old" is the named git revision (scipy/scikit-image segmentation and LBP, '
                  'the generator painting whole images at once); "identical": the encoders\' float32 features are equal byte for byte '
                  '(every data set and repetition, and a blank and an all-dark patch), the generators wrote the same files.\n\n'
                  '| date | machine | load (1 min) | what | inputs | old | new | speed-up (CPU) | identical | note |\n'
                  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n', ''.join(rows))
    print(f'appended to {a.out}')
