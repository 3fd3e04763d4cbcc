"""Benchmark (issue 25 item 4): a cohort's patch stores and handcrafted features, made the two-step way (cut every
store with `extract_cohort_patches`, reader threads = cores; then `extract_features`, DataLoader workers = cores)
against `encode_while_cutting` (stores cut in this process while worker processes encode each finished one), as
`prepare_run` now does; interleaved repetitions on the same cohort, into fresh folders each time.

    .venv/bin/python bench/bench_overlap.py COHORT_DIR [--samples 40] [--reps 2] [--note TEXT]

COHORT_DIR is a generated synthetic cohort (e.g. $VRI_TEXT_HOME/demo-default/cohort). Wall time and the CPU time of
this process and its children; "identical": the feature files of the two ways hold the same bytes. The kernels are
compiled before the first repetition (both ways inherit them). Appends rows to bench/overlap_results.md. Not a test."""
import os
for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[_v] = '1'
os.environ.setdefault('VRI_TEXT_PROGRESS', '0')
import argparse, datetime as dt, resource, shutil, statistics, tempfile, time
from pathlib import Path
from _record import append_record, cpu_model

def timed(fn):
    "(wall s, cpu s of this process and its children) of fn()."
    r0, c0, w = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    fn()
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(b, k) - getattr(a, k) for a, b in ((r0, r1), (c0, c1)) for k in ('ru_utime', 'ru_stime'))
    return time.perf_counter() - w, cpu

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('cohort', help='a generated synthetic cohort folder')
    ap.add_argument('--samples', type=int, default=40)
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--note', default='')
    ap.add_argument('--out', default=str(Path(__file__).with_name('overlap_results.md')))
    a = ap.parse_args()
    from vri_text.features import encode_while_cutting, extract_features, load_features, warm_encoder
    from vri_text.patching import PatchConfig, extract_cohort_patches
    from vri_text.synthetic import load_cohort
    samples = list(load_cohort(a.cohort))[:a.samples]
    cores = len(os.sched_getaffinity(0))
    warm_encoder('handcrafted')
    pc = PatchConfig()
    ways = {'two-step': lambda d: (extract_cohort_patches(samples, d/'patches', pc.replace(workers=min(cores, 4))),
                                   extract_features(d/'patches', 'handcrafted', out_dir=d/'features', num_workers=min(cores, 8), show_progress=False)),
            'encode while cutting': lambda d: (encode_while_cutting(samples, d/'patches', 'handcrafted', d/'features', pc),
                                               extract_features(d/'patches', 'handcrafted', out_dir=d/'features', show_progress=False))}
    tmp, res, load0 = Path(tempfile.mkdtemp()), {k: [] for k in ways}, os.getloadavg()[0]
    same = True
    try:
        for rep in range(a.reps):
            for k in (list(ways) if rep % 2 == 0 else list(ways)[::-1]):
                d = tmp/f'{rep}-{k}'.replace(' ', '_')
                res[k].append(timed(lambda: ways[k](d)))
                print(f'rep {rep} {k}: {res[k][-1][0]:.1f} s wall, {res[k][-1][1]:.1f} s CPU', flush=True)
            a_, b_ = (tmp/f'{rep}-{k}'.replace(' ', '_')/'features'/'handcrafted_v2' for k in ways)
            same &= all(load_features(a_, s.sample_id)[0].tobytes() == load_features(b_, s.sample_id)[0].tobytes() for s in samples)
            for k in ways: shutil.rmtree(tmp/f'{rep}-{k}'.replace(' ', '_'))
    finally: shutil.rmtree(tmp, ignore_errors=True)
    load1 = os.getloadavg()[0]
    n = sum(s.n_spots for s in samples)
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in res.items()}
    base = med['two-step'][0]
    rows = ''.join(f"| {dt.datetime.now():%Y-%m-%d %H:%M} | {cpu_model()}, {cores} cores | {load0:.2f} -> {load1:.2f} | {len(samples)} samples, {n} spots | {k} | "
                   f"{w:.1f} | {c:.1f} | {base/w:.2f} | {'yes' if same else 'NO'} | {a.reps} reps{'; ' + a.note if a.note else ''} |\n" for k, (w, c) in med.items())
    print(rows)
    append_record(a.out, '# Cutting and encoding a cohort: two steps, or encoding while cutting\n\nWritten by `bench/bench_overlap.py`: '
                  'the synthetic cohort\'s patch stores and handcrafted features made into fresh folders, the two-step way (cut every '
                  'store, reader threads = cores; then encode, DataLoader workers = cores) and with `encode_while_cutting` (as '
                  '`prepare_run` does for numpy encoders); medians over interleaved repetitions; wall time, and the CPU time of the '
                  'process and its children; "identical": the two ways\' feature files hold the same bytes.\n\n'
                  '| date | machine | load (1 min) | cohort | way | wall s | CPU s | speed-up (wall) | identical | note |\n'
                  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n', rows)
    print(f'appended to {a.out}')
