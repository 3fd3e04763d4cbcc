"""Benchmark: spot patching with block reads + parallel workers vs the plain way (one read_region per spot, one process).

Usage (from the project root):  .venv/bin/python bench/bench_patching.py [--size 20000] [--workers 2] [--record bench/patching_results.md]

Slides: a 40x synthetic slide (size x size px at 0.25 um/px, written tile by tile so it is never whole in memory),
a 20x synthetic slide (size/2.5 px square at 0.5 um/px) and, when present, the real CMU-1-Small-Region.svs (0.499 um/px).
Spots: a Visium-like hexagonal grid (100 um centre to centre) over each whole slide. Each run is a fresh process
(so peak memory is its own); the stores of both readers are compared pixel for pixel.
"""
from __future__ import annotations

import argparse, json, os, platform, resource, subprocess, sys, time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
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


def run_one(a):
    "Child process: patch one slide with one reader; print a JSON line."
    import anndata
    from vri_text.data import Sample
    from vri_text.patching import extract_patches, PatchConfig
    xy = np.load(a.spots)
    ad = anndata.AnnData(np.zeros((len(xy), 1), np.float32), obsm={'spatial': xy})
    ad.obs_names = [f's{i}' for i in range(len(xy))]
    smp = Sample('bench', ad, a.wsi, a.mpp)
    t0 = time.perf_counter()
    s = extract_patches(smp, a.out, PatchConfig(workers=a.workers, block_px=a.block_px), reader=a.reader, force=True)
    wall = time.perf_counter() - t0
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({'kept': s['kept'], 'spots': s['spots'], 'seconds': wall, 'peak_rss_mib': rss / 1024}))


def same_patches(a, b, chunk=256):
    import h5py
    with h5py.File(a) as fa, h5py.File(b) as fb:
        if fa['img'].shape != fb['img'].shape: return False
        return all(np.array_equal(fa['img'][i:i + chunk], fb['img'][i:i + chunk]) for i in range(0, len(fa['img']), chunk))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--size', type=int, default=20000, help='side of the 40x synthetic slide in px (a multiple of 512)')
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--block-px', type=int, default=2048)
    ap.add_argument('--work', type=Path, default=Path(os.environ.get('TMPDIR', '/tmp'))/'vri_bench_patching')
    ap.add_argument('--record', type=Path, default=None, help='append the results (markdown) to this file')
    ap.add_argument('--run', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--wsi'); ap.add_argument('--mpp', type=float); ap.add_argument('--spots'); ap.add_argument('--out')
    ap.add_argument('--reader', default='blocks')
    a = ap.parse_args()
    if a.run: return run_one(a)

    import openslide
    a.work.mkdir(parents=True, exist_ok=True)
    slides = [('40x synthetic', write_big_slide(a.work/f'he40x_{a.size}.tif', a.size, 0.25), 0.25),
              ('20x synthetic', write_big_slide(a.work/f'he20x_{a.size * 2 // 5}.tif', a.size * 2 // 5, 0.5), 0.5)]
    if REAL.exists(): slides.append(('real CMU-1-Small-Region', REAL, 0.499))
    else: print(f"real slide {REAL} not found; benchmarking the synthetic slides only")
    load_before = os.getloadavg()
    rows = []
    for name, wsi, mpp in slides:
        with openslide.OpenSlide(str(wsi)) as sl: W, H = sl.dimensions
        spots = a.work/f'{Path(wsi).stem}_spots.npy'
        np.save(spots, hex_spots(W, H, mpp))
        res = {}
        for label, reader, workers in [('plain', 'plain', 1), ('blocks x1', 'blocks', 1), (f'blocks x{a.workers}', 'blocks', a.workers)]:
            out = a.work/f'{Path(wsi).stem}_{reader}{workers}.h5'
            cmd = [sys.executable, __file__, '--run', '--wsi', str(wsi), '--mpp', str(mpp), '--spots', str(spots), '--out', str(out),
                   '--reader', reader, '--workers', str(workers), '--block-px', str(a.block_px)]
            r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, 'VRI_TEXT_PROGRESS': '0'}).stdout.strip().splitlines()[-1])
            r['out'] = out; res[label] = r
            print(f"{name:26s} {label:10s} {r['kept']:5d} patches  {r['seconds']:7.2f} s  {r['kept'] / r['seconds']:7.1f} patches/s  peak RSS {r['peak_rss_mib']:.0f} MiB", flush=True)
        base, fast = res['plain'], res[f'blocks x{a.workers}']
        same = same_patches(base['out'], fast['out']) and same_patches(base['out'], res['blocks x1']['out'])
        rows.append((name, f"{W} x {H} @ {mpp}", base, res['blocks x1'], fast, same))
        for r in res.values(): Path(r['out']).unlink()
    load_after = os.getloadavg()

    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor())
    lines = [f"\n## {datetime.now():%Y-%m-%d %H:%M} — {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}",
             f"\nLoad average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, after: {' '.join(f'{x:.2f}' for x in load_after)}; "
             f"block_px {a.block_px}; patches 224 px at 0.5 um/px; hex spot grid, 100 um pitch; end to end (tissue mask, reads, resampling, HDF5 write).\n",
             f"| slide | px @ um/px | patches | plain (1 read/spot, 1 process) | blocks, 1 process | blocks, {a.workers} workers | speed-up x1 | speed-up x{a.workers} | peak RSS plain / x{a.workers} | identical |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, geom, b, b1, f, same in rows:
        ps = lambda r: r['kept'] / r['seconds']
        lines.append(f"| {name} | {geom} | {b['kept']} | {ps(b):.0f} /s | {ps(b1):.0f} /s | {ps(f):.0f} /s | {ps(b1) / ps(b):.2f}x | {ps(f) / ps(b):.2f}x | "
                     f"{b['peak_rss_mib']:.0f} / {f['peak_rss_mib']:.0f} MiB | {'yes' if same else 'NO'} |")
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.record:
        with open(a.record, 'a') as fh: fh.write(text)


if __name__ == '__main__':
    main()
