"""County street centrelines: TIGER road classes, a bridge, lines sharing a vertex, filters.

Walking distances are checked against networkx on the same lines, built independently.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from helpers import UTM, X0, Y0, run_cli

from siting._errors import InputError
from siting.network import StreetNetwork
from siting.network_load import load_network
from siting.network_sources import line_layer_summary

if TYPE_CHECKING:
    from pathlib import Path

#: A TIGER/Line-like layer (FULLNAME, MTFCC, points in metres relative to (X0, Y0)).
#: * Main St (S1400) runs west-east along y=0 with a vertex at x=200;
#: * Oak Ave (S1400) runs south-north along x=200 with a vertex at (200, 0): the two share a
#:   vertex there (a real intersection) although neither ends there;
#: * the River Bridge (S1400) runs south-north along x=300 and crosses Main St at (300, 0),
#:   where neither line has a vertex: a bridge over the street, not a junction;
#: * I-5 (S1100, interstate) runs along y=100, sharing vertices with Oak Ave and the bridge;
#:   its on-ramp (S1630) joins Main St at (350, 0); Elm Alley (S1730) hangs off Main St.
TIGER = [
    ("Main St", "S1400", [(0, 0), (200, 0), (400, 0)]),
    ("Oak Ave", "S1400", [(200, -200), (200, 0), (200, 100), (200, 200)]),
    ("River Bridge", "S1400", [(300, -200), (300, 100), (300, 200)]),
    ("I- 5", "S1100", [(0, 100), (200, 100), (300, 100), (400, 100)]),
    ("I- 5 Ramp", "S1630", [(350, 0), (400, 100)]),
    ("Elm Alley", "S1730", [(0, 0), (0, -100)]),
]


def _tiger(path: Path) -> Path:
    gdf = gpd.GeoDataFrame(
        {
            "LINEARID": [f"1100{i:04d}" for i in range(len(TIGER))],
            "FULLNAME": [n for n, _, _ in TIGER],
            "MTFCC": [c for _, c, _ in TIGER],
        },
        geometry=[shapely.LineString([(X0 + x, Y0 + y) for x, y in pts]) for _, _, pts in TIGER],
        crs=UTM,
    )
    gdf.to_file(path, engine="pyogrio")
    return path


def _reference(classes_out: tuple[str, ...]) -> nx.Graph:
    """The same lines in networkx, nodes at vertices: lines meet exactly where they share one."""
    g = nx.Graph()
    for _, cls, pts in TIGER:
        if cls in classes_out:
            continue
        for a, b in itertools.pairwise(pts):
            g.add_edge(a, b, length=float(np.hypot(b[0] - a[0], b[1] - a[1])))
    return g


def _graph(net: StreetNetwork) -> nx.MultiGraph:
    return net.to_networkx()


def _node(net: StreetNetwork, x: float, y: float) -> int:
    d = np.hypot(net.x - (X0 + x), net.y - (Y0 + y))
    i = int(np.argmin(d))
    assert d[i] < 1e-3, f"no node at ({x}, {y})"
    return i


def _has_node(net: StreetNetwork, x: float, y: float) -> bool:
    return bool((np.hypot(net.x - (X0 + x), net.y - (Y0 + y)) < 1e-3).any())


def _walk(net: StreetNetwork, a: tuple[float, float], b: tuple[float, float]) -> float:
    g = _graph(net)
    try:
        return float(nx.shortest_path_length(g, _node(net, *a), _node(net, *b), weight="length"))
    except nx.NetworkXNoPath:
        return float("inf")


def test_bridge_stays_apart_and_shared_vertices_meet(tmp_path: Path) -> None:
    path = _tiger(tmp_path / "tiger.gpkg")
    net = load_network(path, split_crossings=False, largest_component=False, use_cache=False)
    # Main St and Oak Ave share the vertex (200, 0): one can turn there
    assert _walk(net, (0, 0), (200, 200)) == pytest.approx(400.0)
    assert _walk(net, (400, 0), (200, -200)) == pytest.approx(400.0)
    # the bridge crosses Main St with no shared vertex: no way between them
    assert not _has_node(net, 300, 0)
    assert _walk(net, (0, 0), (300, -200)) == float("inf")
    # the interstate and its ramp are not walkable: not in the network
    assert not _has_node(net, 0, 100) and not _has_node(net, 350, 0)
    assert net.edge_length_m.sum() == pytest.approx(400 + 400 + 400 + 100)
    report = net.build_report
    assert report["not_walkable"] == {"MTFCC S1100": 1, "MTFCC S1630": 1}
    assert report["repair"]["shared_vertices_joined"] >= 1 and report["repair"]["crossings_split"] == 0
    # every walking distance between line ends equals networkx's on the same walkable lines
    ref = _reference(("S1100", "S1630"))
    ends = sorted({p for _, cls, pts in TIGER if cls not in ("S1100", "S1630") for p in (pts[0], pts[-1])})
    for a in ends:
        for b in ends:
            want = (
                nx.shortest_path_length(ref, a, b, weight="length")
                if nx.has_path(ref, a, b)
                else float("inf")
            )
            assert _walk(net, a, b) == pytest.approx(want), (a, b)


def test_split_crossings_joins_the_bridge(tmp_path: Path) -> None:
    path = _tiger(tmp_path / "tiger.gpkg")
    net = load_network(path, split_crossings=True, largest_component=False, use_cache=False)
    assert _walk(net, (0, 0), (300, -200)) == pytest.approx(300 + 200)


def test_all_road_classes_and_network_where(tmp_path: Path) -> None:
    path = _tiger(tmp_path / "tiger.gpkg")
    every = load_network(
        path, split_crossings=False, largest_component=False, all_road_classes=True, use_cache=False
    )
    assert _has_node(every, 0, 100) and _has_node(every, 350, 0)
    # the interstate shares vertices with Oak Ave and the bridge: they meet there too
    assert _walk(every, (0, 0), (300, -200)) == pytest.approx(200 + 100 + 100 + 300)
    no_alley = load_network(
        path, split_crossings=False, largest_component=False, where="MTFCC <> 'S1730'", use_cache=False
    )
    assert not _has_node(no_alley, 0, -100)
    assert no_alley.build_report["left_out_by_where"] == 1
    with pytest.raises(InputError, match=r"no column named 'ROAD_CLASS'.*MTFCC"):
        load_network(path, where="ROAD_CLASS = 'x'", use_cache=False)
    with pytest.raises(InputError, match="no street lines left"):
        load_network(path, where="MTFCC = 'S1100'", use_cache=False)
    with pytest.raises(InputError, match=r"--network-where. filters street line layers"):
        load_network("place:Seattle", where="MTFCC = 'S1400'")


def test_osm_classes_in_a_line_layer(tmp_path: Path) -> None:
    lines = [
        ("residential", None, None, [(0, 0), (100, 0)]),
        ("trunk", None, None, [(100, 0), (200, 0)]),
        ("trunk", None, "both", [(200, 0), (300, 0)]),
        ("motorway_link", "yes", None, [(300, 0), (400, 0)]),
        ("motorway", None, None, [(400, 0), (500, 0)]),
    ]
    gdf = gpd.GeoDataFrame(
        {
            "highway": [h for h, *_ in lines],
            "foot": [f for _, f, _, _ in lines],
            "sidewalk": [s for _, _, s, _ in lines],
        },
        geometry=[shapely.LineString([(X0 + x, Y0 + y) for x, y in p]) for *_, p in lines],
        crs=UTM,
    )
    gdf.to_file(tmp_path / "osm.gpkg", engine="pyogrio")
    net = load_network(tmp_path / "osm.gpkg", largest_component=False, use_cache=False)
    assert net.build_report["not_walkable"] == {"highway trunk": 1, "highway motorway": 1}
    assert net.edge_length_m.sum() == pytest.approx(300.0)


def test_network_filters_in_the_cache_key(tmp_path: Path) -> None:
    path = _tiger(tmp_path / "tiger.gpkg")
    a = load_network(path, largest_component=False, cache_folder=tmp_path / "c")
    b = load_network(path, largest_component=False, all_road_classes=True, cache_folder=tmp_path / "c")
    c = load_network(path, largest_component=False, cache_folder=tmp_path / "c")  # from the cache
    assert b.edge_length_m.sum() > a.edge_length_m.sum() == pytest.approx(c.edge_length_m.sum())
    assert c.build_report["not_walkable"] == a.build_report["not_walkable"]


def test_inspect_a_centreline_layer(tmp_path: Path) -> None:
    path = _tiger(tmp_path / "tiger.gpkg")
    summary = line_layer_summary(path)
    assert summary["lines_read"] == 6 and summary["lines_used"] == 4
    assert summary["classes"]["MTFCC"] == {"S1400": 3, "S1100": 1, "S1630": 1, "S1730": 1}
    r = run_cli("inspect", str(path), cache=tmp_path / "cache")
    assert r.returncode == 0, r.stderr
    assert "street line layer, 6 features read, 4 used" in r.stdout
    assert "not walkable: MTFCC S1100" in r.stdout and "S1630" in r.stdout
