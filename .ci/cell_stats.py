"""Export-cell statistics of the notebooks (issue 25's aims: median under 20 lines, none over 80).

Counts the lines of every `#| export` cell (the directive line excluded) and prints the count,
median, 90th percentile, maximum, the cells over the limit, and the module sizes. Exits 1 when
`--check` is given and a cell is over `--max` lines or the median is over `--median` lines."""
import argparse, json, statistics, sys
from pathlib import Path

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument('--nbs', default='nbs'); ap.add_argument('--max', type=int, default=80); ap.add_argument('--median', type=float, default=20)
ap.add_argument('--check', action='store_true', help='exit 1 when a cell or the median exceeds the aims')
ap.add_argument('--top', type=int, default=10, help='how many of the longest cells to list')
a = ap.parse_args()
cells = []
for nb in sorted(Path(a.nbs).glob('*.ipynb')):
    for c in json.loads(nb.read_text())['cells']:
        if c['cell_type'] != 'code': continue
        lines = ''.join(c['source']).splitlines()
        if not any(l.strip().startswith('#|') and 'export' in l.split('#|', 1)[1].split() for l in lines): continue
        body = [l for l in lines if not l.strip().startswith('#|')]
        first = next((l for l in body if l.strip().startswith(('def ', 'class ', '@'))), body[0] if body else '')
        cells.append((len(body), nb.name, c.get('id'), first.strip()[:70]))
n = [c[0] for c in cells]
q = statistics.quantiles(n, n=10)[-1] if len(n) > 1 else n[0]
over = [c for c in cells if c[0] > a.max]
print(f"{len(cells)} export cells: median {statistics.median(n):.0f} lines, 90th percentile {q:.0f}, max {max(n)}; "
      f"{len(over)} over {a.max} lines, {sum(x > 60 for x in n)} over 60")
for c in sorted(cells, reverse=True)[:a.top]: print(f"  {c[0]:4d}  {c[1]} [{c[2]}] {c[3]}")
mods = sorted(((len(p.read_text().splitlines()), p.name) for p in Path('vri_text').glob('*.py') if not p.name.startswith('_')), reverse=True)
print('largest modules: ' + ', '.join(f'{m} {k}' for k, m in mods[:6]))
if a.check and (over or statistics.median(n) > a.median): sys.exit(1)
