"""The county run's own costs outside routing: how a finished command ends, numba set up
ahead of snapping, point layers projected without geopandas' extra copy."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from siting import _file_digests, network_load
from siting._errors import InputFileNotFoundError
from siting.layers import to_network_crs
from siting.layers._coords import plain_floats
from siting.network import StreetNetwork
from siting.network_load import load_network


def test_a_finished_command_ends_without_teardown_after_its_exit_handlers_and_output() -> None:
    # an object freed only by the interpreter's teardown says so; the exit handler and the
    # output must still come, in full, through a pipe
    code = (
        "import atexit, sys\n"
        "class Freed:\n"
        "    def __del__(self):\n"
        "        sys.stderr.write('torn down\\n')\n"
        "kept = Freed()\n"
        "atexit.register(lambda: print('exit handler ran'))\n"
        "from siting.cli import main\n"
        "sys.argv = ['siting', '--version']\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("siting, version")
    assert proc.stdout.splitlines()[-1] == "exit handler ran"
    assert "torn down" not in proc.stderr


def test_an_error_still_exits_the_ordinary_way() -> None:
    code = "from siting.cli import main\nimport sys\nsys.argv = ['siting', 'score', '-n', 'nowhere.gpkg']\nmain()\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error:") and "Traceback" not in proc.stderr


def test_the_warm_up_loads_the_very_kernels_snapping_calls() -> None:
    # in a fresh process: after the warm-up, snapping needs no other compiled version
    code = (
        "import numpy as np, shapely\n"
        "from siting import _snap\n"
        "from siting.network import StreetNetwork\n"
        "_snap.warm_up()\n"
        "kernels = (_snap.build_grid, _snap.nearest_edges, _snap.locate_on_edges)\n"
        "before = [list(k.signatures) for k in kernels]\n"
        "net = StreetNetwork(crs='EPSG:32635', x=np.array([0.0, 100.0]), y=np.zeros(2),\n"
        "    edge_u=np.array([0]), edge_v=np.array([1]), edge_length_m=np.array([100.0]),\n"
        "    edge_offsets=np.array([0, 2]), edge_coords=np.array([[0.0, 0.0], [100.0, 0.0]]))\n"
        "s = net.snap(shapely.points([[30.0, 4.0], [60.0, -2.0], [5000.0, 0.0]]), workers=2)\n"
        "assert s.index.tolist() == [0, 1] and s.offset_m.tolist() == [30.0, 60.0], s\n"
        "after = [list(k.signatures) for k in kernels]\n"
        "assert all(len(b) == 1 for b in before), before\n"
        "assert after == before, (before, after)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _layer(geoms: list[shapely.Geometry] | np.ndarray) -> gpd.GeoDataFrame:
    n = len(geoms)
    g = gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(n)], "weight": np.arange(n, dtype=float)},
        geometry=np.asarray(geoms, dtype=object),
        crs=4326,
        index=np.arange(n) * 3,
    )
    g.attrs["source"] = "layer.csv"
    return g


@pytest.mark.parametrize(
    "geoms",
    [
        shapely.points(np.random.default_rng(5).uniform([24.5, 60.0], [25.5, 60.5], (300, 2))),
        [shapely.Point(24.9, 60.2), shapely.Point()],
        [shapely.Point(24.9, 60.2), shapely.Point(24.9, 60.2, 12.0)],
        [shapely.Point(24.9, 60.2), shapely.LineString([(24.9, 60.2), (25.0, 60.3)])],
        [shapely.Point(24.9, 60.2), None],
    ],
    ids=["points", "empty", "3d", "line", "missing"],
)
def test_points_reprojected_exactly_as_geopandas_does(geoms: list[shapely.Geometry]) -> None:
    layer = _layer(geoms)
    got = to_network_crs(layer, "EPSG:32635")
    want = layer.to_crs("EPSG:32635")
    assert_geodataframe_equal(got, want, check_less_precise=False)
    assert np.array_equal(
        shapely.get_coordinates(got.geometry.values, include_z=True),
        shapely.get_coordinates(want.geometry.values, include_z=True),
        equal_nan=True,
    )
    assert got.attrs == layer.attrs
    assert shapely.get_coordinates(layer.geometry.values)[0, 0] == pytest.approx(24.9, abs=1.0)  # input kept


def _street_layer(path: Path) -> Path:
    lines = [
        shapely.LineString([(0, 0), (100, 0)]),
        shapely.LineString([(100, 0), (100, 100)]),
        shapely.LineString([(0, 0), (0, 100)]),
        shapely.LineString([(0, 100), (100, 100)]),
    ]
    gpd.GeoDataFrame({"highway": ["residential"] * 4}, geometry=lines, crs="EPSG:32635").to_file(path)
    return path


def test_a_prefetched_cached_network_is_the_one_loaded_and_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = _street_layer(tmp_path / "streets.gpkg")
    cache = tmp_path / "cache"
    first = load_network(path, cache_folder=cache)  # fills the cache
    reads: list[object] = []
    real_load = StreetNetwork.load.__func__  # type: ignore[attr-defined]

    def counted(cls: type[StreetNetwork], file: object) -> StreetNetwork:
        reads.append(file)
        return real_load(cls, file)  # type: ignore[no-any-return]

    monkeypatch.setattr(StreetNetwork, "load", classmethod(counted))
    network_load.prefetch_network(path, cache_folder=cache)
    with caplog.at_level(logging.INFO, logger="siting"):
        second = load_network(path, cache_folder=cache)
    assert len(reads) == 1  # read by the prefetch only
    assert any("loaded cached network" in r.getMessage() for r in caplog.records)
    for name in ("x", "y", "edge_u", "edge_v", "edge_length_m", "edge_offsets", "edge_coords",
                 "indptr", "indices", "arc_length_m", "arc_edge"):  # fmt: skip
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name), err_msg=name)
    assert not network_load._PREFETCHED  # taken
    # a prefetch for other options is not taken by this call
    network_load.prefetch_network(path, cache_folder=cache, split_crossings=False)
    load_network(path, cache_folder=cache)
    assert len(network_load._PREFETCHED) == 1
    network_load._PREFETCHED.clear()


def test_a_prefetch_that_finds_nothing_leaves_the_work_and_the_errors_to_load_network(tmp_path: Path) -> None:
    path = _street_layer(tmp_path / "streets.gpkg")
    network_load.prefetch_network(path, cache_folder=tmp_path / "cache")  # nothing cached yet
    net = load_network(path, cache_folder=tmp_path / "cache")
    assert net.n_edges == 4 and list((tmp_path / "cache").glob("network-*.npz"))
    missing = tmp_path / "nowhere.gpkg"
    network_load.prefetch_network(missing, cache_folder=tmp_path / "cache")
    with pytest.raises(InputFileNotFoundError, match="nowhere.gpkg"):
        load_network(missing, cache_folder=tmp_path / "cache")


@pytest.mark.parametrize("fmt", ["%.7f", "%.3f", "%.0f", "%.12f", "%.10g", "%r"])
@pytest.mark.parametrize("scale", [180.0, 1e-3, 1e9])
def test_plain_numbers_read_by_arrow_are_the_numbers_pandas_reads(fmt: str, scale: float) -> None:
    values = np.random.default_rng(3).uniform(-scale, scale, 3000)
    text = pd.Series([fmt % v for v in values] + ["+.5", "7.", "-0"], dtype=pd.StringDtype("pyarrow"))
    got = plain_floats(text)
    want = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
    short = text.str.len().max() <= 15 and not text.str.contains("e").any()
    if short:
        assert got is not None and np.array_equal(got, want)
    else:  # long or with an exponent: left to pandas
        assert got is None


@pytest.mark.parametrize("odd", ["1e5", " 1", "1,5", "", "NA", "1234567890123456", "0x10", None])
def test_anything_but_a_short_plain_decimal_is_left_to_pandas(odd: str | None) -> None:
    assert plain_floats(pd.Series(["1.5", odd], dtype=pd.StringDtype("pyarrow"))) is None
    assert plain_floats(pd.Series(["1.5", "2"], dtype=object)) is None


def test_the_network_source_hashed_once_for_the_cache_and_the_manifest(tmp_path: Path) -> None:
    path = _street_layer(tmp_path / "streets.gpkg")
    old = time.time() - 60  # not "racy": modified well before it is hashed
    os.utime(path, (old, old))
    load_network(path, cache_folder=tmp_path / "cache")
    want = hashlib.sha256(path.read_bytes()).hexdigest()
    assert _file_digests._KNOWN[str(path.resolve())][2] == want  # found while hashing for the cache key
    assert network_load.file_sha256(path) == want
    # a changed file is read again, never answered from what was found before
    path.write_bytes(path.read_bytes() + b"\0")
    assert network_load.file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest() != want
    other = tmp_path / "other.csv"
    other.write_text("id,lat,lon\n")
    assert network_load.file_sha256(other) == hashlib.sha256(b"id,lat,lon\n").hexdigest()


def test_score_shows_its_first_step_before_pandas_and_the_readers_load(tmp_path: Path) -> None:
    # the first progress line comes after option parsing and the output checks only
    (tmp_path / "streets.gpkg").write_bytes(b"")
    (tmp_path / "d.csv").write_text("id,lat,lon\nA,60.17,24.94\n")
    code = (
        "import os, sys, click\n"
        "real = click.echo\n"
        "def echo(message=None, *args, **kwargs):\n"
        "    if message and 'reading layers' in str(message):\n"
        "        heavy = sorted(m for m in ('pandas', 'geopandas', 'shapely', 'pyarrow', 'scipy', 'numba')\n"
        "                       if m in sys.modules)\n"
        "        real(f'{message} | loaded: {heavy}', err=True)\n"
        "        os._exit(0)\n"
        "    return real(message, *args, **kwargs)\n"
        "click.echo = echo\n"
        "from siting.cli import main\n"
        "main(['-v', 'score', '-n', 'streets.gpkg', '-d', 'd.csv', '-c', 'd.csv', '-o', 'out.gpkg'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert "siting: reading layers... | loaded: []" in proc.stderr, proc.stderr[-2000:]
