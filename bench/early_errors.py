"""How soon a bad layer stops ``siting score`` when the network is a county's centreline layer.

Uses the inputs of ``bench/county.py`` (its ``--workdir``; they are written if missing):
``county.gpkg`` (the central-Helsinki walking network tiled 10 x 10, about 516k nodes, as a
GeoPackage line layer) and ``candidates.csv``. Each case runs ``siting score`` in a fresh
process with an EMPTY network cache, so no cached network hides the build:

* ``missing``: the demand file does not exist;
* ``empty``: the demand file is empty;
* ``broken``: a demand CSV with a row of more fields than its header (not R's ``c(x, y)``);
* ``bad-where``: ``--demand-where`` names a column the file does not have.

The obvious alternative, and what siting did before: build the network first, then read
the layer and fail. It is timed as the same process doing exactly that
(``load_network(county.gpkg, use_cache=False)`` then ``read_layer``). Each figure is the
median of ``--runs`` runs; the ratio printed is the alternative over ours.

Usage::

    .venv/bin/python bench/early_errors.py [--workdir /tmp/siting-county] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = ROOT / ".venv" / "bin" / "python"
SITING = ROOT / ".venv" / "bin" / "siting"

ALTERNATIVE = """
import sys
from siting.layers import LayerSpec, read_layer
from siting.network_load import load_network
load_network(sys.argv[1], use_cache=False)
try:
    read_layer(LayerSpec(sys.argv[2]))
except Exception as exc:
    print(type(exc).__name__, exc, file=sys.stderr)
    sys.exit(2)
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str, float]:
    """Wall seconds, exit status, stderr and CPU seconds (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, proc.returncode, proc.stderr.strip(), cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default="/tmp/siting-county")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = Path(args.workdir)
    if not (work / "county.gpkg").exists() or not (work / "candidates.csv").exists():
        subprocess.run(
            [str(PY), str(HERE / "county.py"), "--workdir", str(work), "--steps", "none"], check=True
        )
    print(f"# bench/early_errors.py {' '.join(sys.argv[1:])}")
    print(f"python {platform.python_version()}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    size = (work / "county.gpkg").stat().st_size / 2**20
    print(f"network: {work / 'county.gpkg'} ({size:.0f} MB), never cached (an empty SITING_CACHE per run)")

    bad = Path(tempfile.mkdtemp(prefix="siting-early-"))
    (bad / "empty.csv").write_text("")
    (bad / "broken.csv").write_text("id,lat,lon\n1,60.17,24.94\n2,60.17,24.94,TREATED, NOT TRANSPORTED\n")
    (bad / "calls.csv").write_text("id,lat,lon,DISPOSITION\n1,60.17,24.94,TRANSPORTED\n")
    cases = {
        "missing": ([str(bad / "nope.csv")], []),
        "empty": ([str(bad / "empty.csv")], []),
        "broken": ([str(bad / "broken.csv")], []),
        "bad-where": ([str(bad / "calls.csv")], ["--demand-where", "DISP <> 'CAN: CANCELLED'"]),
    }
    results = {}
    floor = [timed([str(PY), "-c", "import pandas"], dict(os.environ)) for _ in range(args.runs)]
    print(
        f"  (for scale: python -c 'import pandas' takes {statistics.median(f[0] for f in floor):.2f} s wall, "
        f"{statistics.median(f[3] for f in floor):.2f} s CPU here now)"
    )
    try:
        for name, (demand, extra) in cases.items():
            walls, cpus = [], []
            for _ in range(args.runs):
                cache = Path(tempfile.mkdtemp(prefix="siting-cache-"))
                env = dict(os.environ, SITING_CACHE=str(cache))
                cmd = [str(SITING), "score", "-n", str(work / "county.gpkg"), "-d", *demand,
                       "-c", str(work / "candidates.csv"), "--id-column", "site_id", *extra]  # fmt: skip
                wall, code, err, cpu = timed(cmd, env)
                shutil.rmtree(cache, ignore_errors=True)
                cpus.append(cpu)
                if code != 2 or err.count("\n") != 0:
                    print(f"{name}: unexpected exit {code}: {err}")
                    sys.exit(1)
                walls.append(wall)
            results[name] = statistics.median(walls)
            print(
                f"  {name:<10} exit 2 after {results[name]:.2f} s wall, {statistics.median(cpus):.2f} s CPU "
                f"(median of {args.runs}; wall min {min(walls):.2f}, max {max(walls):.2f}): {err[:100]}"
            )
        print("\n## the alternative: build the network, then read the layer")
        walls = []
        for _ in range(max(1, min(args.runs, 3))):
            wall, code, err, _ = timed(
                [str(PY), "-c", ALTERNATIVE, str(work / "county.gpkg"), str(bad / "nope.csv")],
                dict(os.environ),
            )
            if code != 2:
                print(f"alternative: unexpected exit {code}: {err[-300:]}")
                sys.exit(1)
            walls.append(wall)
        alt = statistics.median(walls)
        print(
            f"  error after {alt:.2f} s (median of {len(walls)}; min {min(walls):.2f}, max {max(walls):.2f})"
        )
        print("\n## ratio: the alternative's time to the error over ours")
        for name, wall in results.items():
            print(f"  {name:<10} {alt / wall:5.1f}x sooner ({wall:.2f} s against {alt:.2f} s)")
    finally:
        shutil.rmtree(bad, ignore_errors=True)


if __name__ == "__main__":
    main()
