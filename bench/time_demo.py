"""Time the README's main job, `vri_text demo` at the default scale, from an empty `$VRI_TEXT_HOME`: the total, each
stage (read off the files the run writes: cohort, split and genes, patches, features, the eight seeds, the spatial
map) and the CPU time of the whole process tree.

    python bench/time_demo.py --vri-text /tmp/speed/venv/bin/vri_text [--home DIR] [--note TEXT]

`--vri-text` is the command to time (a fresh venv's `vri_text`, say); `--home` an empty folder (default: a new
temporary one, removed afterwards unless `--keep`). The CPU time is the children's rusage (the demo and every worker
process it waited for); utilisation is that over wall time x cores. The machine is shared: the load averages before
and after are recorded with the row. Appends a row to bench/demo_results.md. Not a test: nbdev_test never runs it."""
import argparse, datetime as dt, json, os, resource, shutil, subprocess, tempfile, threading, time
from pathlib import Path
from _record import append_record, cpu_model

TICK = os.sysconf('SC_CLK_TCK')

def tree_cpu(pid:int) -> float:
    "CPU seconds of process `pid`, its live descendants and the children it has reaped (from /proc)."
    kids, total = {}, 0.0
    for d in os.listdir('/proc'):
        if not d.isdigit(): continue
        try: f = open(f'/proc/{d}/stat').read().rsplit(')', 1)[1].split()
        except OSError: continue
        kids.setdefault(int(f[1]), []).append((int(d), f))
    todo = [pid]
    try: f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    except OSError: return float('nan')
    total += (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14]))/TICK
    while todo:
        for c, f in kids.get(todo.pop(), []):
            total += (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14]))/TICK; todo.append(c)
    return total

def sample(proc, t0:float, out:list, every:float=0.5):
    "Append (seconds since t0, tree CPU seconds) every `every` s until `proc` exits."
    while proc.poll() is None:
        out.append((time.time() - t0, tree_cpu(proc.pid))); time.sleep(every)

def cpu_at(samples:list, t:float|None) -> float|None:
    "Tree CPU seconds at time t (the last sample before it)."
    if t is None: return None
    return max([c for s, c in samples if s <= t] or [0.0])

def stages(run:Path, t0:float, enc:str='handcrafted') -> dict:
    "Seconds from the start to the end of each stage, from the mtimes of the files the stage writes last."
    def last(*globs):
        ts = [p.stat().st_mtime for g in globs for p in run.glob(g)]
        return round(max(ts) - t0, 1) if ts else None
    return {'cohort': last('cohort/settings.json'), 'split + genes': last('genes.json'), 'patches': last('patches/patch_summary.csv'),
            'features': last(f'features/{enc}_*/*.h5'), 'seeds': last(f'baseline/{enc}/seed_table.csv'),
            'spatial map + summary': last(f'baseline/{enc}/summary.json')}

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--vri-text', default='vri_text', help='the vri_text command to time')
    ap.add_argument('--home', default=None, help='an empty VRI_TEXT_HOME (default: a new temporary folder)')
    ap.add_argument('--keep', action='store_true', help='keep the temporary home')
    ap.add_argument('--note', default='')
    ap.add_argument('--out', default=str(Path(__file__).with_name('demo_results.md')))
    a = ap.parse_args()
    home = Path(a.home or tempfile.mkdtemp(prefix='vri_demo_'))
    if home.exists() and any(home.iterdir()): raise SystemExit(f'{home} is not empty: the main job is timed from an empty VRI_TEXT_HOME')
    env = dict(os.environ, VRI_TEXT_HOME=str(home), VRI_TEXT_PROGRESS='0')
    env.pop('VRI_TEXT_SCALE', None); env.pop('IN_TEST', None)
    load0 = os.getloadavg()
    t0, c0 = time.time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([a.vri_text, 'demo'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []
    th = threading.Thread(target=sample, args=(proc, t0, samples), daemon=True); th.start()
    out, err = proc.communicate()
    wall, c1 = time.time() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    th.join()
    r = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    load1 = os.getloadavg()
    if r.returncode: raise SystemExit(f'vri_text demo failed ({r.returncode}):\n{r.stderr[-3000:]}')
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    run = home/'demo-default'
    st = stages(run, t0)
    summ = json.loads((run/'baseline'/'handcrafted'/'summary.json').read_text())
    print(r.stdout[-1500:])
    print(f'wall {wall:.1f} s, CPU {cpu:.1f} s ({cpu/wall/os.cpu_count():.0%} of {os.cpu_count()} cores), load {load0[0]:.2f} before, {load1[0]:.2f} after')
    print('stage ends (s from start):', st)
    span = lambda k0, k1: None if st[k1] is None else round(st[k1] - (st[k0] if k0 else 0), 1)
    cspan = lambda k0, k1: None if st[k1] is None else round(cpu_at(samples, st[k1]) - (cpu_at(samples, st[k0]) if k0 else 0), 1)
    ks = list(st)
    parts = '; '.join(f'{k} {span(ks[i - 1] if i else None, k)} ({cspan(ks[i - 1] if i else None, k)} CPU)' for i, k in enumerate(ks))
    print('stages, wall (CPU) s:', parts)
    row = (f"| {dt.datetime.now():%Y-%m-%d %H:%M} | {cpu_model()}, {os.cpu_count()} cores | {load0[0]:.2f} / {load0[1]:.2f} / {load0[2]:.2f} | "
           f"{load1[0]:.2f} | {wall:.0f} s ({int(wall//60)} min {wall % 60:.0f} s) | {cpu:.0f} s ({cpu/wall/os.cpu_count():.0%}) | {parts} | "
           f"{summ['test_at_val_mean']:.3f} / {summ['final_mean']:.3f} | {a.note} |\n")
    append_record(a.out, '# The main job, timed\n\nWritten by `bench/time_demo.py`: `vri_text demo` (default scale: 40 samples, 8,555 spots, '
                  'eight seeds) from an empty `$VRI_TEXT_HOME`, timed from outside. Stage times are read off the files each stage writes '
                  'last (so each includes whatever preceded it since the previous stage ended), with the CPU seconds the process tree '
                  'spent in it (sampled from /proc every 0.5 s); CPU is the rusage of the whole process tree, utilisation that over '
                  'wall time x cores. Load: the 1/5/15-minute load averages before the run, and the 1-minute '
                  'one after (the machine is shared with other jobs).\n\n'
                  '| date | machine | load before | load after | wall | CPU (utilisation) | stages (s) | test r at val epoch / final | note |\n'
                  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n', row)
    print(f'appended to {a.out}')
    if not a.home and not a.keep: shutil.rmtree(home)
