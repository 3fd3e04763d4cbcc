"""Benchmark: vri_text's `extract_patches` (tissue filter on) vs a plain loop, on a slide that needs resampling.

Usage (from the project root):
  .venv/bin/python bench/bench_patching.py [--cpus 1 2] [--reps 3] [--record bench/patching_results.md]

Slide: a generated HEST-like 8000 x 8000 px generic pyramidal JPEG TIFF at 0.499 um/px (kept under --work, never in
git), spots on a 100 um hexagonal grid; patches 224 px at 0.5 um/px, so every patch is resampled.
- plain loop: what a user writes first: per spot one openslide `read_region` at level 0, PIL Lanczos resize to
  224 px, one HDF5 row write; every spot (no tissue filter), one process.
- vri_text: `extract_patches(sample, out, PatchConfig(workers=c, min_tissue=0.25))`, i.e. its defaults with the tissue
  filter on (since issue 16 it is off by default), pinned to c CPUs with `taskset` for each c in --cpus; `workers` are
  reader threads; patches are resized by the compiled copy of Pillow's resampler (same pixels as Pillow).
  The compiled resampler is loaded from numba's on-disk cache before the clock starts, like the imports of both
  sides: a one-time cost of 0.7-0.9 s per process here (numba import + cache load; the record states it), not per sample.
- vri_text with `--pillow` rows (`--pillow-rows`): the same, but resized by Pillow itself (the code before issue 13's
  last step; `vri_text.patching._resampler` patched to return None in the child), for the smallest and largest c.
- vri_text with `scale_tol=2.5e-3` (opt-in): the 0.2% scale mismatch is cut as exact crops instead of Lanczos-resampled,
  for the smallest and largest c: the comparison with what the plain loop does, which does not resample either: it
  reads round(224 * 0.5 / 0.499) = 224 px, and PIL's resize to the same size is a copy.
Each run is a fresh process (own peak RSS); runs are interleaved (plain, vri_text c1, c2, ..., repeated --reps
times) so load changes hit all alike; the table gives medians. The vri_text stores of every c are compared pixel for
pixel (workers never change a pixel).
"""
from __future__ import annotations

import argparse, json, os, platform, resource, subprocess, sys, time
from datetime import datetime
from pathlib import Path

import numpy as np
from _record import append_record, cpu_model

ROOT = Path(__file__).resolve().parents[1]
if 'PYTHONPATH' not in os.environ: sys.path.insert(1, str(ROOT))  # the checkout's vri_text, installed or not
REAL = ROOT.parent/'shared'/'data'/'CMU-1-Small-Region.svs'
TILE = 256


def _he_tile(x0, y0, step, mpp, W, H, rng):
    "One 256x256 tile of a procedural H&E-like image: level-0 pixel (x0, y0), `step` level-0 px per pixel."
    j, i = np.meshgrid(np.arange(TILE, dtype=np.float32), np.arange(TILE, dtype=np.float32))
    u, v = (x0 + (j + 0.5) * step) * mpp, (y0 + (i + 0.5) * step) * mpp # microns
    Wu, Hu = W * mpp, H * mpp
    with np.errstate(over="ignore"): t = 1 / (1 + np.exp((((u - Wu / 2) / (0.45 * Wu)) ** 2 + ((v - Hu / 2) / (0.42 * Hu)) ** 2 - 1) * 40)) # tissue ellipse
    blob = (0.5 + 0.25 * np.sin(2 * np.pi * u / 37) * np.sin(2 * np.pi * v / 29) + 0.25 * np.cos(2 * np.pi * (u + 2 * v) / 53)) ** 2
    ci, cj = np.floor(v / 10), np.floor(u / 10) # 10 um cells, one nucleus each, jittered by a hash
    h = ((ci.astype(np.int64) * 73856093) ^ (cj.astype(np.int64) * 19349663)) & 0xFFFF
    nx, ny = cj * 10 + 2 + (h % 61) / 10, ci * 10 + 2 + (h // 61 % 61) / 10
    nuc = np.exp(-((u - nx) ** 2 + (v - ny) ** 2) / (2 * 1.6 ** 2))
    pink, purple, white = np.array([232, 150, 190], np.float32), np.array([110, 60, 150], np.float32), np.array([243, 243, 241], np.float32)
    col = pink + np.clip(0.6 * blob + nuc, 0, 1)[..., None] * (purple - pink)
    img = white + t[..., None] * (col - white) + rng.normal(0, 5, (TILE, TILE, 3)).astype(np.float32)
    img[(u >= Wu) | (v >= Hu)] = 0
    return img.clip(0, 255).astype(np.uint8)


def write_big_slide(path: Path, size: int, mpp: float, min_side: int = 512):
    "Pyramidal tiled JPEG TIFF of size x size px, written tile by tile (never whole in memory)."
    import tifffile
    if path.exists(): return path
    levels, w = [], size
    while True:
        levels.append(w)
        if w // 2 < min_side: break
        w //= 2
    tmp = path.with_suffix('.tmp.tif')
    t0 = time.perf_counter()
    with tifffile.TiffWriter(tmp, bigtiff=True) as tw:
        for k, w in enumerate(levels):
            step = size / w
            rng = np.random.default_rng(k)
            nt = (w + TILE - 1) // TILE
            tiles = (_he_tile(tx * TILE * step, ty * TILE * step, step, mpp, size, size, rng) for ty in range(nt) for tx in range(nt))
            tw.write(tiles, shape=(w, w, 3), dtype=np.uint8, tile=(TILE, TILE), photometric='rgb', compression='jpeg',
                     compressionargs={'level': 90}, subfiletype=0 if k == 0 else 1, resolutionunit='CENTIMETER',
                     resolution=(1e4 / (mpp * step), 1e4 / (mpp * step)), metadata=None)
    os.replace(tmp, path)
    print(f"wrote {path.name}: {size} x {size} px at {mpp} um/px, {len(levels)} levels, {path.stat().st_size / 2**20:.0f} MiB, {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def hex_spots(W, H, mpp, pitch_um=100.0):
    "Visium-like hexagonal spot grid over a W x H px slide, in level-0 px."
    rows = np.arange(pitch_um / 2, H * mpp, pitch_um * np.sqrt(3) / 2)
    pts = [(x, y) for r, y in enumerate(rows) for x in np.arange(pitch_um / 2 + (r % 2) * pitch_um / 2, W * mpp, pitch_um)]
    return np.array(pts) / mpp


def hest_like_slide(work: Path, size: int = 8000, mpp: float = 0.499):
    "The HEST-like benchmark slide (generated once under `work`): (path, mpp)."
    work.mkdir(parents=True, exist_ok=True)
    return write_big_slide(work/f'hest{size}_{str(mpp).replace(".", "")}.tif', size, mpp), mpp


def make_sample(wsi, mpp, xy, sid='bench'):
    "A `Sample` with no genes at level-0 centres `xy`."
    import anndata
    from vri_text.data import Sample
    ad = anndata.AnnData(np.zeros((len(xy), 1), np.float32), obsm={'spatial': np.asarray(xy, float)})
    ad.obs_names = [f's{i}' for i in range(len(xy))]
    return Sample(sid, ad, wsi, mpp)


def plain_loop(wsi, mpp, xy, out, target_mpp=0.5, p=224):
    "The baseline: one read_region per spot at level 0, PIL Lanczos resize, one HDF5 row write per patch."
    import h5py, openslide
    from PIL import Image
    side = int(round(p * target_mpp / mpp))
    with openslide.OpenSlide(str(wsi)) as sl, h5py.File(out, 'w') as f:
        img = f.create_dataset('img', (len(xy), p, p, 3), np.uint8, chunks=(1, p, p, 3))
        for i, (x, y) in enumerate(xy):
            reg = sl.read_region((int(round(x - side / 2)), int(round(y - side / 2))), 0, (side, side)).convert('RGB')
            img[i] = np.asarray(reg.resize((p, p), Image.LANCZOS))
        f['coords'] = np.round(np.asarray(xy) - side / 2).astype(np.int64)
    return len(xy)


def run_one(a):
    "Child process: one run; print a JSON line."
    xy = np.load(a.spots)
    import anndata, h5py, openslide, PIL.Image  # noqa: F401  (imports are not timed, for either side)
    from vri_text import patching
    from vri_text.patching import extract_patches, PatchConfig
    load_s = 0.0
    if a.pillow: patching._resampler = lambda: None  # resize with Pillow itself (same pixels, the code before)
    elif a.reader != 'loop': load_s = warm_resampler(patching)  # untimed, like the imports: a one-time cost per process (load_s, recorded)
    smp = make_sample(a.wsi, a.mpp, xy)
    ru = resource.getrusage(resource.RUSAGE_SELF); cpu0 = ru.ru_utime + ru.ru_stime
    t0 = time.perf_counter()
    if a.reader == 'loop':
        kept = spots = plain_loop(a.wsi, a.mpp, xy, a.out)
    else:
        kw = {} if a.scale_tol is None else dict(scale_tol=a.scale_tol)
        s = extract_patches(smp, a.out, PatchConfig(workers=a.workers, block_px=a.block_px, min_tissue=a.min_tissue, **kw), reader=a.reader, force=True)
        kept, spots = s['kept'], s['spots']
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    rss = max(ru.ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({'kept': kept, 'spots': spots, 'seconds': wall, 'cpu_s': ru.ru_utime + ru.ru_stime - cpu0, 'peak_rss_mib': rss / 1024, 'load_s': load_s}))


def warm_resampler(patching) -> float:
    "Import numba and load the compiled resampler from numba's disk cache (compiled on the first run ever): seconds taken."
    t0 = time.perf_counter()
    f = patching._resampler()
    if f is not None:
        o = np.empty((1, 224, 224, 3), np.uint8)
        f(np.zeros((240, 240, 3), np.uint8), 0, 0, np.array([[0, 0, 240, 240]]), np.array([[5.3, 5.1, 229.75, 229.55]]), 224, 0, 3.0, o)
    return time.perf_counter() - t0


def same_patches(a, b, chunk=256):
    import h5py
    with h5py.File(a) as fa, h5py.File(b) as fb:
        if fa['img'].shape != fb['img'].shape: return False
        return all(np.array_equal(fa['img'][i:i + chunk], fb['img'][i:i + chunk]) for i in range(0, len(fa['img']), chunk))


def _resize_loop(n):
    "n Lanczos resizes of a 240 px RGB image to 224 px (the per-patch work of vri_text on a 0.499 um/px slide)."
    from PIL import Image
    im = Image.fromarray(np.random.default_rng(0).integers(0, 255, (240, 240, 3), np.uint8))
    for _ in range(n): im.resize((224, 224), Image.LANCZOS, box=(4.3, 4.7, 228.75, 229.15))
    return n


def parallel_control(c: int, n: int = 150) -> dict:
    "How much parallelism the machine gives right now: the same resize loop serially, in c threads and in c processes."
    import threading
    from concurrent.futures import ProcessPoolExecutor
    t = time.perf_counter(); _resize_loop(c * n); serial = time.perf_counter() - t
    t = time.perf_counter()
    th = [threading.Thread(target=_resize_loop, args=(n,)) for _ in range(c)]
    for x in th: x.start()
    for x in th: x.join()
    threads = time.perf_counter() - t
    with ProcessPoolExecutor(c) as ex:
        list(ex.map(_resize_loop, [1] * c))
        t = time.perf_counter(); list(ex.map(_resize_loop, [n] * c)); procs = time.perf_counter() - t
    return dict(threads=serial / threads, processes=serial / procs)


def machine() -> str:
    cpu = cpu_model()
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--size', type=int, default=8000, help='side of the generated slide in px')
    ap.add_argument('--mpp', type=float, default=0.499, help='microns per pixel of the generated slide')
    ap.add_argument('--cpus', type=int, nargs='+', default=[1, 2], help='CPU counts for vri_text (workers = cpus, pinned with taskset)')
    ap.add_argument('--reps', type=int, default=3, help='interleaved repetitions (medians reported)')
    ap.add_argument('--block-px', type=int, default=2048)
    ap.add_argument('--work', type=Path, default=Path(os.environ.get('TMPDIR', '/tmp'))/'vri_bench_patching')
    ap.add_argument('--record', type=Path, default=None, help='append the results (markdown) to this file')
    ap.add_argument('--note', default='', help='a note for the record (e.g. what else ran)')
    ap.add_argument('--run', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--wsi'); ap.add_argument('--spots'); ap.add_argument('--out')
    ap.add_argument('--reader', default='blocks'); ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--scale-tol', type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument('--no-crop-rows', action='store_true', help='skip the scale_tol=2.5e-3 (exact crop) rows')
    ap.add_argument('--pillow-rows', action='store_true', help='add rows resized by Pillow itself instead of the compiled resampler')
    ap.add_argument('--pillow', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--min-tissue', type=float, default=0.25, help='the tissue filter of the vri_text rows (0.25: on)')
    a = ap.parse_args()
    if a.run: return run_one(a)

    wsi, mpp = hest_like_slide(a.work, a.size, a.mpp)
    spots = a.work/f'{wsi.stem}_spots.npy'
    np.save(spots, hex_spots(a.size, a.size, mpp))
    ncpu = len(os.sched_getaffinity(0))
    cpus = [c for c in a.cpus if c <= ncpu]
    if len(cpus) < len(a.cpus): print(f"only {ncpu} CPUs here: skipping --cpus {[c for c in a.cpus if c > ncpu]}")
    avail = sorted(os.sched_getaffinity(0))
    configs = [('plain loop', 'loop', 1, 1, None, False)] + [(f'vri_text {c} cpu', 'blocks', c, c, None, False) for c in cpus]
    if a.pillow_rows: configs += [(f'vri_text {c} cpu, Pillow resize (before)', 'blocks', c, c, None, True) for c in sorted({cpus[0], cpus[-1]})]
    if not a.no_crop_rows: configs += [(f'vri_text {c} cpu, scale_tol 2.5e-3 (exact crops)', 'blocks', c, c, 2.5e-3, False) for c in sorted({cpus[0], cpus[-1]})]
    res = {c[0]: [] for c in configs}
    load_before = os.getloadavg()
    ctl = [parallel_control(cpus[-1])] if cpus[-1] > 1 else []
    for rep in range(a.reps):
        for label, reader, workers, c, tol, pil in configs:
            out = a.work/f'{wsi.stem}_{reader}{workers}{"_tol" if tol else ""}{"_pil" if pil else ""}.h5'
            cmd = ['taskset', '-c', ','.join(map(str, avail[:c])), sys.executable, __file__, '--run', '--wsi', str(wsi), '--mpp', str(mpp),
                   '--spots', str(spots), '--out', str(out), '--reader', reader, '--workers', str(workers), '--block-px', str(a.block_px)]
            if tol: cmd += ['--scale-tol', str(tol)]
            if pil: cmd += ['--pillow']
            cmd += ['--min-tissue', str(a.min_tissue)]
            r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, 'VRI_TEXT_PROGRESS': '0'}).stdout.strip().splitlines()[-1])
            r['out'] = out; r['load'] = os.getloadavg()[0]; res[label].append(r)
            print(f"rep {rep} {label:14s} {r['kept']:5d}/{r['spots']} patches  {r['seconds']:6.2f} s  {r['kept'] / r['seconds']:7.1f} patches/s  cpu {r['cpu_s']:.2f} s  "
                  f"peak RSS {r['peak_rss_mib']:.0f} MiB  load {r['load']:.2f}", flush=True)
        vri = [f'vri_text {c} cpu' for c in cpus]
        vri += [k for k in res if 'Pillow' in k]  # Pillow's resize must give the same pixels as the compiled one
        same = all(same_patches(res[vri[0]][-1]['out'], res[v][-1]['out']) for v in vri[1:])
        if not same: print('WARNING: vri_text stores differ between cpu counts')
    load_after = os.getloadavg()
    if cpus[-1] > 1: ctl.append(parallel_control(cpus[-1]))
    ctl_txt = (f" Control (same machine, before / after the runs): the Lanczos resize loop of one patch runs "
               f"{' / '.join('%.2fx' % d['threads'] for d in ctl)} faster in {cpus[-1]} threads and "
               f"{' / '.join('%.2fx' % d['processes'] for d in ctl)} in {cpus[-1]} processes than serially: the parallelism "
               f"the machine had to give.") if ctl else ''
    loads = [r['load_s'] for rs in res.values() for r in rs if r.get('load_s')]
    load_txt = f" Compiled resampler loaded before the clock (numba import + disk cache): median {np.median(loads):.2f} s per process." if loads else ''
    med = lambda label, f: float(np.median([f(r) for r in res[label]]))
    base = med('plain loop', lambda r: r['kept'] / r['seconds'])
    lines = [f"\n## {datetime.now():%Y-%m-%d %H:%M} — {machine()}",
             f"\nLoad average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, after: {' '.join(f'{x:.2f}' for x in load_after)}; "
             f"{a.reps} interleaved repetitions, medians; slide {a.size} x {a.size} px at {mpp} um/px; block_px {a.block_px}; "
             f"tissue filter min_tissue={a.min_tissue}; vri_text stores identical across cpu counts{' and with Pillow resizing' if a.pillow_rows else ''}: {'yes' if same else 'NO'}.{ctl_txt}{load_txt} {a.note}\n",
             "| run | patches written | seconds | patches/s | spots evaluated/s | vs plain loop (patches/s) | same rep's plain loop: ratio median (min-max) | CPU s per patch | peak RSS |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, *_ in configs:
        rs = res[label]
        pps = med(label, lambda r: r['kept'] / r['seconds'])
        paired = [(r['kept'] / r['seconds']) / (q['kept'] / q['seconds']) for r, q in zip(rs, res['plain loop'])] # interleaved: rep by rep
        lines.append(f"| {label} | {rs[0]['kept']} of {rs[0]['spots']} | {med(label, lambda r: r['seconds']):.2f} | {pps:.0f} | "
                     f"{med(label, lambda r: r['spots'] / r['seconds']):.0f} | {pps / base:.2f}x | {np.median(paired):.2f}x ({min(paired):.2f}-{max(paired):.2f}) | "
                     f"{med(label, lambda r: r['cpu_s'] / r['kept']) * 1e3:.2f} ms | "
                     f"{max(r['peak_rss_mib'] for r in rs):.0f} MiB |")
    text = '\n'.join(lines) + '\n'
    print(text)
    for rs in res.values():
        for r in rs: Path(r['out']).unlink(missing_ok=True)
    if a.record: append_record(a.record, '# Patching throughput\n\nScript: `bench/bench_patching.py`.\n', text)


if __name__ == '__main__':
    main()
