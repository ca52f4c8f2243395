"""Isochrones at county size: the faces algorithm against buffering every reached piece.

On the county network of ``bench/county.py`` (built in ``--workdir`` when it is not
there yet), 10 candidate sites picked with a fixed seed, 5/10/15-minute walks at 80 m/min,
35 m buffers, in one run:

* old: the reach from the 10 sites, then for every site and cutoff the reached pieces cut
  with ``shapely.ops.substring``, buffered one by one and merged with ``union_all``
  (the algorithm before, kept in tests/isochrone_reference.py);
* new: ``siting.isochrones.isochrones`` (reach included), one thread and then the default
  threads.

Prints wall and CPU seconds of each, the ratios, and the largest symmetric difference
between the old and new polygons relative to the old polygon's area.

Usage::

    .venv/bin/python bench/isochrones.py [--workdir /tmp/siting-county] [--sites 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

SPEED = 80.0  # m/min


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/siting-county")
    ap.add_argument("--sites", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import geopandas as gpd
    import pandas as pd
    import shapely
    from isochrone_reference import reference_isochrone

    from siting.isochrones import isochrones
    from siting.network import Snapped
    from siting.network_load import load_network
    from siting.reach import _check_workers, node_reach

    work = Path(args.workdir)
    if not (work / "county.gpkg").exists() or not (work / "candidates.csv").exists():
        from county import write_inputs

        work.mkdir(parents=True, exist_ok=True)
        write_inputs(work, "helsinki", 516_000, 5000, 200_000, 0)
    print(f"# bench/isochrones.py {' '.join(sys.argv[1:])}")
    geos = shapely.geos_version_string
    print(f"python {platform.python_version()}; shapely {shapely.__version__} (GEOS {geos})")
    net = load_network(str(work / "county.gpkg"), cache_folder=str(work / "cache"))
    df = pd.read_csv(work / "candidates.csv")
    pick = np.sort(np.random.default_rng(args.seed).choice(len(df), args.sites, replace=False))
    pts = gpd.GeoSeries.from_xy(df["lon"].iloc[pick], df["lat"].iloc[pick], crs=4326).to_crs(net.crs)
    s = net.snap(pts)
    src = Snapped(s.index, s.edge, s.offset_m, s.leg_m, s.dropped, s.n_input)
    cuts = [5 * SPEED, 10 * SPEED, 15 * SPEED]
    print(f"{net.n_nodes:,} nodes, {net.n_edges:,} edges; {len(src)} sites x cutoffs {cuts} m; "
          f"load average {os.getloadavg()[0]:.1f} at start")  # fmt: skip
    node_reach(net, src, max(cuts), workers=1)  # compiled kernels loaded before the clocks

    t0, c0 = time.perf_counter(), time.process_time()
    reach = node_reach(net, src, max(cuts), workers=1)
    old = []
    for i in range(len(src)):
        nodes, metres = reach.row(i)
        for c in cuts:
            old.append(reference_isochrone(
                net, nodes, metres, c, int(src.edge[i]), float(src.offset_m[i]), float(src.leg_m[i]), 35.0
            ))  # fmt: skip
    old_wall, old_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"old (buffer every piece, union_all): {old_wall:.2f} s wall, {old_cpu:.2f} s CPU")

    results = {}
    for workers in sorted({1, _check_workers(None)}):
        t0, c0 = time.perf_counter(), time.process_time()
        new = isochrones(net, src, cuts, buffer_m=35.0, workers=workers)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        results[workers] = new
        print(f"new (faces), {workers} thread(s): {wall:.2f} s wall, {cpu:.2f} s CPU  "
              f"=> {old_wall / wall:.1f}x wall, {old_cpu / cpu:.1f}x CPU")  # fmt: skip
    new = results[1]
    rel = [
        shapely.symmetric_difference(g, o).area / o.area
        for g, o in zip(new.geometry, old, strict=True)
        if o.area
    ]
    same = all((r.geometry.to_wkb() == new.geometry.to_wkb()).all() for r in results.values())
    print(
        f"largest symmetric difference / old area: {max(rel):.2e}; identical for every thread count: {same}"
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
