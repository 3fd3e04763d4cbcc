"""Bounded local load test of the browser viewer (`vri_text.app`): tile latency under concurrent clients,
the server's memory over a long pan session, and the cost of a gene switch for 10k spots.

    .venv/bin/python bench/bench_app.py [--clients 4] [--requests 3000] [--out bench/app_results.md]

Everything runs on 127.0.0.1. The server is a separate process (`--serve`, so its memory can be read from
/proc) serving the tiny synthetic run plus one large synthetic slide (12288 x 8192 px at 0.25 um/px, a
pyramidal JPEG TIFF). Clients are threads with keep-alive HTTP connections; each pans and zooms like a user:
a random walk of 1024 x 768 px viewports over the pyramid, requesting every tile a viewport needs. Not a
test: timings depend on the machine and its load, which are recorded with the results.
"""
import argparse, http.client, json, os, platform, random, socket, subprocess, sys, tempfile, threading, time
from pathlib import Path

import numpy as np
from _record import cpu_model

ROOT = Path(__file__).resolve().parents[1]


def big_slide(path: Path, w=12288, h=8192, mpp=0.25) -> Path:
    "A large pyramidal slide with texture at every scale (so JPEG tiles are not trivially small)."
    from vri_text.synthetic import write_slide
    if path.exists(): return path
    rng = np.random.default_rng(0)
    base = rng.integers(60, 230, (h // 64, w // 64, 3), dtype=np.uint8)
    img = np.kron(base, np.ones((64, 64, 1), np.uint8))
    img = (img.astype(np.int16) + rng.integers(-25, 25, (h, w, 1), dtype=np.int16)).clip(0, 255).astype(np.uint8)
    write_slide(path, img, mpp, quality=85)
    return path


def serve(args):
    "Server process: the run plus the big slide, until killed."
    from vri_text.app import RunData, make_server
    data = RunData(args.run, slides=args.slides, cache_mb=args.cache_mb)
    if args.spots:   # a dense grid of spots with random values over the big slide (a stand-in for a 10k-spot sample)
        from vri_text.app import SpotData
        name, path = next(iter(data.slides.items()))
        g = data.tiles(path).grid
        side = int(np.ceil(np.sqrt(args.spots)))
        xs, ys = np.meshgrid(np.linspace(200, g.width - 200, side), np.linspace(200, g.height - 200, side))
        xy = np.stack([xs.ravel(), ys.ravel()], 1)[:args.spots]
        genes = data.model.genes
        pred = np.random.default_rng(0).gamma(2, 1, (len(xy), len(genes))).astype(np.float32)
        data.add_spots(f'slide:{name}', SpotData(Path(path).stem, Path(path), 0.25, np.array([f'b{i}' for i in range(len(xy))]), xy, genes, pred,
                                                  diameter_um=0.25 * 0.5 * (g.width - 400) / side))
    print('READY', flush=True)
    make_server(data, port=args.port, show=False, no_token=True)   # loopback only: the load clients send no token


def rss_kb(pid: int) -> int:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'): return int(line.split()[1])
    return -1


def pan_session(grid, n_steps, rng, vw=1024, vh=768):
    "Tile addresses of a user's pan/zoom walk: per step, every tile of a vw x vh px viewport at some zoom."
    z = grid.max_zoom
    cx, cy = grid.width / 2, grid.height / 2
    for _ in range(n_steps):
        move = rng.random()
        if move < 0.25: z = max(0, z - 1)
        elif move < 0.4: z = min(grid.max_zoom, z + 1)
        s = 2 ** z
        cx = min(max(cx + rng.normal(0, vw * s / 3), 0), grid.width); cy = min(max(cy + rng.normal(0, vh * s / 3), 0), grid.height)
        x0, x1, y0, y1 = cx - vw * s / 2, cx + vw * s / 2, cy - vh * s / 2, cy + vh * s / 2
        zz, tiles = grid.view(x0, y0, x1, y1, vw, max_tiles=64)
        yield [(zz, c, r) for c, r in tiles]


SEEN = set()   # tiles the server has been asked for (across warm-up and measured runs)

def load_test(port, key, grid, clients, n_requests, seed=0):
    "Latencies (s) of tile requests from `clients` threads, and whether each tile was new to the server."
    lat, new, lock, seen = [], [], threading.Lock(), SEEN
    per = n_requests // clients
    def client(i):
        rng = np.random.default_rng(seed + i)
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
        done = 0
        for view in pan_session(grid, 10 ** 6, rng):
            for t in view:
                with lock: fresh = t not in seen; seen.add(t)
                t0 = time.perf_counter()
                conn.request('GET', f'/vri/tile/{key}/{t[0]}/{t[1]}/{t[2]}.jpg')
                r = conn.getresponse(); body = r.read()
                dt = time.perf_counter() - t0
                assert r.status == 200 and body[:2] == b'\xff\xd8', (r.status, t)
                with lock: lat.append(dt); new.append(fresh)
                done += 1
                if done >= per: conn.close(); return
    th = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in th: t.start()
    for t in th: t.join()
    return np.array(lat), np.array(new), time.perf_counter() - t0


def gene_switch(run, n_spots=10_000, n_genes=1000, repeats=20):
    "Server-side cost of a gene switch for n_spots: recolour + the Bokeh patch message that goes to the browser."
    from bokeh.document import Document
    from bokeh.protocol import Protocol
    from vri_text.app import RunData, SpotData, Viewer
    data = RunData(run)
    d0 = data.spots(data.sample_ids[0])
    rng = np.random.default_rng(0)
    side = int(np.ceil(np.sqrt(n_spots)))
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)[:n_spots] * 200.0 + 100   # 100 um pitch at 0.5 um/px
    genes = [f'G{i:04d}' for i in range(n_genes)]
    d = SpotData('big', d0.wsi, 0.5, np.array([f'b{i}' for i in range(n_spots)]), xy, genes, rng.gamma(2, 1, (n_spots, n_genes)).astype(np.float32))
    data.slides['big'] = d0.wsi; data.add_spots('slide:big', d)
    v = Viewer(data, tile_url=lambda k, z, c, r: f'/vri/tile/{k}/{z}/{c}/{r}.jpg')
    doc = Document(); doc.add_root(v.layout.get_root(doc))
    v._on_sample('slide:big')
    events = []
    doc.on_change(lambda e: events.append(e))
    proto, times, sizes = Protocol(), [], []
    for i in range(repeats):
        events.clear()
        t0 = time.perf_counter()
        v.show_gene(genes[(i * 37 + 1) % n_genes])
        msg = proto.create('PATCH-DOC', events)
        size = len(msg.header_json) + len(msg.content_json) + sum(memoryview(b.data).nbytes for b in getattr(msg, 'buffers', []))
        times.append(time.perf_counter() - t0); sizes.append(size)
    return np.array(times), int(np.median(sizes))


def browser_switch(port, chromium, genes, W=470):
    "Per gene switch in headless Chromium: ms from pressing Enter to the new colours arriving in the page, and to them painted."
    from playwright.sync_api import TimeoutError as PWTimeout, sync_playwright
    js = """() => { window._sw = null;
        document.addEventListener('keydown', e => { if (e.key === 'Enter') window._t0 = performance.now(); }, {capture: true, once: true});
        const doc = Object.values(Bokeh.index)[0].model.document;
        const cb = ev => { const m = ev.column_source ?? ev.model;
            if (m && m.data && ('pred' in m.data)) { doc.remove_on_change(cb); const t1 = performance.now();
                requestAnimationFrame(() => requestAnimationFrame(() => { window._sw = [t1 - window._t0, performance.now() - window._t0]; })); } };
        doc.on_change(cb); }"""
    out = []
    with sync_playwright() as pw:
        br = pw.chromium.launch(executable_path=chromium, args=['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                                                                 '--disable-component-update', '--disable-sync', '--no-first-run'])
        pg = br.new_page(viewport={'width': 1380, 'height': 860})
        pg.goto(f'http://127.0.0.1:{port}/'); pg.get_by_text('vri_text viewer').first.wait_for(timeout=60000)
        pg.locator('select').first.select_option(label='big.tif'); pg.wait_for_timeout(4000)
        gi = pg.locator('input[placeholder^="e.g. "]').first
        for g in genes:
            gi.click(); gi.fill(''); gi.type(g, delay=0)
            pg.evaluate(js)                        # listeners in place before Enter
            pg.keyboard.press('Enter')
            try: pg.wait_for_function('() => window._sw !== null', timeout=10000); out.append(pg.evaluate('() => window._sw'))
            except PWTimeout: print('no recolour seen within 10 s for', g); out.append([np.nan, np.nan])
            pg.mouse.move(5, 5); pg.wait_for_timeout(300)
        br.close()
    return np.array(out, float), genes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--serve', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--run', default=None); ap.add_argument('--slides', default=None); ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--clients', type=int, default=4); ap.add_argument('--requests', type=int, default=3000)
    ap.add_argument('--spots', type=int, default=0, help=argparse.SUPPRESS); ap.add_argument('--browser', default=os.environ.get('VRI_TEXT_CHROMIUM', '/usr/bin/chromium'))
    ap.add_argument('--cache-mb', type=float, default=128); ap.add_argument('--long', type=int, default=12000, help='requests of the memory session')
    ap.add_argument('--warmup', type=int, default=200); ap.add_argument('--out', default=str(ROOT / 'bench' / 'app_results.md'))
    args = ap.parse_args()
    if args.serve: return serve(args)
    os.environ.setdefault('VRI_TEXT_PROGRESS', '0'); os.environ.setdefault('HF_HUB_OFFLINE', '1')
    from vri_text.app import RunData, TileGrid
    from vri_text.dataset import prepare_demo
    from vri_text.train import TrainConfig, run_baseline
    _, _, run = prepare_demo('tiny', encoder='handcrafted')
    if not list((run / 'baseline' / 'handcrafted').glob('seed*.json')):
        ds, _, _ = prepare_demo('tiny', encoder='handcrafted'); run_baseline(ds, run / 'baseline' / 'handcrafted', [40], TrainConfig(epochs=4), verbose=False)
    work = Path(tempfile.gettempdir()) / 'vri_bench_app'; work.mkdir(exist_ok=True)
    (work / 'slides').mkdir(exist_ok=True)
    t0 = time.time(); slide = big_slide(work / 'slides' / 'big.tif')
    print(f'slide {slide} ready in {time.time() - t0:.0f} s')
    def start(cache_mb, spots=0):
        with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
        srv = subprocess.Popen([sys.executable, __file__, '--serve', '--run', str(run), '--slides', str(work / 'slides'), '--port', str(port),
                                '--cache-mb', str(cache_mb), '--spots', str(spots)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert srv.stdout.readline().strip() == 'READY'
        for _ in range(200):
            try: socket.create_connection(('127.0.0.1', port), timeout=0.2).close(); break
            except OSError: time.sleep(0.1)
        return srv, port
    srv, port = start(args.cache_mb)
    try:
        data = RunData(run, slides=work / 'slides')   # the same keys as the server's
        key = data.slide_key(slide); g = data.tiles(slide).grid
        lat_w, _, _ = load_test(port, key, g, args.clients, args.warmup, seed=100)                  # warm-up (imports, file handles)
        lat, new, wall = load_test(port, key, g, args.clients, args.requests)
        lat1, _, _ = load_test(port, key, g, 1, min(600, args.requests), seed=50)                  # one client, for comparison
    finally:
        srv.terminate(); srv.wait(10)
    # memory: a long session on a server whose tile cache (4 MB) is far smaller than the tiles asked for, so it evicts all along
    SEEN.clear()
    srv, port = start(4)
    try:
        rss0 = rss_kb(srv.pid)
        samples, stop = [], threading.Event()
        def watch():
            while not stop.is_set(): samples.append(rss_kb(srv.pid)); time.sleep(0.5)
        wt = threading.Thread(target=watch); wt.start()
        latm, newm, wallm = load_test(port, key, g, 2, args.long, seed=7)
        stop.set(); wt.join()
    finally:
        srv.terminate(); srv.wait(10)
    pct = lambda a, q: 1000 * float(np.percentile(a, q)) if len(a) else float('nan')
    gs, gsize = gene_switch(run)
    srv, port = start(args.cache_mb, spots=10_000)
    try: bsw, genes_used = browser_switch(port, args.browser, [n for n in RunData(run).model.genes][1:11])
    finally: srv.terminate(); srv.wait(10)
    load = os.getloadavg()
    cpu = cpu_model()
    rows = [
        ('all tiles', lat), ('tiles new to the server (read + encode)', lat[new]), ('tiles from the cache', lat[~new]), ('1 client, all tiles', lat1)]
    md = [f"# Viewer bench (`bench/bench_app.py`)\n",
          f"Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}; "
          f"load average during the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min; other jobs shared the cores).\n",
          f"Slide: synthetic pyramidal JPEG TIFF {g.width} x {g.height} px, zooms 0-{g.max_zoom}, 256-px tiles. Server: `make_server` in its own "
          f"process on 127.0.0.1 (tiles read in a thread pool, 128 MB tile cache). Load: {args.clients} concurrent keep-alive clients panning and "
          f"zooming (random walk of 1024 x 768 px viewports, every tile of each viewport), {args.warmup} warm-up requests, then {len(lat)} measured "
          f"requests in {wall:.1f} s ({len(lat) / wall:.0f} tiles/s).\n",
          "| requests | n | p50 ms | p95 ms | p99 ms | max ms |", "| --- | --- | --- | --- | --- | --- |"]
    md += [f"| {name} | {len(a)} | {pct(a, 50):.1f} | {pct(a, 95):.1f} | {pct(a, 99):.1f} | {1000 * a.max():.1f} |" for name, a in rows if len(a)]
    md += [f"\nTarget: p95 under 150 ms after warm-up: **{'met' if pct(lat, 95) < 150 else 'NOT met'}** ({pct(lat, 95):.1f} ms, {args.clients} clients).\n",
           f"Memory over a long pan session: a second server with a 4 MB tile cache (far smaller than the {len(SEEN)} distinct tiles, about {len(SEEN) * 12 // 1024} MB, it was asked for), "
           f"2 clients, {len(latm)} requests in {wallm:.0f} s (p95 {pct(latm, 95):.1f} ms); resident memory sampled every 0.5 s: start {rss0 / 1024:.0f} MB, "
           f"after a quarter of the session {samples[len(samples) // 4] / 1024:.0f} MB, max {max(samples) / 1024:.0f} MB, end {samples[-1] / 1024:.0f} MB. "
           f"Bounded: the cache evicts, and every read is a region of at most 2048 px (the slide is never read whole).\n",
           f"Gene switch for 10,000 spots x 1,000 genes (server side: recolour one column, build the Bokeh patch message the browser receives; "
           f"{len(gs)} switches): median {1000 * np.median(gs):.1f} ms, max {1000 * gs.max():.1f} ms, message {gsize / 1024:.0f} kB. "
           f"Target 300 ms: **{'met' if gs.max() < 0.3 else 'NOT met'}** (the browser then recolours 10k circles from that one column).\n",
           f"The same switch seen by a user: headless Chromium (software rendering, no GPU) on a page with 10,000 spots over the big slide "
           f"(the tiny run's 50 genes: a switch sends one column, whatever the number of genes); "
           f"timed inside the page from pressing Enter on a gene in the searchable list to the new colours arriving (the widget's value to the "
           f"server, its callback, the patch back): median {np.nanmedian(bsw[:, 0]):.0f} ms, max {np.nanmax(bsw[:, 0]):.0f} ms; to the spots "
           f"painted (two animation frames later): median {np.nanmedian(bsw[:, 1]):.0f} ms, max {np.nanmax(bsw[:, 1]):.0f} ms over {len(bsw)} switches. "
           f"Target 300 ms: **{'met' if np.nanmax(bsw[:, 1]) < 300 else 'NOT met'}** (every switch painted within it).\n"]
    Path(args.out).write_text('\n'.join(md) + '\n')
    print('\n'.join(md))


if __name__ == '__main__':
    main()
