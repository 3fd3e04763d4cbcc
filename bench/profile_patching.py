"""Profile: where `extract_patches` spends its time on a slide that needs resampling.

Usage (from the project root):  .venv/bin/python bench/profile_patching.py [--record bench/profile_patching.md]

Slide: a generated 8000 x 8000 px generic pyramidal JPEG TIFF at 0.499 um/px (so every 224 px patch at
0.5 um/px is resampled, as on most real HEST slides), spots on a 100 um hexagonal grid, tissue filter on
(`min_tissue=0.25`, asked for: the default keeps every spot since issue 16).
Two views: cProfile of one in-process run (functions grouped into stages), and each stage timed on its own
(thumbnail + mask, tile decode, resampling by Pillow and by the compiled copy of its resampler, checksums,
HDF5 writes) so the groups can be checked. `--pillow` profiles the run with Pillow resizing (the code before).
"""
from __future__ import annotations

import argparse, contextlib, cProfile, io, os, platform, pstats, sys, time
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_patching import hest_like_slide, hex_spots, make_sample  # noqa: E402
from _record import append_record, cpu_model  # noqa: E402

STAGES = [  # (stage, substrings of 'file:function' in the profile), first match wins
    ('tile decode (imagecodecs JPEG)', ('imagecodecs', 'jpeg8_decode', 'tifffile.py:decode', 'read_tiles')),
    ('openslide read_region', ('openslide',)),
    ('resample (PIL resize)', ('resize', 'Image.py', 'fromarray', '_cut')),
    ('resample (compiled, _pil_resample)', ('_pil_resample', 'Dispatcher', 'numba')),
    ('tissue thumbnail + mask', ('slide_thumbnail', 'tissue_mask', 'otsu', 'box_fraction', 'is_grayscale')),
    ('pixel checksums (sha256)', ('patch_digests', 'sha256', 'hashlib')),
    ('HDF5 write', ('h5py', 'dataset.py', '_runs')),
]


def stage_of(key) -> str:
    f, _, fn = key
    s = f"{f}:{fn}"
    for name, subs in STAGES:
        if any(x in s for x in subs): return name
    return 'other (Python glue, planning, imports)'


def profile_run(smp, out, **kw):
    "cProfile one extract_patches run; (wall s, {stage: self seconds}, top functions text)."
    from vri_text.patching import extract_patches, PatchConfig
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    s = extract_patches(smp, out, PatchConfig(min_tissue=0.25, **kw), force=True)
    pr.disable()
    wall = time.perf_counter() - t0
    st = pstats.Stats(pr)
    by = {}
    for key, (cc, nc, tt, ct, callers) in st.stats.items(): by[stage_of(key)] = by.get(stage_of(key), 0.0) + tt
    buf = io.StringIO(); pstats.Stats(pr, stream=buf).sort_stats('tottime').print_stats(14)
    return wall, by, s, buf.getvalue()


def stage_timings(wsi, smp, reps=1):
    "Each stage on its own, with the same inputs extract_patches uses."
    import h5py, tempfile
    from PIL import Image
    from vri_text import patching as P
    cfg = P.PatchConfig(min_tissue=0.25)
    sl = P.SlideReader(wsi)
    mpp0 = smp.mpp
    L = P.choose_level(mpp0, sl.level_downsamples, cfg.target_mpp, cfg.scale_tol); ds = sl.level_downsamples[L]
    boxes, support, coords0, exact = P.patch_boxes(smp.spatial, mpp0, ds, cfg)
    out = {}
    t0 = time.perf_counter(); thumb, s = P.slide_thumbnail(sl, mpp0, cfg.thumb_mpp, cfg.block_px); mask, thr = P.tissue_mask(thumb)
    tissue = P.box_fraction(mask, boxes * ds * s); out['tissue thumbnail + mask'] = time.perf_counter() - t0
    keep = np.flatnonzero(tissue >= cfg.min_tissue)
    blocks = P._plan_blocks(boxes[keep], support[keep], cfg.block_px)
    t0 = time.perf_counter(); regions = [P._read(sl, L, ds, *bb) for bb, g in blocks]; out['tile decode (every tile under each block)'] = time.perf_counter() - t0
    filt = Image.Resampling.LANCZOS
    t0 = time.perf_counter()
    patches = [P._cut(r, bb[0], bb[1], support[keep][k], boxes[keep][k], cfg.patch_px, exact, filt) for r, (bb, g) in zip(regions, blocks) for k in g]
    out['cut: ' + ('exact crops' if exact else 'Lanczos resample per patch (PIL)')] = time.perf_counter() - t0
    arr = np.stack(patches)
    if not exact and P._resampler() is not None:
        fast = P._resampler()
        kb, ks = boxes[keep], support[keep]
        o = np.empty((len(blocks[0][1]), cfg.patch_px, cfg.patch_px, 3), np.uint8)
        fast(regions[0], blocks[0][0][0], blocks[0][0][1], ks[blocks[0][1]], kb[blocks[0][1]], cfg.patch_px, 0, 3.0, o) # compile / load the cache first
        t0 = time.perf_counter(); outs = []
        for r, (bb, g) in zip(regions, blocks):
            o = np.empty((len(g), cfg.patch_px, cfg.patch_px, 3), np.uint8)
            fast(r, bb[0], bb[1], np.ascontiguousarray(ks[g]), np.ascontiguousarray(kb[g]), cfg.patch_px, 0, 3.0, o); outs.append(o)
        out['cut: Lanczos resample per patch (compiled copy of Pillow\'s)'] = time.perf_counter() - t0
        out['(compiled == Pillow, bit for bit)'] = float(np.array_equal(np.concatenate(outs), arr))
    t0 = time.perf_counter(); P.patch_digests(arr); out['pixel checksums (sha256)'] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        with h5py.File(Path(d)/'x.h5', 'w') as f:
            img = f.create_dataset('img', arr.shape, np.uint8, chunks=(1, *arr.shape[1:]))
            for a in range(0, len(arr), 64): img[a:a + 64] = arr[a:a + 64]
        out['HDF5 write (64-patch slices)'] = time.perf_counter() - t0
    sl.close()
    return out, len(keep), len(blocks), exact


def alternatives(regions, n=120, seed=0):
    "Other resamplers against Pillow's Lanczos on patches of each region: ms per patch, mean |diff|, PSNR (OpenCV optional)."
    import math
    from PIL import Image
    from vri_text import patching as P
    try: import cv2; cv2.setNumThreads(1)
    except ImportError: cv2 = None
    p, f = 224, 224 * 0.5 / 0.499 / 224
    rows = []
    for name, reg in regions.items():
        rng = np.random.default_rng(seed)
        pts = rng.uniform(20, min(reg.shape[:2]) - 260, (n, 2))
        box = np.concatenate([pts, pts + p * f], 1); sup = np.concatenate([np.floor(box[:, :2]) - 4, np.ceil(box[:, 2:]) + 4], 1).astype(np.int64)
        def pil(): return [P._cut(reg, 0, 0, sup[k], box[k], p, False, Image.Resampling.LANCZOS) for k in range(n)]
        def compiled():
            o = np.empty((n, p, p, 3), np.uint8); P._resampler()(np.ascontiguousarray(reg), 0, 0, sup, box, p, 0, 3.0, o); return list(o)
        def warp(flag):
            M = lambda k: np.array([[f, 0, box[k, 0] - sup[k, 0] + 0.5 * f - 0.5], [0, f, box[k, 1] - sup[k, 1] + 0.5 * f - 0.5]])
            return lambda: [cv2.warpAffine(np.ascontiguousarray(reg[sup[k, 1]:sup[k, 3], sup[k, 0]:sup[k, 2]]), M(k), (p, p), flags=flag | cv2.WARP_INVERSE_MAP) for k in range(n)]
        def block_shift():  # the block resized once to the target scale (cubic), then each patch shifted by its sub-pixel rest (Lanczos-3 taps)
            B = cv2.resize(reg, None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_CUBIC); out = []
            for k in range(n):
                jx, jy = box[k, 0] / f, box[k, 1] / f; ix, iy = int(math.floor(jx)), int(math.floor(jy))
                taps = lambda d: (lambda t: (np.sinc(t) * np.sinc(t / 3)) / (np.sinc(t) * np.sinc(t / 3)).sum())(np.arange(-2, 4) - d).astype(np.float32)
                r = cv2.sepFilter2D(B[iy - 2:iy + p + 3, ix - 2:ix + p + 3], -1, taps(jx - ix), taps(jy - iy), anchor=(2, 2))
                out.append(r[2:2 + p, 2:2 + p])
            return out
        def block_round():  # the block resized once, patches cut at the nearest whole pixel
            B = cv2.resize(reg, None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_CUBIC)
            return [B[int(round(box[k, 1] / f)):][:p, int(round(box[k, 0] / f)):][:, :p] for k in range(n)]
        def crop(): return [reg[int(np.floor(box[k, 1] + p * f / 2 - p / 2 + .5)):][:p, int(np.floor(box[k, 0] + p * f / 2 - p / 2 + .5)):][:, :p] for k in range(n)]
        ref = np.stack(pil()).astype(float)
        cands = [('Pillow Lanczos (reference)', pil), ('compiled copy of Pillow (default)', compiled), ('exact crop, no resampling', crop)]
        if cv2 is not None:
            cands += [('OpenCV warpAffine cubic', warp(cv2.INTER_CUBIC)), ('OpenCV warpAffine Lanczos4', warp(cv2.INTER_LANCZOS4)),
                      ('OpenCV warpAffine bilinear', warp(cv2.INTER_LINEAR)), ('block cv2.resize cubic + per-patch shift', block_shift),
                      ('block cv2.resize cubic, whole-pixel cut', block_round)]
        compiled()
        for label, fn in cands:
            t0 = time.process_time(); out = fn(); dt = (time.process_time() - t0) / n
            d = np.stack(out).astype(float) - ref; mse = (d ** 2).mean()
            rows.append(f"| {name} | {label} | {dt * 1e3:.2f} | {np.abs(d).mean():.2f} | {'identical' if mse == 0 else f'{10 * np.log10(255 ** 2 / mse):.1f}'} |")
    return ["", f"Resamplers against Pillow's Lanczos ({n} patches of 224 px at 0.499 -> 0.5 um/px per region, CPU ms per patch; OpenCV "
            f"{cv2.__version__ if cv2 is not None else 'not installed'}):", "",
            "| region | resampler | CPU ms / patch | mean abs diff (grey levels) | PSNR (dB) |", "|---|---|---|---|---|", *rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--work', type=Path, default=Path('/tmp/vri13'))
    ap.add_argument('--record', type=Path, default=None)
    ap.add_argument('--note', default='', help='what code this profiles (recorded)')
    ap.add_argument('--alternatives', action='store_true', help='also compare other resamplers with Pillow on the real slide and this one (OpenCV if installed)')
    ap.add_argument('--pillow', action='store_true', help='profile the run with Pillow resizing (vri_text.patching._resampler patched to None)')
    a = ap.parse_args()
    os.environ.setdefault('VRI_TEXT_PROGRESS', '0')
    wsi, mpp = hest_like_slide(a.work)
    smp = make_sample(wsi, mpp, hex_spots(8000, 8000, mpp))
    load0 = os.getloadavg()
    stages, n_keep, n_blocks, exact = stage_timings(wsi, smp)
    if a.pillow:
        from vri_text import patching; patching._resampler = lambda: None
    wall, by, s, top = profile_run(smp, a.work/'profile.h5')
    load1 = os.getloadavg()
    cpu = cpu_model()
    lines = [f"\n## {datetime.now():%Y-%m-%d %H:%M} — {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, load {load0[0]:.2f} -> {load1[0]:.2f}",
             f"\nSlide 8000 x 8000 px at {mpp} um/px (generic TIFF, JPEG tiles 256 px), {s['spots']} spots on a 100 um hex grid, "
             f"{s['kept']} kept by the tissue filter, {n_blocks} blocks, exact crops: {exact}. One in-process run: {wall:.2f} s "
             f"({s['kept'] / wall:.0f} kept patches/s, {s['spots'] / wall:.0f} spots/s). {a.note}\n",
             "| stage (cProfile self time, grouped) | seconds | share |", "|---|---|---|"]
    tot = sum(by.values())
    for k, v in sorted(by.items(), key=lambda kv: -kv[1]): lines.append(f"| {k} | {v:.2f} | {v / tot:.0%} |")
    lines += ["", "| stage timed on its own | seconds | per kept patch |", "|---|---|---|"]
    for k, v in stages.items():
        if k.startswith('(compiled'): lines.append(f"| {k} | {'yes' if v else 'NO'} | |")
        else: lines.append(f"| {k} | {v:.2f} | {v / max(n_keep, 1) * 1e3:.2f} ms |")
    if a.alternatives:
        import openslide
        from vri_text import patching as P
        regs = {}
        real = Path(__file__).resolve().parents[2]/'shared'/'data'/'CMU-1-Small-Region.svs'
        if real.exists():
            with openslide.OpenSlide(str(real)) as sl: regs['real CMU-1 (1200 px at 700, 1100)'] = np.asarray(sl.read_region((700, 1100), 0, (1200, 1200)).convert('RGB'))
        with contextlib.closing(P.SlideReader(wsi)) as sl: regs['this synthetic slide (1200 px at 3400, 3400)'] = sl.read_tiles(0, 3400, 3400, 4600, 4600)
        lines += alternatives(regs)
    lines += ["", "<details><summary>top functions by self time</summary>", "", "```", top.strip(), "```", "</details>"]
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.record: append_record(a.record, "# Profile of `extract_patches` on a slide that needs resampling\n\nScript: `bench/profile_patching.py`.\n", text)


if __name__ == '__main__':
    main()
