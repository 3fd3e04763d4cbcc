"""Shared by the bench scripts (run them by path, `python bench/<script>.py`, so this folder is on sys.path): the machine a result ran on, and appending a result to its record file."""
import platform
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
