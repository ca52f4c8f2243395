"""What the shareable release costs: accuracy of its figures and time, demo and county size.

1. **Demo accuracy.** The demo scenario (1,800 synthetic incidents on central Helsinki) is
   run once; its release is made with hexagons of 250, 200, 150 and 100 m. For each size:
   the time of ``release_plan``, how many hexagons are hidden ("fewer than 11" or withheld),
   and how far the released candidate figures (estimated from the published hexagons) are
   from the exact ones: median and 90th percentile of the relative error of the incidents
   each candidate reaches, and the rank correlation (Spearman) of released and exact scores.
2. **County size** (``--county``): the inputs of ``bench/county.py`` (a 10 x 10 tiling of
   the Helsinki network, 200,000 incidents, 5,000 candidates), scored twice through the
   CLI in fresh processes: ``-o scores.gpkg`` (internal table) and ``-o shared.gpkg
   --shareable`` (released table). The ratio is the shareable run over the internal one,
   i.e. what the release adds to a county run.

Usage::

    .venv/bin/python bench/privacy.py [--county] [--workdir /tmp/siting-county]
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
SITING = Path(sys.executable).parent / "siting"


def load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def demo_accuracy() -> None:
    from scipy.stats import spearmanr

    from siting.cli.run import read_scenario_file
    from siting.cli.score import build_plan
    from siting.privacy import release_plan

    scenario, _ = read_scenario_file(ROOT / "data" / "demo" / "scenario.toml")
    t0 = time.perf_counter()
    plan = build_plan(scenario)
    run_s = time.perf_counter() - t0
    exact = plan.candidates.set_index("candidate_id")
    release_plan(plan)  # compiles the reach kernels once; not timed
    print(f"\n## demo: {len(plan.demand):,} incidents, {len(exact)} candidates; the run took {run_s:.1f} s")
    print("| hexagon | release (s) | hexagons | hidden | median error | 90th pct error | Spearman (score) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size in (250.0, 200.0, 150.0, 100.0):
        t0 = time.perf_counter()
        rel = release_plan(plan, hex_size_m=size)
        dt = time.perf_counter() - t0
        r = rel.candidates.set_index("candidate_id")
        ok = exact["covered_incidents"] > 0
        err = ((r["covered_incidents"] - exact["covered_incidents"]).abs() / exact["covered_incidents"])[ok]
        hidden = int((rel.cells["status"] != "shown").sum())
        rho = spearmanr(r["score"], exact["score"])[0]
        print(
            f"| {size:g} m | {dt:.2f} | {len(rel.cells)} | {hidden} | {np.nanmedian(err):.1%} | "
            f"{np.nanquantile(err, 0.9):.1%} | {rho:.3f} |"
        )


def county(work: Path) -> None:
    sys.path.insert(0, str(HERE))
    import county as cb  # bench/county.py: the same inputs

    work.mkdir(parents=True, exist_ok=True)
    if not (work / "county.gpkg").exists():
        cb.write_inputs(work, "helsinki", 516_000, 5000, 200_000, 0)
    env = dict(os.environ, SITING_CACHE=str(work / "cache"))
    common = [
        str(SITING), "-q", "score", "-n", str(work / "county.gpkg"),
        "-d", str(work / "incidents.csv"), "--demand-id-column", "incident_id",
        "-c", str(work / "candidates.csv"), "--id-column", "site_id",
        "-s", str(work / "services.csv"), "--cutoff", "10", "--overwrite", "--top", "0",
    ]  # fmt: skip
    subprocess.run([*common, "-o", str(work / "warm.gpkg")], env=env, check=True, capture_output=True)
    print(f"\n## county: 200,000 incidents, 5,000 candidates, 10-minute cutoff ({load()})")
    times = {}
    for name, extra in (("internal", ["-o", str(work / "scores.gpkg")]),
                        ("shareable", ["-o", str(work / "shared.gpkg"), "--shareable"])):  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run([*common, *extra], env=env, check=True, capture_output=True)
        times[name] = time.perf_counter() - t0
        cmd = " ".join(c if c != str(SITING) else "siting" for c in [*common, *extra])
        print(f"$ {cmd}\n  {name}: {times[name]:.1f} s")
    print(f"shareable / internal: {times['shareable'] / times['internal']:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--county", action="store_true", help="also time a county-sized run (builds inputs once)")
    ap.add_argument("--workdir", default="/tmp/siting-county")
    args = ap.parse_args()
    print(f"# bench/privacy.py {' '.join(sys.argv[1:])}")
    print(f"python {platform.python_version()}; {os.cpu_count()} CPUs; {load()} at start")
    demo_accuracy()
    if args.county:
        county(Path(args.workdir))


if __name__ == "__main__":
    main()
