"""Helpers that write small hand-built layers for tests (imported as ``from helpers import ...``)."""

from __future__ import annotations

#: A projected CRS for hand-built layers (UTM 35N: where the demo network is).
UTM = "EPSG:32635"
#: Origin of hand-built layers, a point in central Helsinki in UTM 35N metres.
X0, Y0 = 385000.0, 6671000.0


def write_points(path, xy, crs=UTM, **columns):  # type: ignore[no-untyped-def]
    """Write points (projected metres relative to X0, Y0) as CSV (lat/lon) or a vector file."""
    import geopandas as gpd
    import shapely

    pts = gpd.GeoSeries(shapely.points([X0 + x for x, _ in xy], [Y0 + y for _, y in xy]), crs=UTM)
    gdf = gpd.GeoDataFrame(columns, geometry=pts.values, crs=UTM).to_crs(crs)
    path = str(path)
    if path.endswith(".csv"):
        df = gdf.drop(columns="geometry")
        df["lat"] = gdf.geometry.y.round(9)
        df["lon"] = gdf.geometry.x.round(9)
        df.to_csv(path, index=False)
    elif path.endswith(".parquet"):
        gdf.to_parquet(path)
    else:
        gdf.to_file(path, engine="pyogrio")
    return path


def write_lines(path, segments, crs=UTM):  # type: ignore[no-untyped-def]
    """Write street lines given as lists of (x, y) metres relative to X0, Y0."""
    import geopandas as gpd
    import shapely

    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in seg]) for seg in segments]
    gpd.GeoDataFrame({"street": [f"s{i}" for i in range(len(geoms))]}, geometry=geoms, crs=UTM).to_crs(
        crs
    ).to_file(str(path), engine="pyogrio")
    return str(path)


def run_cli(*args: str, cache: object = None, stderr: object = None, timeout: float = 300):  # type: ignore[no-untyped-def]
    """``siting ARGS`` in a fresh process: stdout and stderr as a shell sees them (C libraries too).

    ``cache`` is the network cache folder (``SITING_CACHE``); ``stderr`` a file descriptor to
    use instead of a pipe (a pseudo-terminal in the progress tests).
    """
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if cache is not None:
        env["SITING_CACHE"] = str(cache)
    return subprocess.run(
        [sys.executable, "-c", "from siting.cli import main; main()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if stderr is None else stderr,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
