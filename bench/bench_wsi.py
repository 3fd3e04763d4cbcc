"""Benchmark: whole-slide virtual RNA (`vri_text.stream.infer_slide`) on a 40x slide with ~100k spots, in bounded memory.

Usage (from the project root):
  .venv/bin/python bench/bench_wsi.py [--pitch 32] [--record bench/wsi_results.md]

Slide: a generated 61,440 x 40,960 px pyramidal JPEG TIFF at 0.25 um/px (bench/wsi_slide.py; kept under --work, never in
git). Spots: a hexagonal grid of --pitch um over the tissue (vri_text.inference.he_only_sample), ~100k at 33 um.
Encoder: by default `rgbstats`, a cheap numpy encoder defined here (colour means/sds and a 4x4 intensity grid), so the
run measures the slide-to-prediction pipeline, not a ViT on two shared CPU cores; `--encoder tiny` uses the tiny ViT.
The checkpoint is a random head with a run_spec for that encoder (what matters is memory and resumption).

Runs, each a fresh process (its own peak RSS):
1. baseline: imports + checkpoint + sample only (the floor of the RSS);
2. the first eighth of the spots, and 3. all spots: peak RSS should not grow with the number of spots;
4. kill -9: a run on the first eighth in a fresh folder is killed with SIGKILL once a chunk is saved, then rerun:
   it must reuse the saved chunks and give exactly run 2's predictions.
"""
from __future__ import annotations

import argparse, json, os, platform, resource, shutil, signal, subprocess, sys, time
from datetime import datetime
from pathlib import Path

import numpy as np
from _record import append_record, cpu_model

ROOT = Path(__file__).resolve().parents[1]
if 'PYTHONPATH' not in os.environ: sys.path.insert(1, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def rgbstats(x):
    "(B, 22) float32: per-channel mean and sd, and the mean intensity on a 4 x 4 grid, of uint8 (B, 224, 224, 3) patches (every 4th pixel)."
    x = np.asarray(x)[:, ::4, ::4].astype(np.float32) / 255
    b, h, w, _ = x.shape
    g = x.mean(-1)[:, :h // 4 * 4, :w // 4 * 4].reshape(b, 4, h // 4, 4, w // 4).mean((2, 4)).reshape(b, 16)
    return np.concatenate([x.mean((1, 2)), x.std((1, 2)), g], 1).astype(np.float32)


def bench_encoder(name):
    from vri_text.features import Encoder, get_encoder
    if name == 'tiny': return get_encoder('tiny', weights='random', device='cpu')
    return Encoder(name='rgbstats', model=rgbstats, transform=lambda x: x, precision='fp32', out_dim=22, weights='v1', kind='numpy', device='cpu')


def make_checkpoint(path, enc, n_genes=1000):
    from vri_text.dataset import RunSpec, PATCH_KEYS
    from vri_text.head import GeneHead, Normalisation, save_checkpoint
    from vri_text.patching import PatchConfig
    done = Path(str(path) + '.json')
    if done.exists() and json.loads(done.read_text()).get('run_spec', {}).get('encoder_id') == enc.id: return done   # a checkpoint of another encoder id is rewritten
    rng = np.random.default_rng(0)
    spec = RunSpec(patch={k: getattr(PatchConfig(), k) for k in PATCH_KEYS}, encoder=enc.name, encoder_id=enc.id,
                   weights='random' if enc.name == 'tiny' else None, genes=tuple(f'G{i:04d}' for i in range(n_genes)))
    norm = Normalisation.fit(rng.normal(size=(50, enc.out_dim)), rng.normal(size=(50, n_genes)))
    return save_checkpoint(path, GeneHead(enc.out_dim, n_genes, hidden=(256,)), norm, spec)


def child(a):
    "One run in this process; print a JSON line."
    import anndata  # noqa: F401  (imports before the clock, as for a user)
    from vri_text.inference import he_only_sample
    from vri_text.stream import infer_slide
    from vri_text.head import load_checkpoint
    from vri_text.data import Sample
    enc = bench_encoder(a.encoder)
    ck = load_checkpoint(a.ckpt)
    smp = he_only_sample(a.wsi, 'wsi40x', pitch_um=a.pitch)
    if a.limit: smp = Sample(smp.sample_id, smp.adata[:a.limit].copy(), smp.wsi_path, smp.mpp)
    r = dict(spots=smp.n_spots)
    if a.mode == 'run':
        t0 = time.perf_counter()
        r.update(infer_slide(smp, ck, a.work_dir, encoder=enc, chunk_spots=a.chunk, batch_size=a.batch, workers=a.workers, block_px=a.block_px))
        r['wall_s'] = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    r.update(peak_rss_mib=ru.ru_maxrss / 1024, cpu_s=ru.ru_utime + ru.ru_stime)
    print(json.dumps(r), flush=True)


def run_child(a, mode, work_dir, limit=0, kill_after_chunks=None):
    cmd = [sys.executable, __file__, '--child', mode, '--wsi', str(a.wsi), '--ckpt', str(a.ckpt), '--work-dir', str(work_dir),
           '--pitch', str(a.pitch), '--limit', str(limit), '--chunk', str(a.chunk), '--batch', str(a.batch), '--workers', str(a.workers),
           '--block-px', str(a.block_px), '--encoder', a.encoder]
    env = {**os.environ, 'VRI_TEXT_PROGRESS': '0'}
    if kill_after_chunks is None:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if out.returncode: sys.exit(f"child failed ({out.returncode}):\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    t0 = time.time()
    while p.poll() is None:
        n = len(list(Path(work_dir).glob('infer/*/chunk*.npz')))
        if n >= kill_after_chunks: break
        time.sleep(0.2)
    if p.poll() is not None: sys.exit('the run ended before it could be killed; use more spots or smaller chunks')
    os.kill(p.pid, signal.SIGKILL); p.wait()
    left = [q.name for q in Path(work_dir).glob('infer/*/work/**/.*.tmp*')]
    return dict(killed_after_s=time.time() - t0, chunks_saved=n, temp_files_left=len(left))


def same_predictions(a, b, chunk=8192):
    import anndata
    A, B = anndata.read_h5ad(a, backed='r'), anndata.read_h5ad(b, backed='r')
    try:
        if list(A.obs_names) != list(B.obs_names) or A.shape != B.shape: return False
        return all(np.array_equal(A.X[i:i + chunk], B.X[i:i + chunk]) for i in range(0, A.n_obs, chunk))
    finally: A.file.close(); B.file.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--work', type=Path, default=Path('/tmp/vri13'))
    ap.add_argument('--wsi', type=Path, default=None, help='the slide (default: generated under --work)')
    ap.add_argument('--pitch', type=float, default=33.0, help='spot pitch in um (33: ~100k spots)')
    ap.add_argument('--chunk', type=int, default=4096)
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--block-px', type=int, default=1024)
    ap.add_argument('--encoder', default='rgbstats', choices=['rgbstats', 'tiny'])
    ap.add_argument('--record', type=Path, default=None)
    ap.add_argument('--child', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--ckpt'); ap.add_argument('--work-dir'); ap.add_argument('--limit', type=int, default=0)
    a = ap.parse_args()
    if a.child: a.mode = a.child; return child(a)

    from wsi_slide import write_wsi40x
    a.wsi = a.wsi or write_wsi40x(a.work/'wsi40x.tif')[0]
    a.ckpt = make_checkpoint(a.work/f'ck_{a.encoder}', bench_encoder(a.encoder))
    runs = a.work/'wsi_runs'
    shutil.rmtree(runs, ignore_errors=True)
    load0 = os.getloadavg()
    base = run_child(a, 'baseline', runs/'base')
    n_all = base['spots']; q = n_all // 8
    print('baseline', base, flush=True)
    eighth = run_child(a, 'run', runs/'eighth', limit=q); print('eighth', {k: eighth[k] for k in ('spots', 'predicted', 'wall_s', 'peak_rss_mib')}, flush=True)
    full = run_child(a, 'run', runs/'full'); print('full', {k: full[k] for k in ('spots', 'predicted', 'wall_s', 'peak_rss_mib')}, flush=True)
    kill = run_child(a, 'run', runs/'kill', limit=q, kill_after_chunks=1); print('killed', kill, flush=True)
    resumed = run_child(a, 'run', runs/'kill', limit=q); print('resumed', {k: resumed[k] for k in ('reused', 'chunks', 'wall_s')}, flush=True)
    same = same_predictions(eighth['path'], resumed['path'])
    load1 = os.getloadavg()
    cpu = cpu_model()
    import openslide
    with openslide.OpenSlide(str(a.wsi)) as sl: W, H = sl.dimensions
    gb = lambda r: f"{r['peak_rss_mib']:.0f} MiB"
    lines = [f"\n## {datetime.now():%Y-%m-%d %H:%M} — {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}",
             f"\nLoad average before {load0[0]:.2f}, after {load1[0]:.2f}. Slide {W} x {H} px at 0.25 um/px ({a.wsi.stat().st_size / 2**20:.0f} MiB JPEG TIFF); "
             f"hex grid of {a.pitch:g} um over the tissue: {n_all} spots; patches 224 px at 0.5 um/px (level 1, exact crops); encoder {a.encoder}; "
             f"head 1000 genes; chunk_spots {a.chunk}, batch {a.batch}, {a.workers} reader threads, block_px {a.block_px}. "
             f"All of the slide's patches would be {n_all * 224 * 224 * 3 / 2**30:.1f} GiB, its predictions {n_all * 1000 * 4 / 2**30:.2f} GiB.\n",
             "| run | spots | predicted | wall | spots/s | peak RSS |", "|---|---|---|---|---|---|",
             f"| imports + checkpoint + spots only | {base['spots']} | - | - | - | {gb(base)} |",
             f"| infer_slide, first eighth | {eighth['spots']} | {eighth['predicted']} | {eighth['wall_s']:.0f} s | {eighth['spots'] / eighth['wall_s']:.0f} | {gb(eighth)} |",
             f"| infer_slide, all spots | {full['spots']} | {full['predicted']} | {full['wall_s']:.0f} s | {full['spots'] / full['wall_s']:.0f} | {gb(full)} |",
             f"| first eighth, killed (SIGKILL) after {kill['chunks_saved']} chunks ({kill['killed_after_s']:.0f} s) | {q} | - | - | - | - |",
             f"| ... rerun: resumed | {resumed['spots']} | {resumed['predicted']} | {resumed['wall_s']:.0f} s | - | {gb(resumed)} |",
             f"\nResumed run reused {resumed['reused']} of {resumed['chunks']} chunks; its predictions equal the uninterrupted run's: {'yes' if same else 'NO'}. "
             f"Peak RSS all spots / first eighth: {full['peak_rss_mib'] / eighth['peak_rss_mib']:.2f}."]
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.record: append_record(a.record, "# Whole-slide inference in bounded memory\n\nScript: `bench/bench_wsi.py` (see its docstring).\n", text)


if __name__ == '__main__':
    main()
