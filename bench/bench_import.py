"""Benchmark: how long `import vri_text` (and all its modules) takes in a fresh interpreter, side by side
with a bare interpreter and with `import numpy`, interleaved; plus which heavy packages came along.

    .venv/bin/python bench/bench_import.py [--reps 7] [--note TEXT]

Appends a row to bench/import_results.md. The test in nbs/00_core checks (deterministically) that no
heavy package is imported; wall time is recorded here, never asserted (these 2 cores are shared)."""
import argparse, datetime as dt, os, platform, statistics, subprocess, sys, time
from pathlib import Path

SNIPPETS = {
    'bare interpreter': 'pass',
    'import numpy': 'import numpy',
    'import vri_text': 'import vri_text',
    'every vri_text module': "import importlib, pkgutil, vri_text\nfor m in pkgutil.iter_modules(vri_text.__path__): importlib.import_module('vri_text.' + m.name)",
}
HEAVY = ('torch', 'timm', 'transformers', 'sentence_transformers', 'scanpy', 'squidpy', 'anndata', 'openslide', 'h5py', 'matplotlib', 'pandas', 'scipy')

def once(code:str) -> float:
    t = time.perf_counter(); subprocess.run([sys.executable, '-c', code], check=True); return time.perf_counter() - t

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--reps', type=int, default=7); ap.add_argument('--note', default='')
    ap.add_argument('--out', default=str(Path(__file__).with_name('import_results.md')))
    a = ap.parse_args()
    times = {k: [] for k in SNIPPETS}
    for _ in range(a.reps):                      # interleaved, so load changes hit every row alike
        for k, code in SNIPPETS.items(): times[k].append(once(code))
    med = {k: statistics.median(v) for k, v in times.items()}
    heavy = subprocess.run([sys.executable, '-c', SNIPPETS['every vri_text module'] + f"\nimport sys; print(' '.join(h for h in {HEAVY!r} if h in sys.modules))"],
                           capture_output=True, text=True, check=True).stdout.strip() or 'none'
    for k, v in med.items(): print(f'{k:>24}: median {v*1e3:7.1f} ms over {a.reps}')
    base = med['import numpy']
    print(f'import vri_text / import numpy = {med["import vri_text"]/base:.2f}; every module / import numpy = {med["every vri_text module"]/base:.2f}; heavy packages imported: {heavy}')
    out = Path(a.out)
    if not out.exists():
        out.write_text('# Import time of vri_text\n\nWritten by `bench/bench_import.py`: medians over interleaved fresh interpreters, '
                       'as ratios to `import numpy` measured in the same run.\n\n'
                       '| date | machine | load (1 min) | bare ms | numpy ms | vri_text ms | all modules ms | vri_text / numpy | all / numpy | heavy imported | note |\n'
                       '|---|---|---|---|---|---|---|---|---|---|---|\n')
    with out.open('a') as f:
        f.write(f"| {dt.date.today().isoformat()} | {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} | {os.getloadavg()[0]:.1f} | "
                f"{med['bare interpreter']*1e3:.0f} | {base*1e3:.0f} | {med['import vri_text']*1e3:.0f} | {med['every vri_text module']*1e3:.0f} | "
                f"{med['import vri_text']/base:.2f} | {med['every vri_text module']/base:.2f} | {heavy} | {a.note} |\n")
    print(f'appended to {out}')
