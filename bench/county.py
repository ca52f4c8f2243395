"""The whole ``siting score`` at county size, and maximal covering p = 10 on it.

Generates (seeded, nothing downloaded) the county-sized street grid of ``bench/reach.py``
(~516k nodes, ~1.3M directed arcs), saves it as a cached network (``.npz``), and writes
200,000 synthetic incidents, 5,000 candidate sites and 300 services as CSV files in
WGS84 (lat/lon), the way a health department would hand them over. Then it measures:

1. loading the cached network (a fresh process);
2. ``siting score`` through the CLI, end to end: network from the cache, reading and
   snapping 200,000 incidents, walking reach, scores, and the output file (GeoPackage);
3. ``siting select --model coverage -p 10`` through the CLI on the same files (HiGHS,
   120 s limit); ``--steps select-lib`` runs the same model through the library with the
   greedy and the MILP timed apart.

Wall time and peak memory (max RSS of the child process) are printed.

Usage::

    .venv/bin/python bench/county.py [--workdir /tmp/siting-county] [--workers 2]
        [--candidates 5000] [--demand 200000] [--cutoff 15]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from reach import CRS, clustered_points, grid_network  # noqa: E402

SITING = ROOT / ".venv" / "bin" / "siting"
PY = ROOT / ".venv" / "bin" / "python"


def write_inputs(work: Path, n_nodes: int, n_cand: int, n_dem: int, seed: int) -> None:
    import pandas as pd
    import shapely
    from pyproj import Transformer

    net = grid_network(n_nodes, seed)
    net.save(work / "county.npz")
    to_wgs = Transformer.from_crs(CRS, 4326, always_xy=True)
    rng = np.random.default_rng(seed + 10)

    def latlon(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = shapely.get_coordinates(pts)
        lon, lat = to_wgs.transform(xy[:, 0], xy[:, 1])
        return np.round(lat, 7), np.round(lon, 7)

    lat, lon = latlon(clustered_points(net, n_dem, seed + 2))
    days = rng.integers(0, 3 * 365, n_dem)
    fatal = rng.random(n_dem) < 0.08
    pd.DataFrame(
        {
            "incident_id": [f"I{i:07d}" for i in range(n_dem)],
            "date": (np.datetime64("2022-01-01") + days.astype("timedelta64[D]")).astype(str),
            "lat": lat,
            "lon": lon,
            "fatal": fatal.astype(int),
            "weight": np.where(fatal, 3, 1),
        }
    ).to_csv(work / "incidents.csv", index=False)
    lat, lon = latlon(clustered_points(net, n_cand, seed + 1))
    pd.DataFrame({"site_id": [f"S{i:05d}" for i in range(n_cand)], "lat": lat, "lon": lon}).to_csv(
        work / "candidates.csv", index=False
    )
    lat, lon = latlon(clustered_points(net, 300, seed + 3))
    pd.DataFrame({"id": [f"V{i:03d}" for i in range(300)], "name": "service", "lat": lat, "lon": lon}).to_csv(
        work / "services.csv", index=False
    )
    print(
        f"network: {net.n_nodes:,} nodes, {net.n_arcs:,} directed arcs "
        f"({(work / 'county.npz').stat().st_size / 2**20:.0f} MB cached); "
        f"{n_dem:,} incidents, {n_cand:,} candidates, 300 services"
    )


def run(cmd: list[str], label: str) -> float:
    """Run a child process; print wall time and its peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        print(f"{label}: FAILED (exit code {proc.returncode}) after {wall:.2f} s:")
        print("  | " + "\n  | ".join((proc.stdout + proc.stderr).strip().splitlines()[-8:]))
        return wall
    peak_note = f"{peak / 1024:.0f} MB" if peak > before else f"<= {before / 1024:.0f} MB"
    print(f"{label}: {wall:.2f} s wall, peak RSS {peak_note}")
    if proc.stdout.strip():
        print("  | " + "\n  | ".join(proc.stdout.strip().splitlines()[-14:]))
    return wall


SELECT = r"""
import sys, time
import numpy as np, pandas as pd, geopandas as gpd
from siting.network import StreetNetwork
from siting.reach import walking_reach
from siting.locate import MaximalCovering
work, cutoff_min, workers = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
net = StreetNetwork.load(f"{work}/county.npz")
def layer(name):
    df = pd.read_csv(f"{work}/{name}.csv")
    return df, gpd.GeoSeries.from_xy(df["lon"], df["lat"], crs=4326).to_crs(net.crs)
dem, dpts = layer("incidents")
cand, cpts = layer("candidates")
d, c = net.snap(dpts), net.snap(cpts)
t1 = time.perf_counter()
r = walking_reach(net, c, d, cutoff_m=cutoff_min * 80.0, workers=workers)
t2 = time.perf_counter()
model = MaximalCovering(r.to_csr().multiply(1 / 80.0).tocsr(), weights=dem["weight"].to_numpy()[d.index],
                        candidate_ids=cand["site_id"].to_numpy()[c.index].tolist(), p=10,
                        cutoff=cutoff_min)
t3 = time.perf_counter()
print(f"load+read+snap {t1 - t0:.2f} s, reach {t2 - t1:.2f} s ({r.nnz:,} pairs), model {t3 - t2:.2f} s")
for method in ("greedy", "milp"):
    t = time.perf_counter()
    res = model.solve(time_limit=120, method=method)
    print(f"maximal covering p=10, {method}: {time.perf_counter() - t:.2f} s, status {res.status}, "
          f"covered weight {res.objective:,.0f} of {model.total_weight:,.0f}, bound {res.bound:,.0f}, "
          f"gap {res.gap:.2%}")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/siting-county")
    ap.add_argument("--nodes", type=int, default=516_000)
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--demand", type=int, default=200_000)
    ap.add_argument("--cutoff", type=float, default=15.0, help="minutes")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--steps", default="load,score,select", help="comma-separated subset of load,score,select,select-lib"
    )
    args = ap.parse_args()
    steps = set(args.steps.split(","))
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    print(f"# bench/county.py {' '.join(sys.argv[1:])}")
    print(
        f"python {platform.python_version()}; {os.cpu_count()} CPUs; load average at start "
        f"{os.getloadavg()[0]:.1f}"
    )
    write_inputs(work, args.nodes, args.candidates, args.demand, args.seed)

    if "load" in steps:
        load = (
            "import time; from siting.network import load_network; t = time.perf_counter(); "
            f"n = load_network({str(work / 'county.npz')!r}); "
            "print(f'{n!r} loaded in {time.perf_counter() - t:.2f} s (after imports)')"
        )
        run([str(PY), "-c", load], "load the cached network (fresh process)")

    def common(command: str) -> list[str]:
        return [
            str(SITING), "-q", command, "-n", str(work / "county.npz"),
            "-d", str(work / "incidents.csv"), "--demand-id-column", "incident_id",
            "-c", str(work / "candidates.csv"), "--id-column", "site_id",
            "-s", str(work / "services.csv"), "--cutoff", f"{args.cutoff:g}",
            "--workers", str(args.workers),
        ]  # fmt: skip

    if "score" in steps:
        run(
            [*common("score"), "-o", str(work / "scores.gpkg"), "--overwrite", "--top", "5"],
            f"siting score (C = {args.candidates:,}, {args.demand:,} incidents, {args.cutoff:g} min)",
        )
    if "select" in steps:
        run(
            [
                *common("select"),
                "--model",
                "coverage",
                "-p",
                "10",
                "--time-limit",
                "120",
                "--curve",
                "0",
                "--no-sensitivity",
                "-o",
                str(work / "chosen.gpkg"),
                "--overwrite",
                "--summary-json",
                "-",
            ],
            f"siting select --model coverage -p 10 (C = {args.candidates:,}, {args.demand:,} incidents)",
        )
    if "select-lib" in steps:
        run(
            [str(PY), "-c", SELECT, str(work), f"{args.cutoff:g}", str(args.workers)],
            "maximal covering p = 10 through the library (load, snap, reach, greedy + swap, HiGHS)",
        )


if __name__ == "__main__":
    main()
