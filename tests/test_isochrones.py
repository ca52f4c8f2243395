"""Isochrone polygons against the buffer-every-piece reference (tests/isochrone_reference.py)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from isochrone_reference import reference_isochrone

from siting.isochrones import _reached_pieces, isochrones
from siting.network import Snapped, StreetNetwork
from siting.reach import node_reach

X0, Y0 = 385_000.0, 6_672_000.0


def _lines() -> list[shapely.LineString]:
    L = shapely.LineString
    out = []
    # a 6 x 6 grid of 60 m blocks (faces too narrow to leave a hole)
    for k in range(7):
        out += [L([(X0 + 60 * k, Y0 + 60 * j), (X0 + 60 * k, Y0 + 60 * (j + 1))]) for j in range(6)]
        out += [L([(X0 + 60 * j, Y0 + 60 * k), (X0 + 60 * (j + 1), Y0 + 60 * k)]) for j in range(6)]
    # a wide block east of it (a hole), with a winding edge (many vertices) on its far side
    e = X0 + 360
    out += [L([(e, Y0), (e + 400, Y0)]), L([(e, Y0 + 360), (e + 400, Y0 + 360)])]
    wiggle = [(e + 400 + 15 * np.sin(t / 3), Y0 + 12 * t) for t in range(31)]
    out += [L(wiggle[:16]), L(wiggle[15:])]
    # an island ring inside the wide block, joined by one path (a face with a hole, a bridge)
    out += [
        L([(e + 150, Y0 + 180), (e + 150, Y0 + 130), (e + 250, Y0 + 130), (e + 250, Y0 + 180)]),
        L([(e + 250, Y0 + 180), (e + 250, Y0 + 230), (e + 150, Y0 + 230), (e + 150, Y0 + 180)]),
        L([(e + 150, Y0 + 180), (e + 60, Y0 + 185), (e, Y0 + 180)]),
    ]
    # dead ends: one into the wide block, one out of the grid
    out += [
        L([wiggle[15], (e + 330, Y0 + 170)]),
        L([(X0, Y0 + 180), (X0 - 120, Y0 + 200), (X0 - 200, Y0 + 150)]),
    ]
    # a footbridge from that dead end over the grid without meeting it, and a duplicated edge
    out.append(L([(X0 - 200, Y0 + 150), (X0 + 150, Y0 + 300), (X0 + 170, Y0 + 420)]))
    out.append(L([(X0, Y0), (X0, Y0 + 60)]))
    return out


@pytest.fixture(scope="module")
def net() -> StreetNetwork:
    return StreetNetwork.from_lines(gpd.GeoDataFrame(geometry=_lines(), crs=3067))


def _sources(net: StreetNetwork) -> Snapped:
    pts = shapely.points(
        [
            (X0 + 130, Y0 + 70),
            (X0 + 560, Y0 + 5),
            (X0 - 60, Y0 + 110),
            (X0 + 770, Y0 + 200),
            (X0 + 30, Y0 + 0.5),
        ]
    )
    s = net.snap(gpd.GeoSeries(pts, crs=3067))
    leg = s.leg_m.copy()
    leg[4] = 150.0  # its leg uses up the shortest cutoff exactly: a lone point
    return Snapped(s.index, s.edge, s.offset_m, leg, s.dropped, s.n_input)


CUTS = [150.0, 400.0, 1500.0]


def test_same_area_as_buffering_every_piece(net: StreetNetwork) -> None:
    src = _sources(net)
    got = isochrones(net, src, CUTS, buffer_m=35.0, workers=1)
    reach = node_reach(net, src, max(CUTS))
    assert got["source"].tolist() == np.repeat(np.arange(len(src)), 3).tolist()
    assert got["cutoff_m"].tolist() == CUTS * len(src)
    for row in got.itertuples():
        i = int(row.source)
        nodes, metres = reach.row(i)
        ref = reference_isochrone(
            net,
            nodes,
            metres,
            row.cutoff_m,
            int(src.edge[i]),
            float(src.offset_m[i]),
            float(src.leg_m[i]),
            35.0,
        )
        assert row.geometry.is_valid
        assert ref.area > 0
        assert shapely.symmetric_difference(row.geometry, ref).area < 1e-3 * ref.area, (i, row.cutoff_m)
    # the wide block's middle is farther than 35 m from every street: a hole
    big = got.geometry.iloc[3 * 1 + 2]
    assert not big.contains(shapely.Point(X0 + 360 + 320, Y0 + 300))
    assert big.contains(shapely.Point(X0 + 360 + 200, Y0 + 150))  # by the island's street


def test_threads_give_the_same_polygons(net: StreetNetwork) -> None:
    src = _sources(net)
    one = isochrones(net, src, CUTS, workers=1).geometry.to_wkb()
    two = isochrones(net, src, CUTS, workers=3).geometry.to_wkb()
    assert one.tolist() == two.tolist()


def test_partial_edges_end_at_the_reached_distance(net: StreetNetwork) -> None:
    src = _sources(net)
    reach = node_reach(net, src, max(CUTS))
    dist = np.full(net.n_nodes, np.inf)
    geoms = net.edge_geometries()
    checked = 0
    for i in range(len(src)):
        nodes, metres = reach.row(i)
        dist[nodes] = metres
        for c in CUTS:
            lines, point = _reached_pieces(
                net, dist, nodes, c, int(src.edge[i]), float(src.offset_m[i]), float(src.leg_m[i])
            )
            assert (point is not None) == (i == 4 and c == 150.0)
            ends = (
                shapely.get_coordinates(shapely.get_point(lines, 0)),
                shapely.get_coordinates(shapely.get_point(lines, -1)),
            )
            for e in range(net.n_edges):
                u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
                ru, rv = c - dist[u], c - dist[v]
                if (ru >= 0 and rv >= 0 and ru + rv >= length) or e == int(src.edge[i]):
                    continue
                xy = shapely.get_coordinates(geoms[e])
                for r, start, sign in ((ru, xy[0], 1), (rv, xy[-1], -1)):
                    if r <= 0:
                        continue
                    # the piece from this end: starts at the edge's end, ends r metres along
                    tip = shapely.get_coordinates(
                        shapely.line_interpolate_point(geoms[e], r if sign > 0 else length - r)
                    )[0]
                    k = np.flatnonzero(
                        (np.all(ends[0] == start, axis=1) & np.all(np.abs(ends[1] - tip) < 1e-9, axis=1))
                        | (np.all(ends[1] == start, axis=1) & np.all(np.abs(ends[0] - tip) < 1e-9, axis=1))
                    )
                    assert k.size >= 1, (i, c, e)
                    assert abs(shapely.length(lines[k[0]]) - r) < 1e-9
                    assert shapely.hausdorff_distance(lines[k[0]], geoms[e]) <= length - r + 1e-9
                    checked += 1
        dist[nodes] = np.inf
    assert checked > 20
