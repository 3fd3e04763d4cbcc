"""Time the test suite: `nbdev_test --timing` (wall per notebook, run in parallel as CI runs it) and, optionally,
each notebook on its own in sorted order with the CPU time it used (user + sys of the child processes: far
less sensitive to other jobs on the machine than wall time).

    .venv/bin/python bench/bench_tests.py --record bench/tests_results.md --note "after ..."
    .venv/bin/python bench/bench_tests.py --per-notebook --record bench/tests_results.md

Each run uses a fresh $VRI_TEXT_HOME (no caches from earlier runs), like .ci/run."""
import argparse, os, platform, re, resource, subprocess, sys, tempfile, time
from pathlib import Path

def machine() -> str:
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor()) if Path('/proc/cpuinfo').exists() else platform.processor()
    return f'{cpu}, {os.cpu_count()} cores'

def env(home) -> dict:
    return {**os.environ, 'VRI_TEXT_HOME': home, 'MPLBACKEND': 'Agg', 'VRI_TEXT_PROGRESS': '0', 'HF_HUB_OFFLINE': '1'}

def suite(bin_dir:Path) -> tuple:
    "Wall time of the whole suite and nbdev's per-notebook timing table."
    with tempfile.TemporaryDirectory() as home:
        t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run([str(bin_dir/'nbdev_test'), '--timing'], env=env(home), capture_output=True, text=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    per = dict(re.findall(r'^(\S+\.ipynb): (\d+) secs', p.stdout + p.stderr, re.M))
    return time.perf_counter() - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), p.returncode, per

def per_notebook(bin_dir:Path) -> list:
    "Each notebook alone, in sorted order, sharing one fresh home (as the suite shares it): wall and CPU seconds."
    out = []
    with tempfile.TemporaryDirectory() as home:
        for nb in sorted(Path('nbs').glob('*.ipynb')):
            t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            p = subprocess.run([str(bin_dir/'nbdev_test'), '--path', str(nb)], env=env(home), capture_output=True, text=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            out.append((nb.name, time.perf_counter() - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), p.returncode))
            print(f'{nb.name:28s} wall {out[-1][1]:6.1f} s  cpu {out[-1][2]:6.1f} s  rc {p.returncode}', flush=True)
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bin', default='.venv/bin'); ap.add_argument('--record', default=None); ap.add_argument('--note', default='')
    ap.add_argument('--per-notebook', action='store_true', help='each notebook alone, with its CPU time')
    a = ap.parse_args()
    stamp, load = time.strftime('%Y-%m-%d %H:%M'), os.getloadavg()[0]
    lines = []
    if a.per_notebook:
        rows = per_notebook(Path(a.bin))
        lines.append(f"\n### {stamp}, each notebook alone ({machine()}, load {load:.2f} at the start){' — ' + a.note if a.note else ''}\n")
        lines.append('| notebook | wall s | CPU s | passed |\n| --- | --- | --- | --- |')
        lines += [f'| {n} | {w:.1f} | {c:.1f} | {"yes" if rc == 0 else "no"} |' for n, w, c, rc in rows]
        lines.append(f"| **all** | {sum(r[1] for r in rows):.0f} | {sum(r[2] for r in rows):.0f} | {sum(r[3] == 0 for r in rows)}/{len(rows)} |")
    else:
        wall, cpu, rc, per = suite(Path(a.bin))
        lines.append(f"\n### {stamp}, `nbdev_test --timing` ({machine()}, load {load:.2f} at the start){' — ' + a.note if a.note else ''}\n")
        lines.append(f"whole suite: **{wall:.0f} s wall**, {cpu:.0f} s CPU (user + sys), exit status {rc}\n")
        lines.append('| notebook | s (nbdev --timing) |\n| --- | --- |')
        lines += [f'| {n} | {s} |' for n, s in sorted(per.items(), key=lambda kv: -int(kv[1]))]
    text = '\n'.join(lines)
    print(text)
    if a.record:
        p = Path(a.record)
        head = "# Test suite timings\n\nWritten by `bench/bench_tests.py`. The budget (issue 25): `nbdev_test` under 150 s on 2 idle cores.\n" if not p.exists() else ''
        p.write_text((p.read_text() if p.exists() else head) + text + '\n')
