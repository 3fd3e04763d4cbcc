"""Check the outputs committed with the notebooks: no path of the machine they ran on, no progress
widget, no warning text, no tiny-scale parameters cell, figures small enough for the docs.

    python .ci/check_outputs.py [nbs/*.ipynb]      # exits 1 and lists every problem

`.ci/refresh-outputs` makes outputs that pass; `.ci/run` runs this check.
"""
import base64, json, re, sys
from pathlib import Path

PATHS = re.compile(r'(/work/|/root/|/home/[^/\s]+/|/tmp/|/private/var/|site-packages|\.venv[-\w]*/|[A-Z]:\\\\Users)')
WARN = re.compile(r'\b\w*Warning\b:')
TINY = re.compile(r"Scale\(name='tiny'")
MAX_PNG, MAX_TOTAL = 300_000, 4_000_000

def text_of(out) -> str:
    if out.get('output_type') == 'stream': return ''.join(out.get('text', ''))
    if out.get('output_type') == 'error': return '\n'.join(out.get('traceback', []))
    return '\n'.join(''.join(v) if isinstance(v, list) else str(v) for k, v in out.get('data', {}).items() if k.startswith('text/'))

def check(path:Path) -> tuple:
    nb, probs, png_total = json.loads(path.read_text()), [], 0
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'code': continue
        for out in c.get('outputs', []):
            where = f'{path.name} cell {i} ({c.get("id")})'
            t = text_of(out)
            if (m := PATHS.search(t)): probs.append(f'{where}: a machine path ({m.group(0)!r}) in the output')
            if out.get('output_type') == 'stream' and out.get('name') == 'stderr' and WARN.search(t): probs.append(f'{where}: warning text in stderr')
            if TINY.search(t): probs.append(f'{where}: output of the tiny scale (commit default-scale outputs: .ci/refresh-outputs)')
            if out.get('output_type') == 'error': probs.append(f'{where}: an error output')
            data = out.get('data', {})
            if 'application/vnd.jupyter.widget-view+json' in data: probs.append(f'{where}: a progress/widget output (dead in the docs)')
            for mime in ('image/png', 'image/jpeg'):
                if mime not in data: continue
                n = len(base64.b64decode(''.join(data[mime])))
                png_total += n
                if n > MAX_PNG: probs.append(f'{where}: a {mime} figure of {n/1e3:.0f} kB (aim under {MAX_PNG/1e3:.0f} kB: smaller figsize or dpi)')
    return probs, png_total

if __name__ == '__main__':
    paths = [Path(p) for p in sys.argv[1:]] or sorted(Path('nbs').glob('*.ipynb'))
    allp, total = [], 0
    for p in paths:
        pr, n = check(p); allp += pr; total += n
    if total > MAX_TOTAL: allp.append(f'figures total {total/1e6:.1f} MB (aim under {MAX_TOTAL/1e6:.0f} MB)')
    print('\n'.join(allp) if allp else f'outputs clean: {len(paths)} notebooks, figures {total/1e6:.2f} MB')
    sys.exit(1 if allp else 0)
