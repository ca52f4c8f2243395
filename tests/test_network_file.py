"""The network cache file: a saved network loads as built, array for array, without deriving anything."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from siting import _network_file, _routing, _snap, network
from siting._errors import NetworkError
from siting._routing import _Routing
from siting.network import StreetNetwork
from siting.network_load import load_network

FIELDS = ("x", "y", "edge_u", "edge_v", "edge_length_m", "edge_offsets", "edge_coords",
          "indptr", "indices", "arc_length_m", "arc_edge")  # fmt: skip


def _hand_made() -> StreetNetwork:
    """Nodes of degree 1, 2 and 3, two parallel edges, a loop on one node, an isolated ring
    of degree-2 nodes (a cycle with no junction), node ids in no spatial order."""
    xy = np.array([[0, 0], [100, 0], [200, 10], [300, 0], [300, 80], [400, 0], [50, 300], [120, 300],
                   [90, 360], [260, -60]], dtype=np.float64)  # fmt: skip
    ends = [(0, 1), (2, 1), (2, 3), (3, 4), (3, 5), (5, 3), (6, 7), (7, 8), (8, 6), (5, 9), (9, 5)]
    coords, offsets, length = [], [0], []
    for k, (u, v) in enumerate(ends):
        line = [xy[u], xy[v]] if k != 5 else [xy[5], [350, 40], xy[3]]  # a bent parallel edge
        coords += line
        offsets.append(len(coords))
        length.append(float(np.sum(np.hypot(*np.diff(np.array(line), axis=0).T))))
    u, v = np.array(ends).T
    return StreetNetwork(
        crs="EPSG:32635", x=xy[:, 0].copy(), y=xy[:, 1].copy(), edge_u=u.astype(np.int64),
        edge_v=v.astype(np.int64), edge_length_m=np.array(length), edge_offsets=np.array(offsets),
        edge_coords=np.array(coords, dtype=np.float64), source="hand", node_osm_id=np.arange(10, 20),
        build_report={"repair": {"joined": 1}},
    )


def _same_network(a: StreetNetwork, b: StreetNetwork) -> None:
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert (a.crs, a.source, a.build_report) == (b.crs, b.source, b.build_report)
    np.testing.assert_array_equal(a.node_osm_id, b.node_osm_id)


def _same_routing(a: _Routing, b: _Routing) -> None:
    assert a.n_nodes == b.n_nodes
    for name, x in a.arrays().items():
        y = getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)


def _same_grid(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert len(a) == len(b) == 8
    for x, y in zip(a[:3], b[:3], strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
    assert a[3:] == b[3:] and [type(v) for v in a[3:]] == [float, float, float, int, int]


@pytest.mark.parametrize("which", ["demo", "hand-made"])
def test_a_saved_network_loads_as_built_without_deriving_its_arcs_or_junction_graph(
    which: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    net = request.getfixturevalue("demo_network") if which == "demo" else _hand_made()
    path = tmp_path / "net.npz"
    net.save(path)
    # built from scratch: its own arcs and junction graph (not the saved network's objects)
    fresh = StreetNetwork(**{k: getattr(net, k) for k in (
        "crs", "x", "y", "edge_u", "edge_v", "edge_length_m", "edge_offsets", "edge_coords", "source",
        "node_osm_id", "build_report")})  # fmt: skip
    fresh_rt = _Routing.build(fresh)

    def derived(*args: Any, **kwargs: Any) -> None:
        msg = "derived again instead of read"
        raise AssertionError(msg)

    fresh_grid = fresh._snap_grid()
    monkeypatch.setattr(network, "network_arcs", derived)
    monkeypatch.setattr(_Routing, "build", derived)
    monkeypatch.setattr(_snap, "build_grid", derived)
    loaded = StreetNetwork.load(path)
    _same_network(loaded, fresh)
    _same_routing(_routing._routing(loaded), fresh_rt)
    _same_grid(loaded._snap_grid(), fresh_grid)
    assert not _network_file.is_stale(loaded)
    # used where they lie in the file, as any array: aligned, writable (the file is not changed)
    for name in FIELDS:
        a = getattr(loaded, name)
        assert a.flags.aligned and a.flags.c_contiguous and a.flags.writeable, name
    before = path.read_bytes()
    loaded.x[:] = -1.0
    assert path.read_bytes() == before
    # still an ordinary .npz
    with np.load(path, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["rt_node_orig"], fresh_rt.node_orig)
        np.testing.assert_array_equal(z["edge_coords"], net.edge_coords)
    # the same arrays written by numpy (not aligned in the file; compressed: not mappable)
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    for save in (np.savez, np.savez_compressed):
        other = tmp_path / f"{save.__name__}.npz"
        save(other, **arrays)
        again = StreetNetwork.load(other)
        _same_network(again, fresh)
        _same_routing(_routing._routing(again), fresh_rt)
        assert all(getattr(again, name).flags.aligned for name in FIELDS)


def test_the_same_network_saves_to_the_same_bytes(tmp_path: Path) -> None:
    _hand_made().save(tmp_path / "a.npz")
    _hand_made().save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def _rewrite(path: Path, change: Any) -> None:
    """Rewrite a saved network's members through ``change(dict of arrays)``."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    with path.open("wb") as fh:
        _network_file._write_npz(fh, arrays)


def _old_version(arrays: dict[str, Any]) -> None:
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json.dumps(meta | {"v": 1}))
    for k in [k for k in arrays if k.startswith("rt_") or k in _network_file._ARC_KINDS]:
        del arrays[k]


def test_an_old_or_incomplete_saved_network_is_refused_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "net.npz"
    _hand_made().save(path)
    _rewrite(path, _old_version)
    with pytest.raises(NetworkError, match="another siting version; delete it"):
        StreetNetwork.load(path)
    for broken in (
        lambda a: a.pop("rt_cn_pos"),
        lambda a: a.update(indices=a["indices"][:-1]),
        lambda a: a.update(rt_arc_w=a["rt_arc_w"].astype(np.float32)),
        lambda a: a.update(indptr=a["indptr"] + 1),
    ):
        _hand_made().save(path)
        _rewrite(path, broken)
        complete = r"net\.npz: not a complete siting network .*build the network again"
        with pytest.raises(NetworkError, match=complete):
            StreetNetwork.load(path)
    path.write_bytes(path.read_bytes()[:5000])  # cut short
    with pytest.raises((NetworkError, zipfile.BadZipFile, ValueError)):
        StreetNetwork.load(path)


def test_an_old_cache_is_built_again_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    src = _streets(tmp_path / "streets.gpkg")
    cache = tmp_path / "cache"
    first = load_network(src, cache_folder=cache)
    (cached,) = cache.glob("network-*.npz")
    _rewrite(cached, _old_version)  # as if an older siting had written it under this key
    with caplog.at_level(logging.WARNING, logger="siting"):
        second = load_network(src, cache_folder=cache)
    assert any("ignoring unreadable network cache" in r.getMessage() for r in caplog.records)
    _same_network(second, first)
    _same_network(StreetNetwork.load(cached), first)  # written again, complete


@pytest.mark.parametrize("part", ["routing", "snap"])
def test_parts_saved_by_other_code_are_derived_again_and_the_cache_refreshed(
    part: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "net.npz"
    _hand_made().save(path)
    fresh = _hand_made()
    fresh_rt, fresh_grid = _Routing.build(fresh), fresh._snap_grid()

    def scrambled(arrays: dict[str, Any]) -> None:  # what other code might have saved
        for name in ("indices", "rt_node_orig", "rt_arc_w", "sg_cell_edge"):
            arrays[name] = arrays[name][::-1].copy()

    _rewrite(path, scrambled)
    real = _network_file.derivation_code
    assert real(part) == real(part) and real("routing") != real("snap")
    monkeypatch.setattr(_network_file, "derivation_code", lambda p: "0123456789abcdef" if p == part else real(p))
    loaded = StreetNetwork.load(path)
    assert _network_file.is_stale(loaded)
    if part == "routing":  # the other part is used as saved: here, scrambled
        _same_network(loaded, fresh)
        _same_routing(_routing._routing(loaded), fresh_rt)
    else:
        _same_grid(loaded._snap_grid(), fresh_grid)
    # a cache saved by other code is written again when it is loaded
    src = _streets(tmp_path / "streets.gpkg")
    cache = tmp_path / "cache"
    monkeypatch.setattr(_network_file, "derivation_code", real)
    load_network(src, cache_folder=cache)
    (cached,) = cache.glob("network-*.npz")
    monkeypatch.setattr(_network_file, "derivation_code", lambda p: "0123456789abcdef" if p == part else real(p))
    with caplog.at_level(logging.INFO, logger="siting"):
        load_network(src, cache_folder=cache)
    assert any("refreshed the network cache" in r.getMessage() for r in caplog.records)
    with np.load(cached, allow_pickle=False) as z:
        assert json.loads(str(z["meta"]))["derived"][part] == "0123456789abcdef"
    again = StreetNetwork.load(cached)
    assert not _network_file.is_stale(again)


def _streets(path: Path) -> Path:
    import geopandas as gpd
    import shapely

    lines = [shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(100, 0), (100, 100)]),
             shapely.LineString([(100, 100), (0, 0)])]  # fmt: skip
    gpd.GeoDataFrame({"highway": ["residential"] * 3}, geometry=lines, crs="EPSG:32635").to_file(path)
    return path
