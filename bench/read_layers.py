"""What reading an EMS export row by row (checked against its header) costs at county size.

Writes (seeded) an export of ``--rows`` calls three ways: lat/lon columns, a WKT column,
and R's unquoted ``c(lon, lat)``, with US timestamps, a disposition column, 12% failed
geocodes and some repeat calls. Times, in one process, best of ``--repeat``:

* ``read_layer`` (siting): every row checked against the header, R vectors joined, dates
  read with one format, failed geocodes and duplicate calls counted, a ``where`` filter;
* the obvious alternative: ``pandas.read_csv``, ``pandas.to_datetime`` with the format
  given, and points from the lat/lon columns (no check of the rows, no filter, no
  accounting), on the lat/lon file; on the R file pandas shifts the columns, which is why
  it is not an option there.

Usage::

    .venv/bin/python bench/read_layers.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from siting.layers import LayerSpec, read_layer  # noqa: E402


def write_exports(folder: Path, rows: int, seed: int) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    lon = np.round(24.90 + rng.random(rows) * 0.1, 6)
    lat = np.round(60.15 + rng.random(rows) * 0.05, 6)
    failed = rng.random(rows) < 0.12
    t = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        np.sort(rng.integers(0, 365 * 24 * 60, rows)), unit="min"
    )
    when = t.strftime("%m/%d/%Y %I:%M:%S %p")
    disp = rng.choice(["TRANSPORTED", "TREATED, NOT TRANSPORTED", "CAN: CANCELLED", "REFUSED"], rows)
    ids = [f"E{i:07d}" for i in range(rows)]
    out = {}
    df = pd.DataFrame({"INCIDENT_NO": ids, "CALL_DATETIME": when, "DISPOSITION_TEXT": disp,
                       "lat": np.where(failed, np.nan, lat), "lon": np.where(failed, np.nan, lon)})  # fmt: skip
    out["lat/lon"] = folder / "latlon.csv"
    df.to_csv(out["lat/lon"], index=False)
    wkt = np.where(failed, "POINT EMPTY", [f"POINT ({x} {y})" for x, y in zip(lon, lat, strict=True)])
    out["WKT"] = folder / "wkt.csv"
    df.drop(columns=["lat", "lon"]).assign(geometry=wkt).to_csv(out["WKT"], index=False)
    out["R c(lon, lat)"] = folder / "r.csv"
    with out["R c(lon, lat)"].open("w") as fh:
        fh.write('"","INCIDENT_NO","geometry","CALL_DATETIME","DISPOSITION_TEXT"\n')
        for i in range(rows):
            g = "c(NA, NA)" if failed[i] else f"c({lon[i]}, {lat[i]})"
            fh.write(f'"{i + 1}","{ids[i]}",{g},"{when[i]}","{disp[i]}"\n')
    return out


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"# bench/read_layers.py {' '.join(sys.argv[1:])}")
    print(f"python {platform.python_version()}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    import geopandas as gpd

    with tempfile.TemporaryDirectory(prefix="siting-read-") as tmp:
        files = write_exports(Path(tmp), args.rows, args.seed)
        where = "DISPOSITION_TEXT <> 'CAN: CANCELLED'"

        def naive() -> None:
            df = pd.read_csv(files["lat/lon"])
            df["CALL_DATETIME"] = pd.to_datetime(df["CALL_DATETIME"], format="%m/%d/%Y %I:%M:%S %p")
            gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)

        base = best(naive, args.repeat)
        print(
            f"{args.rows:,} calls; pandas read_csv + to_datetime + points (lat/lon file, nothing checked): {base:.2f} s"
        )
        for name, path in files.items():
            for w in (None, where):
                spec = LayerSpec(path, role="demand", where=w)
                sec = best(lambda s=spec: read_layer(s), args.repeat)
                gdf = read_layer(spec)
                intake = gdf.attrs["intake"]
                steps = ", ".join(f"{s.reason} {s.removed:,}" for s in intake.steps)
                print(f"  read_layer, {name:<14} {'with where' if w else 'no filter':<10} {sec:6.2f} s "
                      f"({sec / base:4.1f}x pandas); {intake.rows_used:,} used; {steps}")  # fmt: skip


if __name__ == "__main__":
    main()
