"""Make stored notebook outputs fit for the docs: machine paths become `$VRI_TEXT_HOME`/`<tmp>`/`<venv>`,
progress widgets and warning-only stderr are dropped, text lines wider than the docs column are wrapped
at word boundaries (continuations indented; only line breaks change), and PNGs wider than the docs column
are re-encoded at its width (the figure itself is the run's; only its pixel size changes).

    python .ci/scrub_outputs.py nbs/*.ipynb     # rewrites the notebooks in place

Run by `.ci/refresh-outputs` after executing the notebooks; `.ci/check_outputs.py` checks the result.
"""
import base64, io, json, os, re, sys, textwrap
from pathlib import Path

COLUMN_PX = 900          # the docs column holds about this many pixels
PHOTO_BYTES = 100_000   # a PNG larger than this is stored as JPEG when that is under 60% of its size
COLUMN_CHARS = 118       # wrap stored text lines wider than this (.ci/check_outputs.py allows 120)
HOME = os.environ.get('VRI_TEXT_HOME') or str(Path.home()/'.cache'/'vri_text')
SUBS = [(re.compile(re.escape(HOME.rstrip('/')) + r'(?=/|\b)'), '$VRI_TEXT_HOME'),
        (re.compile(r'/work/vri-default(?=/|\b)'), '$VRI_TEXT_HOME'),
        (re.compile(r'(/root|/home/[^/\s]+)/\.cache/vri_text'), '$VRI_TEXT_HOME'),
        (re.compile(r'\S*/(site-packages|dist-packages)/'), '<venv>/'),
        (re.compile(r'\S*/\.venv[-\w]*/'), '<venv>/'),
        (re.compile(r'/tmp/[\w.-]+'), '<tmp>'),
        (re.compile(r'/work/main/'), ''),
        (re.compile(r'/work/[\w.-]+'), '$VRI_TEXT_HOME'),
        (re.compile(r'(/root|/home/[^/\s]+)/'), '~/')]
WARN_LINE = re.compile(r'^.*(\w+Warning\b:|warnings\.warn\(|^\s*$).*$')

def scrub_text(t:str) -> str:
    for rx, rep in SUBS: t = rx.sub(rep, t)
    return t

def wrap_text(t:str) -> str:
    "Lines wider than the column broken at spaces (long words split), continuations indented two more spaces; tables and HTML left alone."
    out = []
    for l in t.split('\n'):
        if len(l) <= COLUMN_CHARS or l.lstrip().startswith(('<', '|')): out.append(l); continue
        ind = ' '*(len(l) - len(l.lstrip()))
        out += textwrap.wrap(l, COLUMN_CHARS, initial_indent='', subsequent_indent=ind + '  ', break_on_hyphens=False) or [l]
    return '\n'.join(out)

def fit_image(b64:str) -> tuple:
    "(mime type, base64) of a PNG fitted to the docs column: resized to its width, and stored as JPEG if large and photo-like."
    from PIL import Image
    raw = base64.b64decode(b64)
    im = Image.open(io.BytesIO(raw))
    if im.width <= COLUMN_PX and len(raw) < PHOTO_BYTES: return 'image/png', b64
    if im.width > COLUMN_PX: im = im.resize((COLUMN_PX, round(im.height*COLUMN_PX/im.width)), Image.LANCZOS)
    buf = io.BytesIO(); im.save(buf, format='PNG', optimize=True)
    jpg = io.BytesIO(); im.convert('RGB').save(jpg, format='JPEG', quality=85, optimize=True)
    if buf.tell() < PHOTO_BYTES or jpg.tell() > 0.6*buf.tell(): return 'image/png', base64.b64encode(buf.getvalue()).decode()
    return 'image/jpeg', base64.b64encode(jpg.getvalue()).decode()   # photo-like (H&E, screenshots): far smaller as JPEG

def scrub_output(out):
    "The output with paths scrubbed, or None when it should go (widgets, warning-only stderr)."
    if 'application/vnd.jupyter.widget-view+json' in out.get('data', {}): return None
    if out.get('output_type') == 'stream':
        text = ''.join(out['text'])
        if out.get('name') == 'stderr':
            keep, drop_next = [], False
            for l in text.splitlines():
                if WARN_LINE.match(l) or l.lstrip().startswith(('warnings.warn', 'from .autonotebook')): drop_next = True; continue
                if drop_next and l.startswith('  '): drop_next = False; continue   # the source line Python prints under a warning
                drop_next = False; keep.append(l)
            if not keep: return None
            text = '\n'.join(keep) + '\n'
        out['text'] = wrap_text(scrub_text(text))
    if 'data' in out:
        data = {}
        for k, v in out['data'].items():   # rebuilt in the same key order (nbdev_clean keeps it as it finds it)
            if k == 'image/png':
                mime, b = fit_image(''.join(v) if isinstance(v, list) else v); data[mime] = b
            elif k == 'text/plain' and 'text/html' not in out['data']: data[k] = wrap_text(scrub_text(''.join(v) if isinstance(v, list) else v))
            elif k.startswith('text/'): data[k] = scrub_text(''.join(v) if isinstance(v, list) else v)
            else: data[k] = v
        out['data'] = data
    return out

if __name__ == '__main__':
    for p in map(Path, sys.argv[1:]):
        nb = json.loads(p.read_text())
        nb.get('metadata', {}).pop('widgets', None)   # progress-widget state: dead on the page
        for c in nb['cells']:
            if c['cell_type'] == 'code': c['outputs'] = [o for o in (scrub_output(o) for o in c.get('outputs', [])) if o is not None]
        p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
        print(f'scrubbed {p}')
