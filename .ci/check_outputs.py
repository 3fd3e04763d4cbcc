"""Check the outputs committed with the notebooks: no path of the machine they ran on, no progress
widget (in outputs or the notebook's metadata), no warning text, no tiny-scale parameters cell, no log
walls (a few summary lines per notebook at most), no line wider than the page's column, figures
small enough for the docs, and stored outputs under 3 MB in all.

    python .ci/check_outputs.py [nbs/*.ipynb]      # exits 1 and lists every problem

`.ci/refresh-outputs` makes outputs that pass; `.ci/run` runs this check.
"""
import base64, json, re, sys
from pathlib import Path

PATHS = re.compile(r'(/work/|/root/|/home/[^/\s]+/|/tmp/|/private/var/|site-packages|\.venv[-\w]*/|[A-Z]:\\\\Users)')
WARN = re.compile(r'\b\w*Warning\b:')
TINY = re.compile(r"Scale\(name='tiny'")
MAX_PNG, MAX_TOTAL = 300_000, 3_000_000
LOG = re.compile(r'^\d\d:\d\d:\d\d vri_text\.[\w.]+ (INFO|NOTE|WARNING|DEBUG)', re.M)
MAX_LOG_LINES = 5 # per notebook: stages say one summary line each; detail goes to the run's vri_text.log
COLUMN_CHARS = 120 # a stored text line wider than this scrolls sideways on the docs page

def text_of(out) -> str:
    if out.get('output_type') == 'stream': return ''.join(out.get('text', ''))
    if out.get('output_type') == 'error': return '\n'.join(out.get('traceback', []))
    return '\n'.join(''.join(v) if isinstance(v, list) else str(v) for k, v in out.get('data', {}).items() if k.startswith('text/'))

def check(path:Path, book:bool=True) -> tuple:
    nb, probs, png_total, n_log = json.loads(path.read_text()), [], 0, 0
    if book and 'widgets' in nb.get('metadata', {}): probs.append(f'{path.name}: progress-widget state in the notebook metadata (strip it: .ci/scrub_outputs.py)')
    png_total += len(json.dumps([c.get('outputs', []) for c in nb['cells']])) - sum(len(''.join(o.get('data', {}).get(m, ''))) for c in nb['cells'] for o in c.get('outputs', []) for m in ('image/png', 'image/jpeg'))
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'code': continue
        for out in c.get('outputs', []):
            where = f'{path.name} cell {i} ({c.get("id")})'
            t = text_of(out)
            if (m := PATHS.search(t)): probs.append(f'{where}: a machine path ({m.group(0)!r}) in the output')
            if out.get('output_type') == 'stream' and out.get('name') == 'stderr' and WARN.search(t): probs.append(f'{where}: warning text in stderr')
            n_log += len(LOG.findall(t))
            wide = [l for l in t.splitlines() if len(l) > COLUMN_CHARS and not l.lstrip().startswith(('<', '|'))] if out.get('output_type') == 'stream' or 'text/plain' in out.get('data', {}) and 'text/html' not in out.get('data', {}) else []
            if wide and book: probs.append(f'{where}: {len(wide)} output lines wider than the column ({len(wide[0])} chars: {wide[0][:60]!r}...): wrap them (Markdown) or format the table')
            if TINY.search(t): probs.append(f'{where}: output of the tiny scale (commit default-scale outputs: .ci/refresh-outputs)')
            if out.get('output_type') == 'error': probs.append(f'{where}: an error output')
            data = out.get('data', {})
            if 'application/vnd.jupyter.widget-view+json' in data: probs.append(f'{where}: a progress/widget output (dead in the docs)')
            for mime in ('image/png', 'image/jpeg'):
                if mime not in data: continue
                n = len(base64.b64decode(''.join(data[mime])))
                png_total += n
                if n > MAX_PNG: probs.append(f'{where}: a {mime} figure of {n/1e3:.0f} kB (aim under {MAX_PNG/1e3:.0f} kB: smaller figsize or dpi)')
    if book and n_log > MAX_LOG_LINES: probs.append(f'{path.name}: {n_log} log lines in stored outputs (at most {MAX_LOG_LINES}: a page shows findings, not logs)')
    return probs, png_total

if __name__ == '__main__':
    book = '--book' in sys.argv   # the book's reading rules too (issue 28): no log walls, no wide lines, no widget state, 3 MB in all
    paths = [Path(p) for p in sys.argv[1:] if p != '--book'] or sorted(Path('nbs').glob('*.ipynb'))
    allp, total = [], 0
    for p in paths:
        pr, n = check(p, book); allp += pr; total += n
    if total > (MAX_TOTAL if book else 4_000_000): allp.append(f'stored outputs total {total/1e6:.1f} MB (aim under {MAX_TOTAL/1e6:.0f} MB)')
    print('\n'.join(allp) if allp else f'outputs clean: {len(paths)} notebooks, stored outputs {total/1e6:.2f} MB')
    sys.exit(1 if allp else 0)
