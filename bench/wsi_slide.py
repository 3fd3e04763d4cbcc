"""A generated 40x whole slide for benchmarks: ~60k x 40k px pyramidal JPEG TIFF, written without ever holding it.

Level 0 is a mosaic of 256 px tiles drawn from a palette of procedural H&E tiles inside a tissue ellipse (glass
outside); each palette tile is JPEG-encoded once and its bytes reused, so the 37k-tile level 0 is written in seconds.
Lower levels are exact 2^k means of level 0, composed from the palette, and encoded by tifffile.
Usage: .venv/bin/python bench/wsi_slide.py [/tmp/vri13/wsi40x.tif]
"""
from __future__ import annotations

import os, sys, time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_patching import _he_tile, TILE  # noqa: E402

W40, H40, MPP40 = 61440, 40960, 0.25   # 240 x 160 tiles of 256 px; 15.4 x 10.2 mm


def _palette(n=48, seed=0):
    rng = np.random.default_rng(seed)
    # tiles from the middle of a huge virtual slide, well inside its tissue ellipse (_he_tile draws tissue in an ellipse)
    tiles = [_he_tile(float(rng.integers(15 * 10**5, 25 * 10**5)), float(rng.integers(15 * 10**5, 25 * 10**5)), 1.0, MPP40, 4 * 10**6, 4 * 10**6, rng) for _ in range(n)]
    glass = np.clip(np.array([243, 243, 241], np.float32) + rng.normal(0, 3, (TILE, TILE, 3)), 0, 255).astype(np.uint8)
    return np.stack([glass] + tiles)  # id 0 is glass


def _layout(nx, ny, n_pal, seed=1):
    "Palette id per level-0 tile: 0 outside the tissue ellipse, a hashed tissue tile inside."
    j, i = np.meshgrid(np.arange(nx) + 0.5, np.arange(ny) + 0.5)
    inside = ((j - nx / 2) / (0.45 * nx)) ** 2 + ((i - ny / 2) / (0.42 * ny)) ** 2 < 1
    ids = np.random.default_rng(seed).integers(1, n_pal, (ny, nx))
    return np.where(inside, ids, 0)


def _encoded(pal):
    "JPEG bytes of each palette tile exactly as tifffile writes them (one-tile TIFFs read back)."
    import tifffile, tempfile
    out = []
    with tempfile.TemporaryDirectory() as d:
        for k, t in enumerate(pal):
            p = Path(d)/f'{k}.tif'
            tifffile.imwrite(p, t, tile=(TILE, TILE), photometric='rgb', compression='jpeg', compressionargs={'level': 90}, metadata=None)
            with tifffile.TiffFile(p) as tf:
                pg = tf.pages[0]; fh = tf.filehandle
                fh.seek(pg.dataoffsets[0]); out.append(fh.read(pg.databytecounts[0]))
                jt = pg.jpegtables
    return out, jt


def write_wsi40x(path=Path('/tmp/vri13/wsi40x.tif'), W=W40, H=H40, mpp=MPP40, min_side=512):
    "Write the 40x benchmark slide (once); returns (path, mpp)."
    import tifffile
    path = Path(path)
    if path.exists(): return path, mpp
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pal = _palette()
    nx, ny = W // TILE, H // TILE
    lay = _layout(nx, ny, len(pal))
    enc, jt = _encoded(pal)
    tmp = path.with_suffix('.tmp.tif')
    with tifffile.TiffWriter(tmp, bigtiff=True) as tw:
        tw.write((enc[k] for k in lay.ravel()), shape=(H, W, 3), dtype=np.uint8, tile=(TILE, TILE), photometric='rgb', compression='jpeg',
                 jpegtables=jt, subfiletype=0, resolutionunit='CENTIMETER', resolution=(1e4 / mpp, 1e4 / mpp), metadata=None)
        k = 1
        while min(W, H) >> k >= min_side:
            f = 2 ** k
            sub = TILE // f
            pk = pal.reshape(len(pal), sub, f, sub, f, 3).mean((2, 4)).round().astype(np.uint8) if sub >= 1 else None
            Wk, Hk = W // f, H // f
            ntx, nty = -(-Wk // TILE), -(-Hk // TILE)
            def tiles():
                for ty in range(nty):
                    for tx in range(ntx):
                        ids = np.zeros((f, f), np.int64)
                        blk = lay[ty * f:(ty + 1) * f, tx * f:(tx + 1) * f]
                        ids[:blk.shape[0], :blk.shape[1]] = blk
                        yield pk[ids].transpose(0, 2, 1, 3, 4).reshape(TILE, TILE, 3)
            tw.write(tiles(), shape=(Hk, Wk, 3), dtype=np.uint8, tile=(TILE, TILE), photometric='rgb', compression='jpeg',
                     compressionargs={'level': 90}, subfiletype=1, resolutionunit='CENTIMETER', resolution=(1e4 / (mpp * f), 1e4 / (mpp * f)),
                     metadata=None)
            k += 1
    os.replace(tmp, path)
    print(f"wrote {path}: {W} x {H} px at {mpp} um/px, {k} levels, {path.stat().st_size / 2**20:.0f} MiB, {time.perf_counter() - t0:.0f} s", flush=True)
    return path, mpp


if __name__ == '__main__':
    write_wsi40x(Path(sys.argv[1]) if len(sys.argv) > 1 else Path('/tmp/vri13/wsi40x.tif'))
