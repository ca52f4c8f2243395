"""Snapping (the compiled grid search) against shapely's STRtree and line_locate_point.

The reference here is written from shapely alone: ``STRtree.query_nearest`` with every
match at the least distance, the lowest edge id among them, then ``line_locate_point``
on that edge. The compiled kernel computes distances and positions operation for
operation as GEOS does, so the comparison is exact, ties included.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from siting import network as network_mod
from siting._threads import available_cores, cgroup_cpu_limit
from siting.network import StreetNetwork

UTM = "EPSG:32635"


def _network(lines: list[np.ndarray]) -> StreetNetwork:
    """A network whose edges are the given polylines (nodes: their ends, merged at 1 mm)."""
    coords = np.concatenate(lines)
    offsets = np.concatenate([[0], np.cumsum([len(c) for c in lines])]).astype(np.int64)
    ends = np.round(np.vstack([[c[0] for c in lines], [c[-1] for c in lines]]), 3)
    uniq, inv = np.unique(ends, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    m = len(lines)
    return StreetNetwork(
        crs=UTM,
        x=uniq[:, 0].copy(),
        y=uniq[:, 1].copy(),
        edge_u=inv[:m].astype(np.int64),
        edge_v=inv[m:].astype(np.int64),
        edge_length_m=shapely.length(
            shapely.linestrings(coords, indices=np.repeat(np.arange(m), np.diff(offsets)))
        ),
        edge_offsets=offsets,
        edge_coords=coords.astype(np.float64),
    )


def _reference(net: StreetNetwork, geoms: np.ndarray, limit: float) -> tuple[np.ndarray, ...]:
    """Index, edge, offset, leg and dropped, by shapely alone."""
    edges = shapely.linestrings(
        net.edge_coords, indices=np.repeat(np.arange(net.n_edges), np.diff(net.edge_offsets))
    )
    tree = shapely.STRtree(edges)
    bound = limit if 0 < limit < np.inf else None
    (pi, ei), d = tree.query_nearest(geoms, max_distance=bound, return_distance=True, all_matches=True)
    best: dict[int, tuple[int, float]] = {}
    for p, e, dist in zip(pi.tolist(), ei.tolist(), d.tolist(), strict=True):
        if dist <= limit and (p not in best or e < best[p][0]):
            best[p] = (e, dist)
    index = np.array(sorted(best), dtype=np.int64)
    edge = np.array([best[p][0] for p in index], dtype=np.int64)
    leg = np.array([best[p][1] for p in index])
    g = geoms[index]
    near = np.array(
        [
            p if shapely.get_type_id(p) == 0 else shapely.shortest_line(edges[e], p).coords[0]
            for p, e in zip(g, edge, strict=True)
        ],
        dtype=object,
    )
    near = np.array([shapely.Point(p) if isinstance(p, tuple) else p for p in near], dtype=object)
    offset = np.clip(shapely.line_locate_point(edges[edge], near), 0, net.edge_length_m[edge])
    dropped = np.setdiff1d(np.arange(geoms.size), index)
    return index, edge, offset, leg, dropped


def _assert_same(net: StreetNetwork, geoms: np.ndarray, limit: float = 250.0, **kw: int) -> None:
    got = net.snap(geoms, max_snap_m=limit, **kw)
    index, edge, offset, leg, dropped = _reference(net, geoms, limit)
    np.testing.assert_array_equal(got.index, index)
    np.testing.assert_array_equal(got.edge, edge)
    np.testing.assert_array_equal(got.offset_m, offset)
    np.testing.assert_array_equal(got.leg_m, leg)
    np.testing.assert_array_equal(got.dropped, dropped)
    assert got.n_input == geoms.size


def _random_polylines(rng: np.random.Generator, n: int, span: float) -> list[np.ndarray]:
    lines = []
    for _ in range(n):
        k = int(rng.integers(2, 6))
        start = rng.uniform(0, span, 2)
        steps = rng.normal(0, 40, (k - 1, 2))
        if k > 2 and rng.random() < 0.2:
            steps[0] = 0.0  # a repeated vertex: a zero-length segment inside the line
        line = np.vstack([start, start + np.cumsum(steps, axis=0)])
        lines.append(line + np.array([500_000.0, 6_670_000.0]))
    return lines


def test_random_polylines_and_points_in_and_far_outside() -> None:
    rng = np.random.default_rng(3)
    net = _network(_random_polylines(rng, 400, 3000.0))
    x = rng.uniform(-1500, 4500, 6000) + 500_000.0
    y = rng.uniform(-1500, 4500, 6000) + 6_670_000.0
    pts = shapely.points(x, y)
    _assert_same(net, pts, limit=250.0)
    _assert_same(net, pts, limit=np.inf)  # the farthest points still find an edge
    _assert_same(net, pts, limit=0.0)


def test_exact_ties_go_to_the_lowest_edge_id() -> None:
    # a street grid on whole metres, edges listed in a shuffled order; points on nodes,
    # on edge midpoints and at cell centres are equally near to 2-4 edges
    rng = np.random.default_rng(0)
    lines = []
    for i in range(6):
        for j in range(6):
            if i < 5:
                lines.append(np.array([[i * 100.0, j * 100.0], [(i + 1) * 100.0, j * 100.0]]))
            if j < 5:
                lines.append(np.array([[i * 100.0, j * 100.0], [i * 100.0, (j + 1) * 100.0]]))
    lines = [lines[k] for k in rng.permutation(len(lines))]
    net = _network(lines)
    g = np.arange(-50.0, 600.0, 25.0)
    gx, gy = np.meshgrid(g, g)
    pts = shapely.points(gx.ravel(), gy.ravel())
    _assert_same(net, pts)
    got = net.snap(pts)
    assert (np.bincount(got.edge) > 0).sum() > 40  # the ties did not all go one way


def test_threads_and_chunks_give_identical_results(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    net = _network(_random_polylines(rng, 300, 2000.0))
    pts = shapely.points(rng.uniform(0, 2000, 5000) + 500_000.0, rng.uniform(0, 2000, 5000) + 6_670_000.0)
    monkeypatch.setattr(network_mod, "_SNAP_CHUNK", 97)
    one = net.snap(pts, workers=1)
    for workers in (2, 5):
        other = net.snap(pts, workers=workers)
        for attr in ("index", "edge", "offset_m", "leg_m", "dropped"):
            np.testing.assert_array_equal(getattr(one, attr), getattr(other, attr))
    _assert_same(net, pts, workers=3)


def test_missing_empty_and_other_geometry_types() -> None:
    rng = np.random.default_rng(11)
    net = _network(_random_polylines(rng, 50, 800.0))
    o = np.array([500_000.0, 6_670_000.0])
    geoms = np.array(
        [
            shapely.Point(*(o + 100)),
            None,
            shapely.from_wkt("POINT EMPTY"),
            shapely.multipoints([o + 300, o + 310]),
            shapely.box(*(o + 400), *(o + 420)),
            shapely.Point(*(o + 5000)),
            shapely.Point(*(o + 200)),
        ],
        dtype=object,
    )
    got = net.snap(geoms)
    assert {1, 2, 5} <= set(got.dropped.tolist())
    _assert_same(net, geoms)


def test_points_on_the_network_have_no_leg() -> None:
    rng = np.random.default_rng(5)
    net = _network(_random_polylines(rng, 100, 1000.0))
    edges = net.edge_geometries()
    e = rng.integers(0, net.n_edges, 300)
    pts = shapely.line_interpolate_point(edges[e], rng.uniform(0, 1, 300), normalized=True)
    got = net.snap(pts)
    np.testing.assert_allclose(got.leg_m, 0.0, atol=1e-6)
    _assert_same(net, pts)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_lines=st.integers(1, 40),
    scale=st.sampled_from([0.01, 1.0, 1000.0]),
)
def test_matches_shapely_on_random_cases(seed: int, n_lines: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    lines = [(c - 500_000.0) * scale / 40 + 500_000.0 for c in _random_polylines(rng, n_lines, 200.0)]
    net = _network(lines)
    c = net.edge_coords
    lo, hi = c.min(axis=0) - 50 * scale, c.max(axis=0) + 50 * scale
    pts = shapely.points(rng.uniform(lo[0], hi[0], 200), rng.uniform(lo[1], hi[1], 200))
    _assert_same(net, pts, limit=30.0 * scale)


def test_available_cores_respects_affinity_and_cgroup(tmp_path: pytest.TempPathFactory) -> None:
    import os

    n = available_cores()
    assert 1 <= n <= len(os.sched_getaffinity(0))
    # a cgroup v2 limit of 1.5 CPUs in a nested group, and v1 quota files
    root = tmp_path / "cg"  # type: ignore[operator]
    (root / "a" / "b").mkdir(parents=True)
    (root / "cpu.max").write_text("max 100000\n")
    (root / "a" / "cpu.max").write_text("150000 100000\n")
    (root / "a" / "b" / "cpu.max").write_text("max 100000\n")
    proc = tmp_path / "cgroup"  # type: ignore[operator]
    proc.write_text("0::/a/b\n")
    assert cgroup_cpu_limit(root, proc) == 1.5
    (root / "cpu").mkdir()
    (root / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (root / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    proc.write_text("4:cpu,cpuacct:/\n")
    assert cgroup_cpu_limit(root, proc) == 0.5
    (root / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_limit(root, proc) is None
