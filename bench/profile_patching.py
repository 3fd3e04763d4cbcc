"""Profile: where `extract_patches` spends its time on a slide that needs resampling.

Usage (from the project root):  .venv/bin/python bench/profile_patching.py [--record bench/profile_patching.md]

Slide: a generated 8000 x 8000 px generic pyramidal JPEG TIFF at 0.499 um/px (so every 224 px patch at
0.5 um/px is resampled, as on most real HEST slides), spots on a 100 um hexagonal grid, tissue filter on.
Two views: cProfile of one in-process run (functions grouped into stages), and each stage timed on its own
(thumbnail + mask, tile decode, resampling, checksums, HDF5 writes) so the groups can be checked.
"""
from __future__ import annotations

import argparse, cProfile, io, os, platform, pstats, sys, time
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_patching import hest_like_slide, hex_spots, make_sample  # noqa: E402

STAGES = [  # (stage, substrings of 'file:function' in the profile), first match wins
    ('tile decode (imagecodecs JPEG)', ('imagecodecs', 'jpeg8_decode', 'tifffile.py:decode', 'read_tiles')),
    ('openslide read_region', ('openslide',)),
    ('resample (PIL resize)', ('resize', 'Image.py', 'fromarray', '_cut')),
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
    s = extract_patches(smp, out, PatchConfig(**kw), force=True)
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
    cfg = P.PatchConfig()
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
    t0 = time.perf_counter(); P.patch_digests(arr); out['pixel checksums (sha256)'] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        with h5py.File(Path(d)/'x.h5', 'w') as f:
            img = f.create_dataset('img', arr.shape, np.uint8, chunks=(1, *arr.shape[1:]))
            for a in range(0, len(arr), 64): img[a:a + 64] = arr[a:a + 64]
        out['HDF5 write (64-patch slices)'] = time.perf_counter() - t0
    sl.close()
    return out, len(keep), len(blocks), exact


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--work', type=Path, default=Path('/tmp/vri13'))
    ap.add_argument('--record', type=Path, default=None)
    ap.add_argument('--note', default='', help='what code this profiles (recorded)')
    a = ap.parse_args()
    os.environ.setdefault('VRI_TEXT_PROGRESS', '0')
    wsi, mpp = hest_like_slide(a.work)
    smp = make_sample(wsi, mpp, hex_spots(8000, 8000, mpp))
    load0 = os.getloadavg()
    stages, n_keep, n_blocks, exact = stage_timings(wsi, smp)
    wall, by, s, top = profile_run(smp, a.work/'profile.h5')
    load1 = os.getloadavg()
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor())
    lines = [f"\n## {datetime.now():%Y-%m-%d %H:%M} — {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, load {load0[0]:.2f} -> {load1[0]:.2f}",
             f"\nSlide 8000 x 8000 px at {mpp} um/px (generic TIFF, JPEG tiles 256 px), {s['spots']} spots on a 100 um hex grid, "
             f"{s['kept']} kept by the tissue filter, {n_blocks} blocks, exact crops: {exact}. One in-process run: {wall:.2f} s "
             f"({s['kept'] / wall:.0f} kept patches/s, {s['spots'] / wall:.0f} spots/s). {a.note}\n",
             "| stage (cProfile self time, grouped) | seconds | share |", "|---|---|---|"]
    tot = sum(by.values())
    for k, v in sorted(by.items(), key=lambda kv: -kv[1]): lines.append(f"| {k} | {v:.2f} | {v / tot:.0%} |")
    lines += ["", "| stage timed on its own | seconds | per kept patch |", "|---|---|---|"]
    for k, v in stages.items(): lines.append(f"| {k} | {v:.2f} | {v / max(n_keep, 1) * 1e3:.2f} ms |")
    lines += ["", "<details><summary>top functions by self time</summary>", "", "```", top.strip(), "```", "</details>"]
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.record:
        if not a.record.exists(): a.record.write_text("# Profile of `extract_patches` on a slide that needs resampling\n\nScript: `bench/profile_patching.py`.\n")
        with open(a.record, 'a') as fh: fh.write(text)


if __name__ == '__main__':
    main()
