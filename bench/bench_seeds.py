"""Benchmark: the poster's 8 seeds trained one after another (the engine with one seed each) vs together (one batched `train_ensemble`).

Same data, same config, same seeds. Prints and appends a row to bench/seeds_results.md with the
machine, date, both wall times and their ratio, and checks that both give the same per-seed
results (chosen epoch, correlations). Not a test: run it by hand, e.g.

    .venv/bin/python bench/bench_seeds.py                      # 8000 spots x 1536 -> 1000 genes, 3 epochs
    .venv/bin/python bench/bench_seeds.py --device cuda        # on a GPU
    .venv/bin/python bench/bench_seeds.py --spots 2000 --dim 256 --genes 200 --threads 2
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path

import numpy as np


def problem(spots:int, dim:int, genes:int, rank:int=16, seed:int=0):
    "Random low-rank nonlinear features -> genes data with a 75/15/10 split of 40 pseudo-samples."
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(spots, rank))
    X = np.tanh(z @ rng.normal(size=(rank, dim))/np.sqrt(rank)) + 0.6*rng.normal(size=(spots, dim))
    Y = np.log1p(np.exp(z @ rng.normal(size=(rank, genes))/np.sqrt(rank))) + 0.6*rng.normal(size=(spots, genes))
    sample = np.arange(spots) * 40 // spots
    lab = np.where(sample < 29, 'train', np.where(sample < 35, 'val', 'test'))
    idx = {k: np.flatnonzero(lab == k) for k in ('train', 'val', 'test')}
    return X.astype(np.float32), Y.astype(np.float32), idx


def machine(device:str) -> str:
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): cpu = line.split(':', 1)[1].strip(); break
    except OSError: pass
    s = f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__} with {torch.get_num_threads()} threads"
    if device.startswith('cuda'): s += f", GPU {torch.cuda.get_device_name()}"
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--spots', type=int, default=8000)
    ap.add_argument('--dim', type=int, default=1536)
    ap.add_argument('--genes', type=int, default=1000)
    ap.add_argument('--hidden', type=int, default=1024)
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=256)
    ap.add_argument('--seeds', default='40,41,42,43,44,45,51,54')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: leave as is)')
    ap.add_argument('--out', default=str(Path(__file__).with_name('seeds_results.md')))
    ap.add_argument('--note', default='', help='free text for the results row')
    a = ap.parse_args()
    os.environ.setdefault('VRI_TEXT_PROGRESS', '0')
    import torch
    from vri_text.train import TrainConfig, train_ensemble
    if a.threads: torch.set_num_threads(a.threads)
    seeds = [int(s) for s in a.seeds.split(',')]
    X, Y, idx = problem(a.spots, a.dim, a.genes)
    cfg = TrainConfig(hidden=(a.hidden,), epochs=a.epochs, batch_size=a.batch_size, patience=a.epochs + 1, device=a.device)
    sync = torch.cuda.synchronize if a.device.startswith('cuda') else (lambda: None)
    # warm-up (allocator, kernels), not timed
    w = {k: np.arange(len(v[::10])) + sum(len(u[::10]) for u in list(idx.values())[:i]) for i, (k, v) in enumerate(idx.items())}
    sub = np.concatenate([v[::10] for v in idx.values()])
    train_ensemble(X[sub], Y[sub], w, cfg.replace(epochs=1), seeds=seeds[:2])
    sync(); t = time.perf_counter()
    single = [train_ensemble(X, Y, idx, cfg, seeds=(s,))[0] for s in seeds]
    sync(); t_seq = time.perf_counter() - t
    t = time.perf_counter()
    ens = train_ensemble(X, Y, idx, cfg, seeds=seeds)
    sync(); t_ens = time.perf_counter() - t
    dv = max(abs(a_.val_best - b_.val_best) for a_, b_ in zip(single, ens))
    dt_ = max(abs(a_.test_at_val - b_.test_at_val) for a_, b_ in zip(single, ens))
    same_epoch = all(a_.val_epoch == b_.val_epoch for a_, b_ in zip(single, ens))
    ratio = t_ens/t_seq
    print(f'sequential {len(seeds)} x one-seed fit: {t_seq:.1f} s ({t_seq/len(seeds):.1f} s/seed)')
    print(f'train_ensemble of {len(seeds)}:        {t_ens:.1f} s  -> ensemble/sequential = {ratio:.2f} '
          f'(= {len(seeds)*ratio:.1f}x one seed)')
    print(f'max |diff| val corr {dv:.2e}, test corr {dt_:.2e}, same chosen epochs: {same_epoch}')
    out = Path(a.out)
    if not out.exists():
        out.write_text('# Seed runs: sequential vs batched ensemble\n\n'
                       'Written by `bench/bench_seeds.py`. `ratio` = ensemble time / time of the same seeds run one '
                       'after another; the ensemble costs `ratio × n_seeds` single seeds.\n\n'
                       '| date | machine | device | spots × D → genes (hidden) | epochs | seeds | sequential s | ensemble s | ratio | ensemble cost in single seeds | max abs diff (val, test corr) | note |\n'
                       '|---|---|---|---|---|---|---|---|---|---|---|---|\n')
    with out.open('a') as f:
        f.write(f'| {dt.date.today().isoformat()} | {machine(a.device)} | {a.device} | {a.spots} × {a.dim} → {a.genes} ({a.hidden}) | '
                f'{a.epochs} | {len(seeds)} | {t_seq:.1f} | {t_ens:.1f} | {ratio:.2f} | {len(seeds)*ratio:.1f} | '
                f'{dv:.1e}, {dt_:.1e} | {a.note} |\n')
    print(f'appended to {out}')


if __name__ == '__main__': main()
