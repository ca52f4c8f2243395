"""OR-Library p-median instances (Beasley 1990) through ``siting.locate.PMedian``.

For each instance pmed1..pmed40: our objective against the published optimum, the
reported gap and status, our time, and spopt's textbook PMedian (PuLP + HiGHS, the same
solver) on the same distance matrix in the same run, in a subprocess killed after
``min(--spopt-limit, max(60 s, --spopt-factor x our time))`` seconds (reported as
``>limit``: spopt had not finished when it was stopped).

Usage::

    .venv/bin/python bench/orlib.py --data DIR [--only 1,6,16] [--spopt-limit 300] [--no-spopt]

Unlike the other benchmarks this one cannot build its inputs: the 40 instances are
Beasley's published files (``pmed1.txt`` .. ``pmed40.txt`` and ``pmedopt.txt`` from
OR-Library), whose generator and seeds were never published with them, so ``--data``
must name a folder holding them (the script reads nothing else). Format: first line
``n m p``, then ``i j cost`` edges; duplicate edges: the last one counts; undirected.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph



def read_instance(path: Path) -> tuple[np.ndarray, int]:
    """Distance matrix (shortest paths) and p of one instance."""
    tokens = path.read_text().split()
    n, m, p = (int(t) for t in tokens[:3])
    edges: dict[tuple[int, int], float] = {}
    vals = tokens[3 : 3 + 3 * m]
    for k in range(m):
        i, j, c = int(vals[3 * k]) - 1, int(vals[3 * k + 1]) - 1, float(vals[3 * k + 2])
        edges[(min(i, j), max(i, j))] = c  # the last occurrence counts (README trap 1)
    ij = np.array(list(edges.keys()), dtype=np.int64)
    c = np.array(list(edges.values()))
    g = sparse.coo_matrix((c, (ij[:, 0], ij[:, 1])), shape=(n, n)).tocsr()
    d = csgraph.shortest_path(g, method="D", directed=False)  # README trap 2: undirected
    return d, p


def read_optima(data: Path) -> dict[str, float]:
    out = {}
    for line in (data / "pmedopt.txt").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = float(parts[1])
    return out


def _spopt_worker(d: np.ndarray, p: int, q: mp.Queue) -> None:  # type: ignore[type-arg]
    import warnings

    warnings.filterwarnings("ignore")
    import pulp
    from spopt.locate import PMedian as SpoptPMedian

    t0 = time.perf_counter()
    model = SpoptPMedian.from_cost_matrix(d, np.ones(d.shape[0]), p_facilities=p)
    model.solve(pulp.HiGHS(msg=False))
    q.put((time.perf_counter() - t0, float(pulp.value(model.problem.objective))))


def run_spopt(d: np.ndarray, p: int, limit: float) -> tuple[float | None, float | None]:
    """spopt's time and objective, or (None, None) when it ran past the limit."""
    ctx = mp.get_context("spawn")  # HiGHS threads in this process do not survive a fork
    q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    proc = ctx.Process(target=_spopt_worker, args=(d, p, q))
    proc.start()
    proc.join(limit)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return None, None
    if q.empty():
        return None, None
    t, obj = q.get()
    return t, obj


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--data",
        type=Path,
        required=True,
        help="folder with OR-Library's pmed1.txt .. pmed40.txt and pmedopt.txt",
    )
    ap.add_argument("--only", default="", help="comma-separated instance numbers")
    ap.add_argument("--spopt-limit", type=float, default=300.0,
                    help="spopt is stopped after min(this, max(60 s, factor x our time))")
    ap.add_argument("--spopt-factor", type=float, default=3.0)
    ap.add_argument("--no-spopt", action="store_true")
    ap.add_argument("--time-limit", type=float, default=None)
    args = ap.parse_args()

    from siting.locate import PMedian

    optima = read_optima(args.data)
    which = [int(x) for x in args.only.split(",") if x] or list(range(1, 41))
    import os

    print(f"# bench/orlib.py {' '.join(sys.argv[1:])}")
    print(
        f"# {platform.processor() or platform.machine()}, python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'inst':>6} {'n':>4} {'p':>4} {'published':>9} {'ours':>9} {'status':>8} "
        f"{'gap':>8} {'ours_s':>7} {'cpu_s':>7} {'method':>16} {'spopt_s':>9} {'spopt_obj':>9} {'ratio':>6}"
    )
    all_ok = True
    tot_ours = 0.0
    tot_cpu = 0.0
    for k in which:
        name = f"pmed{k}"
        d, p = read_instance(args.data / f"{name}.txt")
        n = d.shape[0]
        t0, c0 = time.perf_counter(), time.process_time()
        res = PMedian(d, p=p).solve(args.time_limit)
        ours = time.perf_counter() - t0
        cpu = time.process_time() - c0
        tot_ours += ours
        tot_cpu += cpu
        ok = res.status == "optimal" and abs(res.objective - optima[name]) < 0.5
        all_ok &= ok
        if args.no_spopt:
            st, so = None, None
            st_txt, so_txt, ratio = "-", "-", "-"
        else:
            limit = min(args.spopt_limit, max(60.0, args.spopt_factor * ours))
            st, so = run_spopt(d, p, limit)
            st_txt = f"{st:.2f}" if st is not None else f">{limit:.0f}"
            so_txt = f"{so:.0f}" if so is not None else "-"
            ratio = f"{(st if st is not None else limit) / ours:.1f}x"
            if st is None:
                ratio = ">" + ratio
        print(
            f"{name:>6} {n:>4} {p:>4} {optima[name]:>9.0f} {res.objective:>9.0f} "
            f"{res.status[:8]:>8} {res.gap:>8.1e} {ours:>7.2f} {cpu:>7.2f} {res.method:>16} {st_txt:>9} {so_txt:>9} "
            f"{ratio:>6}",
            flush=True,
        )
    print(
        f"# all matched published optima with proof: {all_ok}; our total {tot_ours:.1f} s wall, {tot_cpu:.1f} s CPU; "
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
