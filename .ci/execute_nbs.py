"""Execute notebooks in place at a chosen scale, so they are committed with the outputs of a real run.

    VRI_TEXT_HOME=~/vri-default .venv/bin/python .ci/execute_nbs.py --scale default nbs/01a_synthetic.ipynb ...

Cells flagged `#| hub` or `#| gpu` (they need weights or a GPU) and `#| eval: false` cells are not run
here and keep no output; `#| slow` cells run. Notebooks are executed one after another in their
order given, each in a fresh kernel from the nbs/ folder, then cleaned with nbdev_clean.
"""
import argparse, os, re, subprocess, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

SKIP = re.compile(r'^\s*#\|\s*(hub|gpu|eval:\s*false)\b', re.M)

def execute(path:Path, timeout:int) -> float:
    nb = nbformat.read(path, as_version=4)
    skipped = {}
    for i, c in enumerate(nb.cells):
        if c.cell_type == 'code' and SKIP.search(c.source):
            skipped[i] = c.source; c.source = ''
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    for i, src in skipped.items(): nb.cells[i].source = src; nb.cells[i].outputs = []; nb.cells[i].execution_count = None
    nbformat.write(nb, path)
    return time.perf_counter() - t0

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='+')
    ap.add_argument('--scale', default='default')
    ap.add_argument('--timeout', type=int, default=7200, help='seconds per cell')
    a = ap.parse_args()
    os.environ['VRI_TEXT_SCALE'] = a.scale
    os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    for p in (Path(n) for n in a.notebooks):  # in the order given (pipeline order)
        print(f'{p}: {execute(p, a.timeout):.0f} s', flush=True)
    subprocess.run([str(Path(sys.executable).parent/'nbdev_clean')], check=True)
