"""Benchmark: seconds per synthetic sample at the default scale (grid 16, 2,000 genes), the generator of a git
revision that drew the ceiling's Monte-Carlo targets while generating, against today's, which stores their seed
and draws them when a ceiling first needs them (`synthetic.truth_mc`), side by side and interleaved.

    .venv/bin/python bench/bench_cohort.py [--samples 0 1 2 3] [--reps 2] [--cpu 0] [--old-rev e45008d] [--note TEXT]

One process pinned to one CPU with one BLAS thread (as each of `make_cohort`'s worker processes is); CPU time
(process_time) is the figure to compare, wall time beside it. It also checks that the two generators wrote the
same slide, counts and expected counts, and that `truth_mc` draws exactly the targets the old generator stored.
Appends rows to bench/cohort_results.md. Not a test: nbdev_test never runs it."""
import os
for _v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[_v] = '1'
import argparse, datetime as dt, filecmp, shutil, statistics, tempfile, time
from pathlib import Path
import numpy as np
from _record import append_record, cpu_model, load_old


def timed(fn, *args):
    "(cpu s, wall s) of one call."
    c, w = time.process_time(), time.perf_counter()
    fn(*args)
    return time.process_time() - c, time.perf_counter() - w

def same_sample(a:Path, b:Path, sid:str) -> bool:
    "The two generators wrote the same slide, Space Ranger files and truth arrays (the Monte-Carlo targets aside)."
    sa, sb = sorted((a/sid).rglob('*')), sorted((b/sid).rglob('*'))
    if [p.relative_to(a) for p in sa] != [p.relative_to(b) for p in sb]: return False
    if not all(filecmp.cmp(x, y, shallow=False) for x, y in zip(sa, sb) if x.is_file()): return False
    za, zb = np.load(a/'truth'/f'{sid}.npz'), np.load(b/'truth'/f'{sid}.npz')
    return all(np.array_equal(za[k], zb[k], equal_nan=za[k].dtype.kind == 'f') for k in za.files if k != 'mc_libsize_log1p')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--samples', type=int, nargs='+', default=[0, 1, 2, 3], help='sample indices to generate (2 is scanned at 40x)')
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--cpu', type=int, default=0, help='the CPU to pin to')
    ap.add_argument('--old-rev', default='e45008d', help='git revision whose generator drew the Monte-Carlo targets at generation')
    ap.add_argument('--note', default='')
    ap.add_argument('--out', default=str(Path(__file__).with_name('cohort_results.md')))
    a = ap.parse_args()
    os.sched_setaffinity(0, {a.cpu})
    from vri_text import synthetic as S
    old = load_old(a.old_rev, 'synthetic')
    cfg = S.CohortSettings(n_samples=40)
    genes = S.make_genes(cfg.n_genes, cfg.n_svg, cfg.seed)
    pids = S._patients(cfg.n_samples)
    tmp = Path(tempfile.mkdtemp())
    roots = {'old': tmp/'old', 'new': tmp/'new'}
    for r in roots.values(): r.mkdir(); genes.to_csv(r/'genes.csv', index=False)
    gen = {'old': old._one_sample, 'new': S._one_sample}
    res = {k: [] for k in ('old', 'new', 'new + truth_mc')}
    try:
        for rep in range(a.reps):   # interleaved, so load changes hit both alike
            for i in a.samples:
                for k in ('old', 'new'):
                    res[k].append(timed(gen[k], i, roots[k], cfg, genes, pids[i]))
                sid = f'SYN{i:02d}'
                (roots['new']/'truth'/f'{sid}.mc.npz').unlink(missing_ok=True)
                c, w = timed(S.truth_mc, roots['new'], sid)
                res['new + truth_mc'].append((res['new'][-1][0] + c, res['new'][-1][1] + w))
        checks = []
        for i in a.samples:
            sid = f'SYN{i:02d}'
            same = same_sample(roots['old'], roots['new'], sid)
            mc_same = np.array_equal(np.load(roots['old']/'truth'/f'{sid}.npz')['mc_libsize_log1p'].astype(np.float32), S.truth_mc(roots['new'], sid))
            checks.append(same and mc_same)
            print(f'{sid}: files identical {same}, truth_mc identical to the stored targets {mc_same}')
    finally: shutil.rmtree(tmp)
    load = os.getloadavg()[0]
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in res.items()}
    for k, (c, w) in med.items(): print(f'{k:>15}: {c:5.2f} s/sample CPU, {w:5.2f} s wall, {med["old"][0]/c:.2f}x the old generator (CPU)')
    rows = ''.join(f"| {dt.datetime.now():%Y-%m-%d %H:%M} | {cpu_model()}, {os.cpu_count()} cores | {load:.2f} | {len(a.samples)} samples x {a.reps} | "
                   f"{k} | {c:.2f} | {w:.2f} | {med['old'][0]/c:.2f} | {'yes' if all(checks) else 'NO'} | old = {a.old_rev}{'; ' + a.note if a.note else ''} |\n"
                   for k, (c, w) in med.items())
    append_record(a.out, '# Synthetic cohort: seconds per sample on one core\n\nWritten by `bench/bench_cohort.py`: one process pinned '
                  'to one CPU, one BLAS thread; medians over interleaved repetitions. `old` drew the ceiling\'s 48 Monte-Carlo '
                  'draws of the counts while generating; `new` stores their seed, and `new + truth_mc` adds the cost of drawing them '
                  'on first use, which only the samples a ceiling scores pay (the main job: its 5 test samples). "identical": '
                  'both wrote the same files and `truth_mc` returned the targets the old generator stored.\n\n'
                  '| date | machine | load (1 min) | samples | generator | s/sample CPU | s/sample wall | speed-up vs old (CPU) | identical | note |\n'
                  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n', rows)
    print(f'appended to {a.out}')
