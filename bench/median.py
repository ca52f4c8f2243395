"""p-median: the Lagrangian bound with reduced-cost fixing against the plain MILP, one run.

``PMedian.solve`` first runs a subgradient optimisation of the Lagrangian relaxation of
"each demand row is served once" from the greedy-plus-swap set
(``siting/locate/_median_bound.py``): when its bound meets the best set the solve stops,
else the MILP runs on the candidates reduced-cost fixing left free. The plain MILP is the
same solve with that step switched off (``PMedian.lagrangian = False``): the row
generation on the radius formulation used before. Both are timed in the same process,
one after the other, wall and process CPU seconds (all threads).

Cases:

* ``demo``: the demo scenario (``data/demo``: central Helsinki's walk network, 59
  candidates, 1,800 synthetic incidents), walking minutes within its 10-minute cutoff,
  penalty 20 minutes beyond (the selection's default: twice the cutoff), the demo's two
  regional quotas; p = 2 (the demo's own) and 5 and 10;
* OR-Library instances (``--orlib DIR --only 16,36``): Beasley's files, as
  ``bench/orlib.py`` reads them.

Usage::

    .venv/bin/python bench/median.py [--ps 2,5,10] [--orlib DIR --only 36] [--plain-limit 900]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np


def demo_model_inputs() -> dict:
    """The demo's walking minutes, weights, ids, regions and exclusions."""
    from siting.cli.run import read_scenario_file
    from siting.pipeline import prepare, within

    root = Path(__file__).resolve().parents[1]
    sc, _ = read_scenario_file(root / "data" / "demo" / "scenario.toml")
    prep = prepare(sc, pairs=True)  # the reach matrix itself, not only per-site sums
    m = within(prep.demand_metres_wide, sc.cutoff_m)
    m.data = m.data / sc.speed_m_per_min
    cut = sc.cutoff_m / sc.speed_m_per_min
    regions = [r if r else None for r in prep.candidate_region]
    return {
        "costs": m,
        "weights": prep.demand_weight,
        "candidate_ids": list(prep.candidate_ids),
        "regions": regions,
        "excluded": [i for i, e in zip(prep.candidate_ids, prep.excluded, strict=True) if e],
        "cutoff": cut,
        "penalty": 2 * cut,
    }


def timed(build, plain: bool, limit: float | None):  # type: ignore[no-untyped-def]
    from siting.locate import PMedian

    saved = PMedian.lagrangian
    PMedian.lagrangian = not plain
    try:
        w0, c0 = time.perf_counter(), time.process_time()
        model = build()
        r = model.solve(limit)
        return r, model, time.perf_counter() - w0, time.process_time() - c0
    finally:
        PMedian.lagrangian = saved


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ps", default="2,5,10", help="p for the demo case ('' for none)")
    ap.add_argument("--orlib", type=Path, help="folder with OR-Library pmedN.txt files")
    ap.add_argument("--only", default="", help="OR-Library instance numbers, e.g. 16,36")
    ap.add_argument("--plain-limit", type=float, default=None, help="time limit of the plain MILP (s)")
    args = ap.parse_args()

    from siting.locate import PMedian

    print(f"# bench/median.py {' '.join(sys.argv[1:])}")
    print(f"# {platform.machine()}, python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average at start {os.getloadavg()[0]:.1f}")
    cases = []
    if args.ps:
        inp = demo_model_inputs()
        quotas = {"West (Kamppi)": (">=", 1), "East (Kluuvi)": (">=", 1)}
        for p in (int(x) for x in args.ps.split(",")):
            cases.append((f"demo p={p}", lambda p=p: PMedian(p=p, quotas=quotas, **inp), None))
    if args.orlib and args.only:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from orlib import read_instance, read_optima

        opt = read_optima(args.orlib)
        for k in args.only.split(","):
            d, p = read_instance(args.orlib / f"pmed{k}.txt")
            cases.append((f"pmed{k} p={p}", lambda d=d, p=p: PMedian(d, p=p), opt.get(f"pmed{k}")))
    print(f"{'case':>14} {'rows':>6} | {'ours_s':>7} {'cpu':>7} {'status':>8} {'method':>10} "
          f"{'objective':>12} | {'plain_s':>7} {'cpu':>7} {'status':>8} | {'same':>5} {'x wall':>6} {'x cpu':>6}")
    for name, build, published in cases:
        r, model, wall, cpu = timed(build, plain=False, limit=None)
        rp, _, wall_p, cpu_p = timed(build, plain=True, limit=args.plain_limit)
        same = abs(r.objective - rp.objective) <= 1e-9 * max(1.0, abs(r.objective))
        if published is not None:
            same = same and round(r.objective) == round(published)
        print(f"{name:>14} {model.rows.n:>6} | {wall:>7.2f} {cpu:>7.2f} {r.status[:8]:>8} {r.method:>10} "
              f"{r.objective:>12.6g} | {wall_p:>7.2f} {cpu_p:>7.2f} {rp.status[:8]:>8} | {str(same):>5} "
              f"{wall_p / wall:>5.1f}x {cpu_p / cpu:>5.1f}x", flush=True)
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
