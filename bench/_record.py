"""Shared by the bench scripts (run them by path, `python bench/<script>.py`, so this folder is on sys.path): the machine a result ran on, and appending a result to its record file."""
import importlib.util, platform, shutil, subprocess, sys, tempfile
from pathlib import Path

def cpu_model() -> str:
    "The CPU model name from /proc/cpuinfo (platform.processor() elsewhere)."
    try:
        with open('/proc/cpuinfo') as f: return next((l.split(':', 1)[1].strip() for l in f if l.startswith('model name')), platform.processor())
    except OSError: return platform.processor()

def append_record(path, header:str, text:str) -> None:
    "Append `text` to the record file `path`, starting a new file with `header`."
    path = Path(path)
    if not path.exists(): path.write_text(header)
    with open(path, 'a') as fh: fh.write(text)

def load_old(rev:str, module:str):
    "vri_text.<module> as it was at git revision `rev`, imported as vri_text._<module>_old (so its relative imports work)."
    root = Path(__file__).resolve().parent.parent
    r = subprocess.run(['git', '-C', str(root), 'show', f'{rev}:vri_text/{module}.py'], capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"git show {rev}:vri_text/{module}.py failed: {r.stderr.strip()}")
    src = r.stdout
    tmp = Path(tempfile.mkdtemp()); path = tmp/f'_{module}_old.py'; path.write_text(src)
    spec = importlib.util.spec_from_file_location(f'vri_text._{module}_old', path)
    mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod
    try: spec.loader.exec_module(mod)
    finally: shutil.rmtree(tmp)
    return mod
