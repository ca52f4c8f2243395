"""Maximal covering at county scale: 1,000 candidates x 200,000 demand points.

The walking network is synthetic but real-sized: a 400 x 400 street grid (160,000 nodes,
80 m blocks, 32 km across, 10% of street segments removed), walking minutes by Dijkstra
on it (80 m/min, 10-minute cutoff) plus each point's own off-network leg, so points at
the same node can still differ. Demand: 200,000 points around 60 hotspots plus a
uniform background; candidates: 1,000 nodes, half near demand, half anywhere.

For p = 5, 10, 20 it prints our MILP time (model build + merge + solve), status and gap,
the greedy-plus-swap objective beside it, and spopt's MCLP with its default solver (PuLP's
CBC) on the same instance in a subprocess killed after ``--spopt-limit`` seconds. spopt
needs a dense demand x candidate matrix (200,000 x 1,000 = 1.6 GB of float64, then a PuLP
model with 200 million coefficients), which is hopeless here, so it runs on the first
``--spopt-demand`` demand points (default 20,000), and ours is timed on that same
subset too, for the ratio.

Usage::

    .venv/bin/python bench/locate.py [--seed 0] [--spopt-limit 600] [--spopt-demand 20000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

SPEED = 80.0  # m/min
CUTOFF_MIN = 10.0


def make_instance(seed: int, n_demand: int = 200_000, n_cand: int = 1_000, side: int = 250):
    rng = np.random.default_rng(seed)
    block = 80.0
    n = side * side
    idx = np.arange(n).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.10
    u, v = u[keep], v[keep]
    length = block * rng.uniform(0.9, 1.3, len(u))
    g = sparse.coo_matrix((length, (u, v)), shape=(n, n)).tocsr()
    g = g + g.T
    xy = np.stack(np.divmod(np.arange(n), side), axis=1).astype(float) * block
    # demand: hotspots + background
    centres = rng.uniform(0, side * block, size=(40, 2))
    k = rng.integers(0, 40, n_demand)
    pts = centres[k] + rng.normal(0, 700, size=(n_demand, 2))
    bg = rng.random(n_demand) < 0.2
    pts[bg] = rng.uniform(0, side * block, size=(int(bg.sum()), 2))
    pts = np.clip(pts, 0, (side - 1) * block)
    node = (np.rint(pts[:, 0] / block) * side + np.rint(pts[:, 1] / block)).astype(np.int64)
    leg = np.hypot(pts[:, 0] - xy[node, 0], pts[:, 1] - xy[node, 1])
    weight = rng.integers(1, 4, n_demand).astype(float)  # e.g. fatal counted 3x
    # candidates: half near demand, half anywhere
    near = node[rng.choice(n_demand, n_cand // 2, replace=False)]
    anywhere = rng.choice(n, n_cand - n_cand // 2, replace=False)
    cand_nodes = np.unique(np.concatenate([near, anywhere]))
    while len(cand_nodes) < n_cand:
        cand_nodes = np.unique(np.concatenate([cand_nodes, rng.choice(n, n_cand, replace=False)]))
    cand_nodes = cand_nodes[:n_cand]
    # demand points grouped by node
    order = np.argsort(node, kind="stable")
    node_ptr = np.searchsorted(node[order], np.arange(n + 1))
    limit = CUTOFF_MIN * SPEED
    rows, cols, vals = [], [], []
    for s in range(0, n_cand, 50):
        dist = csgraph.dijkstra(g, directed=False, indices=cand_nodes[s : s + 50], limit=limit)
        for r, drow in enumerate(dist):
            reach = np.flatnonzero(np.isfinite(drow))
            starts, ends = node_ptr[reach], node_ptr[reach + 1]
            cnt = ends - starts
            if cnt.sum() == 0:
                continue
            spans = [np.arange(a, b) for a, b in zip(starts, ends, strict=True) if b > a]
            dpts = order[np.concatenate(spans)]
            metres = np.repeat(drow[reach], cnt) + leg[dpts]
            ok = metres <= limit
            rows.append(np.full(int(ok.sum()), s + r))
            cols.append(dpts[ok])
            vals.append(metres[ok] / SPEED)
    costs = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_cand, n_demand),
    )
    return costs, weight, n


def _spopt_worker(dense_dt, w, p, q) -> None:  # type: ignore[no-untyped-def]
    import warnings

    warnings.filterwarnings("ignore")
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    m = MCLP.from_cost_matrix(dense_dt, w, service_radius=CUTOFF_MIN, p_facilities=p)
    t_build = time.perf_counter() - t0
    m.solve(pulp.PULP_CBC_CMD(msg=False))
    q.put((time.perf_counter() - t0, t_build, float(pulp.value(m.problem.objective))))


def run_spopt(costs: sparse.csr_matrix, w: np.ndarray, p: int, limit: float):
    dense = np.full((costs.shape[1], costs.shape[0]), 1e9)
    coo = costs.tocoo()
    dense[coo.col, coo.row] = coo.data
    ctx = mp.get_context("spawn")  # HiGHS threads in this process do not survive a fork
    q = ctx.Queue()
    proc = ctx.Process(target=_spopt_worker, args=(dense, w, p, q))
    proc.start()
    proc.join(limit)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return None
    return None if q.empty() else q.get()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spopt-limit", type=float, default=600.0)
    ap.add_argument("--spopt-demand", type=int, default=20_000)
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--ps", default="5,10,20")
    ap.add_argument("--curve", type=int, default=0,
                    help="also time the coverage curve for 1..K sites: one model re-solved with warm "
                         "starts (coverage_curve) against K fresh models, on both sizes")
    ap.add_argument("--curve-limit", type=float, default=None, help="time limit of each curve (s)")
    args = ap.parse_args()

    from siting.locate import MaximalCovering

    t0 = time.perf_counter()
    costs, w, n_nodes = make_instance(args.seed)
    print(f"# instance: {costs.shape[0]} candidates x {costs.shape[1]} demand points, "
          f"{n_nodes} network nodes, {costs.nnz} (candidate, demand) pairs within "
          f"{CUTOFF_MIN:g} min; built in {time.perf_counter() - t0:.1f} s (not timed below)")
    import os

    print(f"# bench/locate.py {' '.join(sys.argv[1:])}")
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    sub = args.spopt_demand
    costs_s, w_s = costs[:, :sub].tocsr(), w[:sub]
    print(f"{'p':>3} {'size':>14} {'rows':>7} {'ours_s':>7} {'status':>8} {'gap':>8} "
          f"{'objective':>11} {'greedy':>11} {'greedy_s':>8} {'spopt_s':>8} {'spopt_obj':>11} "
          f"{'ratio':>7}")
    for p in (int(x) for x in args.ps.split(",") if x):
        for label, c, ww in (("1000x200000", costs, w), (f"1000x{sub}", costs_s, w_s)):
            t1 = time.perf_counter()
            model = MaximalCovering(c, weights=ww, p=p)
            r = model.solve()
            ours = time.perf_counter() - t1
            t2 = time.perf_counter()
            g = model.solve(method="greedy")
            gs = time.perf_counter() - t2
            sp_txt, so_txt, ratio = "-", "-", "-"
            if label != "1000x200000" and not args.no_spopt:
                res = run_spopt(c, ww, p, args.spopt_limit)
                if res is None:
                    sp_txt, ratio = f">{args.spopt_limit:.0f}", f">{args.spopt_limit / ours:.0f}x"
                else:
                    sp_txt = f"{res[0]:.1f}"
                    so_txt = f"{res[2]:.0f}"
                    ratio = f"{res[0] / ours:.0f}x"
            print(f"{p:>3} {label:>14} {model.rows.n:>7} {ours:>7.2f} {r.status[:8]:>8} "
                  f"{r.gap:>8.1e} {r.objective:>11.0f} {g.objective:>11.0f} {gs:>8.2f} "
                  f"{sp_txt:>8} {so_txt:>11} {ratio:>7}", flush=True)
    if args.curve:
        curve_rows(costs, w, costs_s, w_s, sub, args.curve, args.curve_limit)
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")
    return 0


def curve_rows(costs, w, costs_s, w_s, sub, k_max, limit) -> None:  # type: ignore[no-untyped-def]
    """The coverage curve 1..k_max: ``coverage_curve`` (one model, each solve warm-started
    from the previous set) against a fresh model per number of sites (as before), with the
    same time limit shared the same way (an equal part of what is left per solve)."""
    from siting.budget import Step
    from siting.locate import MaximalCovering, coverage_curve

    print(f"# coverage curve 1..{k_max}: wall and process CPU seconds (all threads), time limit {limit}")
    print(f"{'size':>14} | {'curve_s':>8} {'cpu':>7} {'optimal':>7} | {'fresh_s':>8} {'cpu':>7} {'optimal':>7} | "
          f"{'same':>5} {'x wall':>6} {'x cpu':>6}")
    for label, c, ww in (("1000x200000", costs, w), (f"1000x{sub}", costs_s, w_s)):
        w0, c0 = time.perf_counter(), time.process_time()
        cur = coverage_curve(c, k_max=k_max, weights=ww, time_limit=limit)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        w0, c0 = time.perf_counter(), time.process_time()
        share = Step(limit)
        fresh = []
        for k in range(1, k_max + 1):
            fresh.append(MaximalCovering(c, weights=ww, p=k).solve(share.allot(k_max - k + 1)))
        wall_f, cpu_f = time.perf_counter() - w0, time.process_time() - c0
        objs = np.array([r.objective for r in fresh])
        same = bool(np.allclose(cur["covered_demand_weight"].to_numpy(), objs, rtol=1e-9))
        n_opt = int((cur["status"] == "optimal").sum())
        n_opt_f = sum(r.status == "optimal" for r in fresh)
        print(f"{label:>14} | {wall:>8.2f} {cpu:>7.2f} {n_opt:>7} | {wall_f:>8.2f} {cpu_f:>7.2f} {n_opt_f:>7} | "
              f"{str(same):>5} {wall_f / wall:>5.1f}x {cpu_f / cpu:>5.1f}x", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
